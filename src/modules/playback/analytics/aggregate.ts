// Per-video, per-day figures computed from raw view sessions: the roll-up
// stores them in analytics_daily, the dashboards use the same query for days
// not rolled up yet (today), so both always count alike.
import { sql } from 'kysely';
import type { Tx } from '../../../platform/db/database.ts';

export type Counts = Record<string, number>;

export interface DayFigures {
  videoId: string;
  day: string;
  /** Tracked sessions plus anonymous views. */
  views: number;
  anonymousViews: number;
  uniqueViewersEstimate: number;
  watchSeconds: number;
  completions: number;
  qualitySwitches: number;
  rebufferCount: number;
  rebufferMs: number;
  countries: Counts;
  deviceClasses: Counts;
  os: Counts;
  browsers: Counts;
  renditions: Counts;
}

/** Figures of the given days (all days in [from, to] when `days` is omitted), optionally for one video. */
export async function aggregateSessions(tx: Tx, tenantId: string, range: { from: string; to: string; days?: string[]; videoId?: string }): Promise<DayFigures[]> {
  const dayFilter = range.days ? sql`and day = any(${range.days}::date[])` : sql``;
  const videoFilter = range.videoId ? sql`and video_id = ${range.videoId}` : sql``;
  const breakdown = (expr: ReturnType<typeof sql>) => sql`
    coalesce((select jsonb_object_agg(k, n) from (
      select ${expr} as k, count(*)::int as n from analytics_sessions x
      where x.tenant_id = ${tenantId} and x.day = g.day and x.video_id = g.video_id group by 1) q), '{}'::jsonb)`;
  const { rows } = await sql<Record<string, any>>`
    with g as (
      select video_id, day, count(*)::int as sessions, count(distinct visitor_hash)::int as uniques,
        coalesce(sum(watch_seconds), 0)::float8 as watch_seconds, count(*) filter (where completed)::int as completions,
        coalesce(sum(quality_switches), 0)::int as quality_switches, coalesce(sum(rebuffer_count), 0)::int as rebuffer_count,
        coalesce(sum(rebuffer_ms), 0)::int8 as rebuffer_ms
      from analytics_sessions
      where tenant_id = ${tenantId} and day between ${range.from}::date and ${range.to}::date ${dayFilter} ${videoFilter}
      group by video_id, day
    ), a as (
      select video_id, day, views from analytics_anonymous_views
      where tenant_id = ${tenantId} and day between ${range.from}::date and ${range.to}::date ${dayFilter} ${videoFilter}
    )
    select coalesce(g.video_id, a.video_id) as video_id, to_char(coalesce(g.day, a.day), 'YYYY-MM-DD') as day,
      coalesce(g.sessions, 0) + coalesce(a.views, 0) as views, coalesce(a.views, 0) as anonymous_views,
      coalesce(g.uniques, 0) as uniques, coalesce(g.watch_seconds, 0) as watch_seconds, coalesce(g.completions, 0) as completions,
      coalesce(g.quality_switches, 0) as quality_switches, coalesce(g.rebuffer_count, 0) as rebuffer_count, coalesce(g.rebuffer_ms, 0) as rebuffer_ms,
      ${breakdown(sql`coalesce(x.country, 'unknown')`)} as countries,
      ${breakdown(sql`x.device_class`)} as device_classes,
      ${breakdown(sql`coalesce(x.os, 'unknown')`)} as os,
      ${breakdown(sql`coalesce(x.browser, 'unknown')`)} as browsers,
      coalesce((select jsonb_object_agg(k, n) from (
        select r as k, count(*)::int as n from analytics_sessions x, unnest(x.renditions) r
        where x.tenant_id = ${tenantId} and x.day = g.day and x.video_id = g.video_id group by 1) q), '{}'::jsonb) as renditions
    from g full outer join a on a.video_id = g.video_id and a.day = g.day
    order by 2, 1`.execute(tx);
  return rows.map((r) => ({
    videoId: r.video_id, day: r.day, views: r.views, anonymousViews: r.anonymous_views, uniqueViewersEstimate: r.uniques,
    watchSeconds: Number(r.watch_seconds), completions: r.completions, qualitySwitches: r.quality_switches,
    rebufferCount: r.rebuffer_count, rebufferMs: Number(r.rebuffer_ms),
    countries: r.countries, deviceClasses: r.device_classes, os: r.os, browsers: r.browsers, renditions: r.renditions,
  }));
}

/** Rolled-up figures as stored. */
export async function dailyFigures(tx: Tx, tenantId: string, range: { from: string; to: string; videoId?: string }): Promise<DayFigures[]> {
  let q = tx.selectFrom('analytics_daily').selectAll().select(sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day_text'))
    .where('tenant_id', '=', tenantId).where('day', '>=', range.from).where('day', '<=', range.to);
  if (range.videoId) q = q.where('video_id', '=', range.videoId);
  const rows = await q.orderBy('day').orderBy('video_id').execute();
  return rows.map((r) => ({
    videoId: r.video_id, day: r.day_text, views: r.views, anonymousViews: r.anonymous_views, uniqueViewersEstimate: r.unique_viewers_estimate,
    watchSeconds: Number(r.watch_seconds), completions: r.completions, qualitySwitches: r.quality_switches,
    rebufferCount: r.rebuffer_count, rebufferMs: Number(r.rebuffer_ms),
    countries: r.countries, deviceClasses: r.device_classes, os: r.os, browsers: r.browsers, renditions: r.renditions,
  }));
}

/** Days of [from, to] that were rolled up (their figures come from analytics_daily). */
export async function rolledDays(tx: Tx, tenantId: string, from: string, to: string): Promise<Set<string>> {
  const rows = await tx.selectFrom('analytics_rollups').select(sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'))
    .where('tenant_id', '=', tenantId).where('day', '>=', from).where('day', '<=', to).execute();
  return new Set(rows.map((r) => r.day));
}

/** Figures of [from, to]: rolled-up days from analytics_daily, the rest (today, or days not rolled yet) from raw sessions. */
export async function figures(tx: Tx, tenantId: string, range: { from: string; to: string; videoId?: string }): Promise<DayFigures[]> {
  const rolled = await rolledDays(tx, tenantId, range.from, range.to);
  const stored = rolled.size ? (await dailyFigures(tx, tenantId, range)).filter((f) => rolled.has(f.day)) : [];
  const rawDays = daysBetween(range.from, range.to).filter((d) => !rolled.has(d));
  const raw = rawDays.length ? await aggregateSessions(tx, tenantId, { ...range, days: rawDays }) : [];
  return [...stored, ...raw].sort((x, y) => (x.day === y.day ? x.videoId.localeCompare(y.videoId) : x.day < y.day ? -1 : 1));
}

export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
