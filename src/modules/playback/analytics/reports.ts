// What the dashboards show: views per day, the unique-viewer estimate, watch
// time, completion, geography, devices, quality and rebuffering — for the
// whole tenant or one video — and the same per day per video as CSV.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { authorize } from '../../identity/access.ts';
import { type Counts, type DayFigures, daysBetween, figures } from './aggregate.ts';
import { dayOf } from './salts.ts';

export const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a real date');
export const rangeQuery = z.object({
  from: isoDay.optional().describe(`First day (UTC), inclusive; default ${DEFAULT_RANGE_DAYS - 1} days before to`),
  to: isoDay.optional().describe('Last day (UTC), inclusive; default today'),
}).strict();
export const exportQuery = rangeQuery.extend({ videoId: z.uuid('must be a valid id').optional() }).strict();

const counts = z.record(z.string(), z.number());
export const reportSchema = z.object({
  from: z.string(),
  to: z.string(),
  videoId: z.string().optional(),
  totals: z.object({
    views: z.number(), anonymousViews: z.number(), uniqueViewersEstimate: z.number().describe('Sum of each day\'s distinct visitors; the same person on two days counts twice'),
    watchSeconds: z.number(), averageWatchSeconds: z.number(), completions: z.number(), completionRate: z.number().describe('Completions per tracked view, 0–1'),
  }),
  days: z.array(z.object({ day: z.string(), views: z.number(), uniqueViewersEstimate: z.number(), watchSeconds: z.number(), completions: z.number() })),
  countries: counts,
  devices: z.object({ classes: counts, os: counts, browsers: counts }),
  quality: z.object({ renditions: counts, qualitySwitches: z.number(), rebufferCount: z.number(), rebufferMs: z.number(), rebuffersPerView: z.number() }),
});
export type Report = z.infer<typeof reportSchema>;

function resolveRange(q: { from?: string; to?: string }, now: Date): { from: string; to: string } {
  const to = q.to ?? dayOf(now);
  const from = q.from ?? dayOf(new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_RANGE_DAYS - 1) * 86_400_000));
  if (from > to) throw new AppError('invalid_range', 400, 'from must not be after to.');
  if (daysBetween(from, to).length > MAX_RANGE_DAYS) throw new AppError('invalid_range', 400, `A range may span at most ${MAX_RANGE_DAYS} days.`);
  return { from, to };
}

const add = (into: Counts, from: Counts) => { for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n; };
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

function report(range: { from: string; to: string; videoId?: string }, rows: DayFigures[]): Report {
  const perDay = new Map(daysBetween(range.from, range.to).map((d) => [d, { day: d, views: 0, uniqueViewersEstimate: 0, watchSeconds: 0, completions: 0 }]));
  const countries: Counts = {};
  const classes: Counts = {};
  const os: Counts = {};
  const browsers: Counts = {};
  const renditions: Counts = {};
  const t = { views: 0, anonymousViews: 0, uniqueViewersEstimate: 0, watchSeconds: 0, completions: 0, qualitySwitches: 0, rebufferCount: 0, rebufferMs: 0 };
  for (const f of rows) {
    const d = perDay.get(f.day)!;
    d.views += f.views;
    d.uniqueViewersEstimate += f.uniqueViewersEstimate;
    d.watchSeconds += f.watchSeconds;
    d.completions += f.completions;
    t.views += f.views;
    t.anonymousViews += f.anonymousViews;
    t.uniqueViewersEstimate += f.uniqueViewersEstimate;
    t.watchSeconds += f.watchSeconds;
    t.completions += f.completions;
    t.qualitySwitches += f.qualitySwitches;
    t.rebufferCount += f.rebufferCount;
    t.rebufferMs += f.rebufferMs;
    add(countries, f.countries);
    add(classes, f.deviceClasses);
    add(os, f.os);
    add(browsers, f.browsers);
    add(renditions, f.renditions);
  }
  const tracked = t.views - t.anonymousViews;
  return {
    from: range.from, to: range.to, ...(range.videoId ? { videoId: range.videoId } : {}),
    totals: {
      views: t.views, anonymousViews: t.anonymousViews, uniqueViewersEstimate: t.uniqueViewersEstimate,
      watchSeconds: round(t.watchSeconds), averageWatchSeconds: tracked ? round(t.watchSeconds / tracked) : 0,
      completions: t.completions, completionRate: tracked ? round(t.completions / tracked) : 0,
    },
    days: [...perDay.values()].map((d) => ({ ...d, watchSeconds: round(d.watchSeconds) })),
    countries,
    devices: { classes, os, browsers },
    quality: { renditions, qualitySwitches: t.qualitySwitches, rebufferCount: t.rebufferCount, rebufferMs: t.rebufferMs, rebuffersPerView: tracked ? round(t.rebufferCount / tracked) : 0 },
  };
}

