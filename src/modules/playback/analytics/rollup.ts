// The nightly analytics job, per tenant: roll finished days of raw sessions
// up into analytics_daily (a day is rolled again when a beacon of it arrived
// after its last roll-up; re-running a day replaces its rows), then apply the
// tenant's retention: raw sessions past sessionRetentionDays are deleted,
// stored IPs past ipRetentionDays are nulled. Both are audited as system
// events with their counts. Finally, visitor-hash salts older than yesterday go.
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import { defineJob } from '../../../platform/jobs.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { systemContext } from '../../identity/actor.ts';
import { aggregateSessions } from './aggregate.ts';
import { dayOf, type VisitorHasher } from './salts.ts';
import { readSettings } from './settings.ts';

export const analyticsNightlyJob = defineJob({ name: 'analytics.nightly', schema: z.object({}).passthrough(), cron: '20 0 * * *', retryLimit: 3 });

const DAY_MS = 86_400_000;

export interface TenantRun { tenantId: string; daysRolledUp: string[]; rows: number; sessionsDeleted: number; ipsNulled: number; anonymousDaysDeleted: number }

/** Replaces the figures of the given days with what the raw sessions say now. */
export async function rollUpDays(tx: Tx, tenantId: string, days: string[]): Promise<number> {
  if (!days.length) return 0;
  const sorted = [...days].sort();
  const figures = await aggregateSessions(tx, tenantId, { from: sorted[0]!, to: sorted[sorted.length - 1]!, days: sorted });
  await tx.deleteFrom('analytics_daily').where('tenant_id', '=', tenantId).where(sql<boolean>`day = any(${sorted}::date[])`).execute();
  if (figures.length) {
    await tx.insertInto('analytics_daily').values(figures.map((f) => ({
      tenant_id: tenantId, video_id: f.videoId, day: f.day, views: f.views, anonymous_views: f.anonymousViews,
      unique_viewers_estimate: f.uniqueViewersEstimate, watch_seconds: f.watchSeconds, completions: f.completions,
      quality_switches: f.qualitySwitches, rebuffer_count: f.rebufferCount, rebuffer_ms: f.rebufferMs,
      countries: JSON.stringify(f.countries), device_classes: JSON.stringify(f.deviceClasses), os: JSON.stringify(f.os),
      browsers: JSON.stringify(f.browsers), renditions: JSON.stringify(f.renditions),
    }))).execute();
  }
  await sql`
    insert into analytics_rollups (tenant_id, day, rolled_up_at)
    select ${tenantId}::uuid, d, now() from unnest(${sorted}::date[]) d
    on conflict (tenant_id, day) do update set rolled_up_at = now()`.execute(tx);
  return figures.length;
}

/**
 * Days before today that need rolling: never rolled, or a beacon arrived
 * after their roll-up — unless retention already deleted part of them (a
 * re-roll would then undercount).
 */
async function dueDays(tx: Tx, tenantId: string, today: string, cutoffDay: string): Promise<string[]> {
  const { rows } = await sql<{ day: string }>`
    with seen as (
      select day, max(last_event_at) as last_event_at from analytics_sessions where tenant_id = ${tenantId} and day < ${today}::date group by day
      union all
      select distinct day, null::timestamptz from analytics_anonymous_views where tenant_id = ${tenantId} and day < ${today}::date
    ), days as (select day, max(last_event_at) as last_event_at from seen group by day)
    select to_char(d.day, 'YYYY-MM-DD') as day from days d
    left join analytics_rollups r on r.tenant_id = ${tenantId} and r.day = d.day
    where r.day is null or (d.day >= ${cutoffDay}::date and d.last_event_at > r.rolled_up_at)
    order by d.day`.execute(tx);
  return rows.map((r) => r.day);
}

