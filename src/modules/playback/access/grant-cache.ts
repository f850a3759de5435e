// The facts behind playback grants, kept per node so the key endpoint does
// not ask PostgreSQL on every fetch — and revocation still ends a grant at
// once, on every node:
//
// - An entry is only ever used while this node listens on the channel
//   haven_playback_changed (change-listener.ts). Triggers announce every
//   change that can end a grant when its transaction commits
//   (migrations/0019_playback_changes.ts, 0024_identity_groups.ts); the
//   announcement drops the video's (or the whole tenant's, or one member's)
//   entries.
// - A notification takes a moment to arrive, and "at once" means at once:
//   before a fetch reads the cache, synced() waits for one round trip on
//   the listening connection that began after the fetch arrived. PostgreSQL
//   sends a session its pending notifications before it answers, so every
//   change committed before the fetch has been applied by then. Concurrent
//   fetches share one round trip (change-listener.ts).
// - While the listener is down, or before it is up, nothing is read from or
//   written to the cache: every fetch asks the database. Going down or
//   coming back clears everything, so a notification missed meanwhile can
//   never keep a revoked grant alive.
// - A load that was in flight when any change arrived is not stored (its
//   answer may predate the change); the generation counter tells.
// - The clock conditions (time window, link expiry) are kept as times and
//   checked on every fetch, so an entry stays right as time passes.
// - Entries also age out (ttlMs), a last bound should a connection die
//   without the node noticing.
import type { TenantRole } from '../../identity/actor.ts';
import type { GrantBasis } from '../contracts.ts';
import { membersRuleRefusal, type MembersRule } from './policy.ts';

/** What haven_playback_grant_facts returns; undefined when the video (or its tenant) is gone or in the trash. */
export interface GrantFacts {
  policyVersion: number;
  availableFrom: number | null;
  availableUntil: number | null;
  /** The grant's link exists and is not revoked (true when the grant has no link). */
  linkOk: boolean;
  linkExpiresAt: number | null;
  /** The member viewer is tenant staff (editor and above), who may preview outside the window. */
  staff: boolean;
  /** The member viewer's role and groups now; null when they are no longer an active member (or the viewer is no member). */
  member: { role: TenantRole; groupIds: string[] } | null;
  /** The policy's members rule now, if it has one. */
  membersRule: MembersRule | null;
}

/** Whether a grant holds now, given its facts (migrations/0010's haven_playback_grant_valid, and the members rule for grants it admitted). */
export function grantHolds(facts: GrantFacts | undefined, basis: GrantBasis, now: number): boolean {
  if (!facts) return false;
  if (facts.policyVersion !== basis.policyVersion) return false;
  if (basis.linkId && (!facts.linkOk || (facts.linkExpiresAt !== null && facts.linkExpiresAt <= now))) return false;
  const inWindow = (facts.availableFrom === null || facts.availableFrom <= now) && (facts.availableUntil === null || facts.availableUntil > now);
  if (facts.staff) return true;
  // Admitted by the members rule: still an active member whom the rule admits (role, groups).
  if (basis.membersRule && (!facts.member || !facts.membersRule || membersRuleRefusal(facts.membersRule, facts.member))) return false;
  return inWindow;
}

/** The cache key: everything the facts depend on except time and version (tokens of every version share one entry). */
export const factsKey = (basis: GrantBasis): string =>
  `${basis.tenantId}/${basis.videoId}/${basis.linkId ?? ''}/${basis.viewer.kind === 'member' ? basis.viewer.id : ''}`;

interface Entry { facts: GrantFacts | undefined; tenantId: string; videoId: string; memberId: string | undefined; storedAt: number }

export interface GrantCache {
  /** The cached facts (hit: true) — only while the listener is live and the entry is young enough. */
  lookup(key: string): { hit: true; facts: GrantFacts | undefined } | { hit: false };
  /** Call before loading: the load's answer may be stored only if nothing changed meanwhile. */
  generation(): number;
  store(key: string, basis: GrantBasis, facts: GrantFacts | undefined, loadedAt: number): void;
  videoChanged(videoId: string): void;
  tenantChanged(tenantId: string): void;
  /** One person's standing in a tenant changed (their groups): drop their entries there. */
  memberChanged(tenantId: string, userId: string): void;
  /** Anything else (an unreadable notification): forget everything. */
  everythingChanged(): void;
  /**
   * Resolves true once every change committed before the call has reached
   * the cache; false when that cannot be known (listener down): ask the database.
   */
  synced(): Promise<boolean>;
  /** The listener came up (with its barrier) or went down; either way the cache starts empty. */
  setLive(live: false): void;
  setLive(live: true, barrier: () => Promise<boolean>): void;
  readonly live: boolean;
  readonly size: number;
}

export function createGrantCache(opts: { maxEntries: number; ttlMs: number; now?: () => number }): GrantCache {
  const entries = new Map<string, Entry>();
  const now = opts.now ?? Date.now;
  let generation = 0;
  let live = false;
  let barrier: (() => Promise<boolean>) | undefined;

  const dropWhere = (match: (e: Entry) => boolean) => {
    generation++;
    for (const [key, e] of entries) if (match(e)) entries.delete(key);
  };

  return {
    lookup(key) {
      if (!live) return { hit: false };
      const e = entries.get(key);
      if (!e) return { hit: false };
      if (now() - e.storedAt > opts.ttlMs) {
        entries.delete(key);
        return { hit: false };
      }
      return { hit: true, facts: e.facts };
    },
    generation: () => generation,
    store(key, basis, facts, loadedAt) {
      if (!live || loadedAt !== generation) return;
      entries.delete(key);
      entries.set(key, { facts, tenantId: basis.tenantId, videoId: basis.videoId, memberId: basis.viewer.kind === 'member' ? basis.viewer.id : undefined, storedAt: now() });
      // Oldest first: a Map keeps insertion order.
      while (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value!);
    },
    videoChanged: (videoId) => dropWhere((e) => e.videoId === videoId),
    tenantChanged: (tenantId) => dropWhere((e) => e.tenantId === tenantId),
    memberChanged: (tenantId, userId) => dropWhere((e) => e.tenantId === tenantId && e.memberId === userId),
    everythingChanged: () => dropWhere(() => true),
    synced() {
      return live && barrier ? barrier() : Promise.resolve(false);
    },
    setLive(next: boolean, sync?: () => Promise<boolean>) {
      generation++;
      entries.clear();
      live = next;
      barrier = next ? sync : undefined;
    },
    get live() {
      return live;
    },
    get size() {
      return entries.size;
    },
  };
}
