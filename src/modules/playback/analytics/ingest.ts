// View beacons in, view sessions out. A beacon is checked and folded into an
// in-memory buffer keyed by its playback id; every FLUSH_INTERVAL_MS (or
// sooner when FLUSH_AT sessions wait) the buffer is written with one
// multi-row upsert per tenant. A crash loses at most what arrived since the
// last flush (one interval); close() flushes what is left.
//
// Nothing the client says is taken as is: watch time and position are capped
// by the video's duration in the upsert itself, completion is decided from
// the capped position, counts only grow by what one beacon can carry.
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { Logger } from '../../../platform/log.ts';
import type { Database, Tx } from '../../../platform/db/database.ts';
import type { PlaybackGrant } from '../contracts.ts';
import type { VisitorHasher } from './salts.ts';
import { dayOf } from './salts.ts';
import type { AnalyticsSettings } from './settings.ts';
import { type Device, ipForPolicy } from './viewer.ts';
import { withoutRestricted } from './restrictions.ts';

export const MAX_BEACON_BYTES = 16 * 1024;
export const FLUSH_INTERVAL_MS = 200;
export const FLUSH_AT = 500;
/** Sessions waiting in memory before new beacons are refused with 503 (the database is not keeping up). */
export const MAX_BUFFERED = 50_000;
const MAX_RENDITIONS = 16;
const MAX_REBUFFER_MS = 10 * 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const beaconEventTypes = ['start', 'progress', 'quality', 'rebuffer', 'end'] as const;

const seconds = z.number().min(0).max(7 * 86_400);
export const beaconSchema = z.object({
  token: z.string().min(1).max(1024).describe('The playback token of this view'),
  playbackId: z.uuid('must be the playback id of the token'),
  events: z.array(z.object({
    type: z.enum(beaconEventTypes),
    at: z.number().int().min(0).max(8.64e15).describe('Client time, ms since the epoch'),
    position: seconds.describe('Playhead, seconds'),
    watched: seconds.describe('Seconds watched in this view so far'),
    rendition: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a rendition name').optional(),
    durationMs: z.number().int().min(0).max(7 * 86_400_000).optional().describe('Length of a rebuffer, ms (counted up to 10 minutes)'),
  }).strict()).min(1, 'needs at least one event').max(50, 'may carry at most 50 events'),
  screen: z.object({ width: z.number().int().min(0).max(65_535), height: z.number().int().min(0).max(65_535) }).strict().optional().describe('Kept when both sides are 1–16384 pixels'),
}).strict();
export type Beacon = z.infer<typeof beaconSchema>;

/** Where the beacon came from, as the HTTP layer saw it. */
export interface BeaconOrigin {
  ip: string;
  userAgent: string | undefined;
  /** DNT: 1 or Sec-GPC: 1. */
  doNotTrack: boolean;
}

interface SessionDelta {
  tenantId: string;
  videoId: string;
  playbackId: string;
  day: string;
  startedAt: Date;
  lastEventAt: Date;
  watched: number;
  position: number;
  ended: boolean;
  qualitySwitches: number;
  rebufferCount: number;
  rebufferMs: number;
  renditions: Set<string>;
  device: Device;
  userAgent: string | null;
  screen: { width: number; height: number } | null;
  country: string | null;
  ip: string | null;
  viewerUserId: string | null;
  viewerAudienceId: string | null;
  visitorHash: string | null;
  /** Flush attempts that failed; dropped after the second. */
  failures: number;
}

export interface IngestDeps {
  db: Database;
  log: Logger;
  settings: (tenantId: string) => Promise<AnalyticsSettings>;
  hasher: VisitorHasher;
  country: (ip: string) => string | null;
  device: (userAgent: string | undefined) => Device;
  flushIntervalMs?: number;
}

