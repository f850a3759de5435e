// Managing who may watch: the policy (with its optional password), unlisted
// links, and the viewer's password unlock. Every change is audited in its
// transaction; the password never leaves this file except as its hash.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../../platform/crypto/password.ts';
import { AppError } from '../../../platform/errors.ts';
import { countInWindow } from '../../../platform/http/rate-limit-store.ts';
import type { Tx } from '../../../platform/db/database.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { actorUserId, type RequestContext } from '../../identity/actor.ts';
import { authorize } from '../../identity/access.ts';
import type { CookieSigner } from './cookies.ts';
import type { GroupDirectory } from './groups-port.ts';
import { notFoundVideo, storedPolicy } from './decide.ts';
import { checkPolicy, type Policy, policySchema, policyShape } from './policy.ts';
import * as store from './store.ts';

export const PASSWORD_MIN = 8;
export const UNLOCK_FAILURES_PER_WINDOW = 10;
export const UNLOCK_WINDOW_MS = 15 * 60_000;

export const policyUpdateSchema = z.object({
  ...policyShape,
  password: z.string().min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`).max(200).nullable().optional()
    .describe('Write-only: sets the password (null removes it); never returned'),
}).strict().superRefine(checkPolicy);
export type PolicyUpdate = z.infer<typeof policyUpdateSchema>;

export interface AccessView extends Policy {
  version: number;
  hasPassword: boolean;
  updatedAt: Date | null;
}

export interface LinkView { id: string; label: string; expiresAt: Date | null; revokedAt: Date | null; createdAt: Date; state: 'active' | 'expired' | 'revoked' }
export interface CreatedLink { id: string; label: string; expiresAt: Date | null; url: string; secret: string }

const linkState = (l: store.LinkRow, now: Date): LinkView['state'] => (l.revoked_at ? 'revoked' : l.expires_at && l.expires_at <= now ? 'expired' : 'active');
const toLinkView = (l: store.LinkRow, now: Date): LinkView => ({ id: l.id, label: l.label, expiresAt: l.expires_at, revokedAt: l.revoked_at, createdAt: l.created_at, state: linkState(l, now) });

/** Which parts of the policy differ (field names only, never values of the password). */
function changedFields(before: Policy, after: Policy): string[] {
  const out: string[] = [];
  if (JSON.stringify(before.audiences) !== JSON.stringify(after.audiences)) out.push('audiences');
  const keys = new Set([...Object.keys(before.conditions), ...Object.keys(after.conditions)]) as Set<keyof Policy['conditions']>;
  for (const k of [...keys].sort()) if (JSON.stringify(before.conditions[k]) !== JSON.stringify(after.conditions[k])) out.push(`conditions.${k}`);
  return out;
}

export function createAccessManagement(deps: { platform: Platform; audit: AuditService; cookies: CookieSigner; groups: GroupDirectory }) {
  const { platform: { db, clock, pseudonymize }, audit, cookies, groups } = deps;

  /**
   * Every group a members rule names must be one of the tenant's. An id the
   * stored policy already had may stay after its group was deleted (it
   * admits no one), so a client can save the rest of a policy it read back.
   */
  async function assertGroupsExist(tx: Tx, tenantId: string, next: Policy, before: Policy): Promise<void> {
    const named = (p: Policy) => p.audiences.flatMap((a) => (a.type === 'members' ? a.groups ?? [] : []));
    const kept = new Set(named(before));
    const added = [...new Set(named(next))].filter((id) => !kept.has(id));
    if (!added.length) return;
    const found = new Set(await groups.existingGroupIds(tx, tenantId, added));
    const missing = added.filter((id) => !found.has(id));
    if (missing.length) {
      throw new AppError('group_not_found', 404, `No group with ${missing.length === 1 ? 'that id' : 'those ids'} exists in this organization: ${missing.join(', ')}.`, { groups: missing });
    }
  }

  async function view(ctx: RequestContext & { tenantId: string }, videoId: string): Promise<AccessView> {
    return db.withTenant(ctx.tenantId, async (tx) => {
      if (!(await store.videoExists(tx, ctx.tenantId, videoId))) throw notFoundVideo();
      const row = await store.policyRow(tx, ctx.tenantId, videoId);
      return { ...storedPolicy(row?.policy), version: row?.version ?? 0, hasPassword: Boolean(row?.password_hash), updatedAt: row?.updated_at ?? null };
    });
  }

  return {
    async get(ctx: RequestContext, videoId: string): Promise<AccessView> {
      authorize(ctx, 'videos:read');
      return view(ctx, videoId);
    },

    async update(ctx: RequestContext, videoId: string, input: PolicyUpdate): Promise<AccessView> {
      authorize(ctx, 'videos:write');
      const { password, ...rest } = input;
      const next = policySchema.parse(rest);
      // argon2 before the transaction: no row lock is held while it runs.
      const newHash = typeof password === 'string' ? await hashPassword(password) : password;
      const tenantId = ctx.tenantId;
      await db.withTenant(tenantId, async (tx) => {
        if (!(await store.videoExists(tx, tenantId, videoId, true))) throw notFoundVideo();
        const before = await store.policyRow(tx, tenantId, videoId);
        await assertGroupsExist(tx, tenantId, next, storedPolicy(before?.policy));
        const passwordHash = newHash === undefined ? before?.password_hash ?? null : newHash;
        if (next.audiences.some((a) => a.type === 'password') && !passwordHash) {
          throw new AppError('password_missing', 400, 'A video open to password holders needs a password: send one in "password".');
        }
        const passwordChanged = newHash !== undefined && (newHash !== null || Boolean(before?.password_hash));
        const changed = changedFields(storedPolicy(before?.policy), next);
        if (passwordChanged) changed.push('password');
        const saved = await store.upsertPolicy(tx, {
          video_id: videoId, tenant_id: tenantId, policy: next,
          version: (before?.version ?? 0) + 1,
          password_hash: passwordHash,
          password_version: (before?.password_version ?? 0) + (passwordChanged ? 1 : 0),
          available_from: next.conditions.availableFrom ?? null,
          available_until: next.conditions.availableUntil ?? null,
          updated_by: actorUserId(ctx.actor) ?? null,
        }, clock.now());
        await audit.record(tx, ctx, {
          action: 'video.access.update', target: { type: 'video', id: videoId },
          details: { changed, version: saved.version, audiences: next.audiences.map((a) => a.type), has_password: Boolean(passwordHash) },
        });
      });
      return view(ctx, videoId);
    },

    async createLink(ctx: RequestContext, videoId: string, input: { label?: string; expiresAt?: Date }): Promise<CreatedLink> {
      authorize(ctx, 'videos:write');
      const now = clock.now();
      if (input.expiresAt && input.expiresAt <= now) throw new AppError('invalid_expiry', 400, 'expiresAt must be in the future.');
      const secret = randomBytes(24).toString('base64url');
      const tenantId = ctx.tenantId;
      const link = await db.withTenant(tenantId, async (tx) => {
        if (!(await store.videoExists(tx, tenantId, videoId))) throw notFoundVideo();
        const row = await store.insertLink(tx, {
          id: randomUUID(), tenant_id: tenantId, video_id: videoId, label: input.label ?? '', expires_at: input.expiresAt ?? null,
          created_by: actorUserId(ctx.actor) ?? null, secret_hash: createHash('sha256').update(secret).digest(),
        });
        await audit.record(tx, ctx, {
          action: 'video.link.create', target: { type: 'video', id: videoId },
          details: { link_id: row.id, expires_at: row.expires_at?.toISOString() ?? null },
        });
        return row;
      });
      return { id: link.id, label: link.label, expiresAt: link.expires_at, url: `/watch/${videoId}?link=${secret}`, secret };
    },

    async listLinks(ctx: RequestContext, videoId: string): Promise<LinkView[]> {
      authorize(ctx, 'videos:read');
      const now = clock.now();
      return db.withTenant(ctx.tenantId, async (tx) => {
        if (!(await store.videoExists(tx, ctx.tenantId, videoId))) throw notFoundVideo();
        return (await store.linksOf(tx, ctx.tenantId, videoId)).map((l) => toLinkView(l, now));
      });
    },

    async revokeLink(ctx: RequestContext, videoId: string, linkId: string): Promise<void> {
      authorize(ctx, 'videos:write');
      const tenantId = ctx.tenantId;
      await db.withTenant(tenantId, async (tx) => {
        if (!(await store.videoExists(tx, tenantId, videoId))) throw notFoundVideo();
        const link = await store.linkById(tx, tenantId, videoId, linkId, true);
        if (!link) throw new AppError('link_not_found', 404, 'No link with that id exists for this video.');
        if (link.revoked_at) return;
        await store.revokeLink(tx, linkId, actorUserId(ctx.actor) ?? null, clock.now());
        await audit.record(tx, ctx, { action: 'video.link.revoke', target: { type: 'video', id: videoId }, details: { link_id: linkId } });
      });
    },

    /**
     * Checks a viewer's password for a video and returns the unlock cookie.
     * Attempts are counted per address and video before the hash is checked;
     * a correct password takes its attempt back off the count.
     */
    async unlock(ctx: RequestContext, videoId: string, password: string): Promise<{ name: string; value: string; expires: Date }> {
      const video = await db.withPlatform(async (tx) => {
        const v = await store.videoWithPolicy(tx, videoId);
        if (!v) return undefined;
        const row = await store.policyRow(tx, v.tenant_id, videoId);
        return { tenantId: v.tenant_id, row };
      });
      // Only a video with a password can be unlocked; to anyone else the endpoint does not exist.
      if (!video?.row?.password_hash || !storedPolicy(video.row.policy).audiences.some((a) => a.type === 'password')) throw notFoundVideo();
      const counterKey = `playback-unlock:${pseudonymize(ctx.ip ?? 'unknown')}:${videoId}`;
      const count = await countInWindow(db.appPool, counterKey, UNLOCK_WINDOW_MS);
      if (count.current > UNLOCK_FAILURES_PER_WINDOW) {
        const seconds = Math.max(1, Math.ceil(count.ttlMs / 1000));
        throw new AppError('too_many_attempts', 429, `Too many wrong passwords; try again in ${Math.ceil(seconds / 60)} minutes.`, { retryAfterSeconds: seconds });
      }
      const tenantId = video.tenantId;
      if (!(await verifyPassword(video.row.password_hash, password))) {
        await audit.recordNow({ ...ctx, tenantId }, {
          action: 'playback.unlock.failed', outcome: 'failed', tenantId, target: { type: 'video', id: videoId }, details: { attempt: count.current },
        });
        throw new AppError('password_incorrect', 401, 'That password is not right.');
      }
      await db.appPool.query('update rate_limits set count = greatest(count - 1, 0) where key = $1', [counterKey]);
      const cookie = cookies.unlock(videoId, video.row.password_version, clock.now());
      return { name: `haven_unlock_${videoId}`, ...cookie };
    },
  };
}

export type AccessManagement = ReturnType<typeof createAccessManagement>;