const CSV_HEADER = 'day,video_id,title,views,anonymous_views,unique_viewers_estimate,watch_seconds,completions,completion_rate,quality_switches,rebuffer_count,rebuffer_ms\n';

/** Quotes a CSV field; a leading = + - @ is defused so a spreadsheet does not run it as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function createReports(platform: Platform, audit: AuditService) {
  const { db, clock } = platform;

  async function requireVideo(tx: Parameters<Parameters<typeof db.withTenant>[1]>[0], tenantId: string, videoId: string): Promise<string> {
    const v = await tx.selectFrom('videos').select('title').where('tenant_id', '=', tenantId).where('id', '=', videoId).executeTakeFirst();
    if (!v) throw notFound('video');
    return v.title;
  }

  return {
    async summary(ctx: RequestContext, query: z.infer<typeof rangeQuery>): Promise<Report> {
      authorize(ctx, 'analytics:read');
      const range = resolveRange(query, clock.now());
      return db.withTenant(ctx.tenantId, async (tx) => report(range, await figures(tx, ctx.tenantId, range)));
    },

    async video(ctx: RequestContext, videoId: string, query: z.infer<typeof rangeQuery>): Promise<Report> {
      authorize(ctx, 'analytics:read');
      const range = { ...resolveRange(query, clock.now()), videoId };
      return db.withTenant(ctx.tenantId, async (tx) => {
        await requireVideo(tx, ctx.tenantId, videoId);
        return report(range, await figures(tx, ctx.tenantId, range));
      });
    },

    /** CSV, one row per day per video, streamed a month at a time; the export is audited before the first byte. */
    async exportCsv(ctx: RequestContext, query: z.infer<typeof exportQuery>): Promise<Readable> {
      authorize(ctx, 'analytics:read');
      const range = resolveRange(query, clock.now());
      const { videoId } = query;
      await db.withTenant(ctx.tenantId, async (tx) => {
        if (videoId) await requireVideo(tx, ctx.tenantId, videoId);
        await audit.record(tx, ctx, {
          action: 'analytics.export',
          target: videoId ? { type: 'video', id: videoId } : { type: 'tenant', id: ctx.tenantId },
          details: { from: range.from, to: range.to, format: 'csv' },
        });
      });
      const tenantId = ctx.tenantId;
      const days = daysBetween(range.from, range.to);
      async function* lines(): AsyncGenerator<string> {
        yield CSV_HEADER;
        const titles = new Map<string, string>();
        for (let i = 0; i < days.length; i += 31) {
          const chunk = { from: days[i]!, to: days[Math.min(i + 30, days.length - 1)]!, ...(videoId ? { videoId } : {}) };
          const rows = await db.withTenant(tenantId, async (tx) => {
            const found = await figures(tx, tenantId, chunk);
            const unknown = [...new Set(found.map((f) => f.videoId))].filter((id) => !titles.has(id));
            if (unknown.length) {
              for (const v of await tx.selectFrom('videos').select(['id', 'title']).where('tenant_id', '=', tenantId).where('id', 'in', unknown).execute()) titles.set(v.id, v.title);
            }
            return found;
          });
          let out = '';
          for (const f of rows) {
            const tracked = f.views - f.anonymousViews;
            out += [
              f.day, f.videoId, csvField(titles.get(f.videoId) ?? ''), f.views, f.anonymousViews, f.uniqueViewersEstimate, round(f.watchSeconds),
              f.completions, tracked ? round(f.completions / tracked) : 0, f.qualitySwitches, f.rebufferCount, f.rebufferMs,
            ].join(',') + '\n';
          }
          if (out) yield out;
        }
      }
      return Readable.from(lines());
    },
  };
}

export type Reports = ReturnType<typeof createReports>;