export function createIngest(deps: IngestDeps) {
  const { db, log } = deps;
  let sessions = new Map<string, SessionDelta>();
  /** tenant → "video|day" → views of viewers who asked not to be tracked. */
  let anonymous = new Map<string, Map<string, number>>();
  let flushing: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const timer = setInterval(() => void flush(), deps.flushIntervalMs ?? FLUSH_INTERVAL_MS);
  timer.unref();

  async function accept(grant: PlaybackGrant, beacon: Beacon, origin: BeaconOrigin, now: Date): Promise<void> {
    if (stopped) throw new AppError('analytics_unavailable', 503, 'The server is shutting down; send the beacon again shortly.');
    if (sessions.size >= MAX_BUFFERED) throw new AppError('analytics_unavailable', 503, 'View analytics are behind; send the beacon again shortly.');
    const policy = await deps.settings(grant.tenantId);
    if (policy.honorDoNotTrack && origin.doNotTrack) {
      if (beacon.events.some((e) => e.type === 'start')) countAnonymousView(grant, now);
      return;
    }
    let s = sessions.get(beacon.playbackId);
    if (!s) {
      const userAgent = origin.userAgent ?? '';
      s = {
        tenantId: grant.tenantId, videoId: grant.videoId, playbackId: beacon.playbackId,
        day: dayOf(now), startedAt: now, lastEventAt: now,
        watched: 0, position: 0, ended: false, qualitySwitches: 0, rebufferCount: 0, rebufferMs: 0, renditions: new Set(),
        device: deps.device(origin.userAgent),
        userAgent: policy.storeUserAgent && userAgent ? userAgent.slice(0, 512) : null,
        screen: null,
        country: deps.country(origin.ip),
        ip: ipForPolicy(origin.ip, policy.ipMode, policy.ipv4MaskBits),
        viewerUserId: grant.viewer.kind === 'member' && UUID.test(grant.viewer.id) ? grant.viewer.id : null,
        viewerAudienceId: grant.viewer.kind === 'audience' ? grant.viewer.id.slice(0, 200) : null,
        visitorHash: await deps.hasher.hash(now, grant.tenantId, origin.ip, userAgent),
        failures: 0,
      };
      // The hash awaited the salt: another beacon of this playback may have arrived meanwhile.
      const raced = sessions.get(beacon.playbackId);
      if (raced) s = raced; else sessions.set(beacon.playbackId, s);
    }
    s.lastEventAt = now;
    const sc = beacon.screen;
    if (sc && sc.width >= 1 && sc.width <= 16384 && sc.height >= 1 && sc.height <= 16384) s.screen = sc;
    for (const e of beacon.events) {
      if (e.watched > s.watched) s.watched = e.watched;
      if (e.position > s.position) s.position = e.position;
      if (e.type === 'end') s.ended = true;
      else if (e.type === 'quality') s.qualitySwitches++;
      else if (e.type === 'rebuffer') {
        s.rebufferCount++;
        s.rebufferMs += Math.min(e.durationMs ?? 0, MAX_REBUFFER_MS);
      }
      if (e.rendition && s.renditions.size < MAX_RENDITIONS) s.renditions.add(e.rendition);
    }
    if (sessions.size >= FLUSH_AT) void flush();
  }

  function countAnonymousView(grant: PlaybackGrant, now: Date): void {
    let perTenant = anonymous.get(grant.tenantId);
    if (!perTenant) anonymous.set(grant.tenantId, (perTenant = new Map()));
    const key = `${grant.videoId}|${dayOf(now)}`;
    perTenant.set(key, (perTenant.get(key) ?? 0) + 1);
  }

  /** Writes everything buffered; a second call while one runs waits for it and then runs again. */
  function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    if (sessions.size === 0 && anonymous.size === 0) return Promise.resolve();
    flushing = (async () => {
      try {
        do {
          again = false;
          const batch = sessions;
          const anon = anonymous;
          sessions = new Map();
          anonymous = new Map();
          await writeBatch(batch, anon);
        } while (again && (sessions.size > 0 || anonymous.size > 0));
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  }

  async function writeBatch(batch: Map<string, SessionDelta>, anon: Map<string, Map<string, number>>): Promise<void> {
    const byTenant = new Map<string, SessionDelta[]>();
    for (const s of batch.values()) {
      const list = byTenant.get(s.tenantId);
      if (list) list.push(s); else byTenant.set(s.tenantId, [s]);
    }
    for (const tenantId of new Set([...byTenant.keys(), ...anon.keys()])) {
      const list = byTenant.get(tenantId) ?? [];
      const views = anon.get(tenantId);
      try {
        await db.withTenant(tenantId, async (tx) => {
          const tracked = list.length ? await withoutRestricted(tx, tenantId, list) : list;
          if (tracked.length) await upsertSessions(tx, tenantId, tracked);
          if (views?.size) await addAnonymousViews(tx, tenantId, views);
        });
      } catch (err) {
        // Back into the buffer for the next flush; what failed twice is dropped (and counted in the log).
        const retry = list.filter((s) => ++s.failures < 2);
        for (const s of retry) if (!sessions.has(s.playbackId)) sessions.set(s.playbackId, s); else mergeInto(sessions.get(s.playbackId)!, s);
        if (views && list.every((s) => s.failures < 2)) {
          const now = anonymous.get(tenantId) ?? new Map<string, number>();
          for (const [k, n] of views) now.set(k, (now.get(k) ?? 0) + n);
          anonymous.set(tenantId, now);
        }
        log.error({ err, tenantId, sessions: list.length, dropped: list.length - retry.length }, 'analytics flush failed');
      }
    }
  }

  return {
    accept,
    flush,
    /** Sessions waiting to be written (for metrics and tests). */
    pending: () => sessions.size,
    /** Stops the timer and writes what is buffered; later beacons are refused with 503. */
    async close(): Promise<void> {
      clearInterval(timer);
      stopped = true;
      await flush();
      if (sessions.size || anonymous.size) await flush();
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;

/** Folds a newer delta (`b`, from a beacon that arrived after the flush began) into the one retried. */
function mergeInto(a: SessionDelta, b: SessionDelta): void {
  a.lastEventAt = a.lastEventAt > b.lastEventAt ? a.lastEventAt : b.lastEventAt;
  a.startedAt = a.startedAt < b.startedAt ? a.startedAt : b.startedAt;
  a.watched = Math.max(a.watched, b.watched);
  a.position = Math.max(a.position, b.position);
  a.ended ||= b.ended;
  a.qualitySwitches += b.qualitySwitches;
  a.rebufferCount += b.rebufferCount;
  a.rebufferMs += b.rebufferMs;
  for (const r of b.renditions) if (a.renditions.size < MAX_RENDITIONS) a.renditions.add(r);
  a.screen ??= b.screen;
}

async function upsertSessions(tx: Tx, tenantId: string, list: SessionDelta[]): Promise<void> {
  const rows = list.map((s) => ({
    playback_id: s.playbackId, video_id: s.videoId, day: s.day, started_at: s.startedAt.toISOString(), last_event_at: s.lastEventAt.toISOString(),
    watched: s.watched, position: s.position, ended: s.ended,
    quality_switches: s.qualitySwitches, rebuffer_count: s.rebufferCount, rebuffer_ms: Math.min(s.rebufferMs, 2 ** 40),
    renditions: [...s.renditions], device_class: s.device.deviceClass, os: s.device.os, browser: s.device.browser, user_agent: s.userAgent,
    screen_width: s.screen?.width ?? null, screen_height: s.screen?.height ?? null, country: s.country, ip: s.ip,
    viewer_user_id: s.viewerUserId, viewer_audience_id: s.viewerAudienceId, visitor_hash: s.visitorHash,
  }));
  // Rows whose video is gone (deleted since the token was issued) drop out in the join.
  await sql`
    insert into analytics_sessions as s (
      playback_id, tenant_id, video_id, day, started_at, last_event_at, watch_seconds, max_position, completed,
      quality_switches, rebuffer_count, rebuffer_ms, renditions, device_class, os, browser, user_agent,
      screen_width, screen_height, country, ip, viewer_user_id, viewer_audience_id, visitor_hash)
    select r.playback_id, v.tenant_id, r.video_id, r.day, r.started_at, r.last_event_at,
      least(r.watched, coalesce(v.duration_ms / 1000.0 * 1.1 + 10, 86400)),
      least(r.position, coalesce(v.duration_ms / 1000.0 + 1, 86400)),
      coalesce(v.duration_ms > 0 and (r.position >= 0.9 * v.duration_ms / 1000.0 or (r.ended and r.position >= v.duration_ms / 1000.0 - 1)), false),
      r.quality_switches, r.rebuffer_count, r.rebuffer_ms, r.renditions, r.device_class, r.os, r.browser, r.user_agent,
      r.screen_width, r.screen_height, r.country, r.ip, r.viewer_user_id, r.viewer_audience_id, r.visitor_hash
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
      playback_id uuid, video_id uuid, day date, started_at timestamptz, last_event_at timestamptz,
      watched double precision, position double precision, ended boolean,
      quality_switches int, rebuffer_count int, rebuffer_ms bigint, renditions text[], device_class text, os text, browser text, user_agent text,
      screen_width int, screen_height int, country text, ip inet, viewer_user_id uuid, viewer_audience_id text, visitor_hash text)
    join videos v on v.id = r.video_id and v.tenant_id = ${tenantId}
    on conflict (playback_id) do update set
      last_event_at = greatest(s.last_event_at, excluded.last_event_at),
      watch_seconds = greatest(s.watch_seconds, excluded.watch_seconds),
      max_position = greatest(s.max_position, excluded.max_position),
      completed = s.completed or excluded.completed,
      quality_switches = s.quality_switches + excluded.quality_switches,
      rebuffer_count = s.rebuffer_count + excluded.rebuffer_count,
      rebuffer_ms = s.rebuffer_ms + excluded.rebuffer_ms,
      renditions = (select coalesce(array_agg(x order by x), '{}') from (select distinct x from unnest(s.renditions || excluded.renditions) x order by x limit ${MAX_RENDITIONS}) t),
      screen_width = coalesce(excluded.screen_width, s.screen_width),
      screen_height = coalesce(excluded.screen_height, s.screen_height)
    where s.tenant_id = excluded.tenant_id`.execute(tx);
}

async function addAnonymousViews(tx: Tx, tenantId: string, views: Map<string, number>): Promise<void> {
  const rows = [...views].map(([key, n]) => {
    const [videoId, day] = key.split('|');
    return { video_id: videoId, day, views: n };
  });
  await sql`
    insert into analytics_anonymous_views as a (tenant_id, video_id, day, views)
    select ${tenantId}::uuid, r.video_id, r.day, r.views
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(video_id uuid, day date, views int)
    join videos v on v.id = r.video_id and v.tenant_id = ${tenantId}
    on conflict (tenant_id, video_id, day) do update set views = a.views + excluded.views`.execute(tx);
}