export function createNightly(platform: Platform, audit: AuditService, hasher: VisitorHasher) {
  const { db, clock } = platform;

  async function runTenant(tenantId: string, now: Date): Promise<TenantRun> {
    return db.withTenant(tenantId, async (tx) => {
      const settings = await readSettings(tx, tenantId);
      const sessionCutoff = new Date(now.getTime() - settings.sessionRetentionDays * DAY_MS);
      const daysRolledUp = await dueDays(tx, tenantId, dayOf(now), dayOf(sessionCutoff));
      const rows = await rollUpDays(tx, tenantId, daysRolledUp);
      if (daysRolledUp.length) {
        await audit.record(tx, systemContext(analyticsNightlyJob.name, tenantId), {
          action: 'analytics.rollup', details: { days: daysRolledUp.length, firstDay: daysRolledUp[0], lastDay: daysRolledUp.at(-1), rows },
        });
      }
      // Retention runs after the roll-up, so every deleted session was counted first.
      const deleted = await tx.deleteFrom('analytics_sessions').where('tenant_id', '=', tenantId).where('started_at', '<', sessionCutoff).executeTakeFirst();
      const anonymous = await tx.deleteFrom('analytics_anonymous_views').where('tenant_id', '=', tenantId).where('day', '<', dayOf(sessionCutoff))
        .where(({ exists, selectFrom }) => exists(selectFrom('analytics_rollups as r').select('r.day').whereRef('r.tenant_id', '=', 'analytics_anonymous_views.tenant_id').whereRef('r.day', '=', 'analytics_anonymous_views.day')))
        .executeTakeFirst();
      let ipsNulled = 0;
      if (settings.ipRetentionDays != null) {
        const ipCutoff = new Date(now.getTime() - settings.ipRetentionDays * DAY_MS);
        const r = await tx.updateTable('analytics_sessions').set({ ip: null }).where('tenant_id', '=', tenantId).where('ip', 'is not', null).where('started_at', '<', ipCutoff).executeTakeFirst();
        ipsNulled = Number(r.numUpdatedRows);
      }
      const sessionsDeleted = Number(deleted.numDeletedRows);
      const anonymousDaysDeleted = Number(anonymous.numDeletedRows);
      if (sessionsDeleted || ipsNulled || anonymousDaysDeleted) {
        await audit.record(tx, systemContext(analyticsNightlyJob.name, tenantId), {
          action: 'analytics.retention',
          details: { sessionsDeleted, ipsNulled, anonymousDaysDeleted, sessionRetentionDays: settings.sessionRetentionDays, ipRetentionDays: settings.ipRetentionDays },
        });
      }
      return { tenantId, daysRolledUp, rows, sessionsDeleted, ipsNulled, anonymousDaysDeleted };
    });
  }

  return {
    /** The nightly pass over every tenant (the cron job; tests call it with a clock). */
    async run(now: Date = clock.now()): Promise<{ tenants: TenantRun[]; saltsDeleted: number }> {
      const tenants = await db.withPlatform((tx) => tx.selectFrom('tenants').select('id').orderBy('id').execute());
      const runs: TenantRun[] = [];
      for (const t of tenants) runs.push(await runTenant(t.id, now));
      const saltsDeleted = await hasher.sweep(now);
      return { tenants: runs.filter((r) => r.daysRolledUp.length || r.sessionsDeleted || r.ipsNulled || r.anonymousDaysDeleted), saltsDeleted };
    },
    runTenant,
    /** Rolls one day of one tenant again, replacing its rows (operators, tests). */
    async rollUpDay(tenantId: string, day: string): Promise<number> {
      return db.withTenant(tenantId, async (tx) => {
        const rows = await rollUpDays(tx, tenantId, [day]);
        await audit.record(tx, systemContext(analyticsNightlyJob.name, tenantId), { action: 'analytics.rollup', details: { days: 1, firstDay: day, lastDay: day, rows } });
        return rows;
      });
    },
  };
}

export type Nightly = ReturnType<typeof createNightly>;
