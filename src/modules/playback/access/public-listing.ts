// A tenant's public landing: the published videos whose policy admits an
// anonymous viewer right now. Each candidate is judged by the same
// evaluatePolicy the player uses (time window, address ranges, referrer
// rules), so the list never shows a video the viewer would then be refused.
// Only what a stranger may see leaves: id, title, duration, publication time.
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import type { Platform } from '../../../platform/platform.ts';
import { storedPolicy } from './decide.ts';
import { evaluatePolicy } from './policy.ts';

const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be an organization slug') });
const query = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(48),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});
const listing = z.object({
  tenant: z.object({ slug: z.string(), name: z.string() }),
  items: z.array(z.object({ id: z.uuid(), title: z.string(), durationMs: z.number().nullable(), publishedAt: z.date().nullable() })),
  nextCursor: z.string().nullable(),
});

interface Cursor { at: string; id: string }
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.at === 'string' && !Number.isNaN(Date.parse(c.at)) && typeof c.id === 'string' && /^[0-9a-f-]{36}$/i.test(c.id)) return c;
  } catch { /* falls through */ }
  throw new AppError('invalid_cursor', 400, 'The cursor is not one this listing gave out.');
}

export function registerPublicListingRoutes(app: HttpServer, platform: Platform): void {
  app.get('/api/v1/public/tenants/:slug/videos', {
    schema: {
      tags: ['playback'],
      summary: 'An organization\'s public videos: published, and admitted to anyone by their access policy (newest first)',
      params: slugParam, querystring: query, response: { 200: listing, ...errorResponses },
    },
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 60, timeWindow: 60_000 } },
  }, async (req, reply) => {
    const now = platform.clock.now();
    const tenant = await platform.db.withPlatform((tx) => tx.selectFrom('tenants').select(['id', 'slug', 'name', 'status', 'deleted_at'])
      .where('slug', '=', req.params.slug).executeTakeFirst());
    if (!tenant || tenant.deleted_at || tenant.status !== 'active') throw new AppError('tenant_not_found', 404, 'No organization with that name exists.');
    const after = req.query.cursor ? decodeCursor(req.query.cursor) : undefined;
    const limit = req.query.limit;

    // Candidates name a public audience; the policy function then decides. A
    // page may come back shorter than the limit when conditions refuse some.
    const rows = await platform.db.withTenant(tenant.id, (tx) => tx.selectFrom('videos as v')
      .innerJoin('video_access_policies as p', 'p.video_id', 'v.id')
      .select(['v.id', 'v.title', 'v.duration_ms', 'v.published_at', 'p.policy'])
      .select(sql<Date>`coalesce(v.published_at, v.created_at)`.as('sort_at'))
      .where('v.tenant_id', '=', tenant.id)
      .where('v.published_state', '=', 'published')
      .where(sql<boolean>`p.policy -> 'audiences' @> '[{"type":"public"}]'::jsonb`)
      .where(sql<boolean>`(v.status = 'ready' or exists (select 1 from renditions r where r.video_id = v.id and r.status in ('streaming', 'ready')))`)
      .$if(after !== undefined, (q) => q.where(sql<boolean>`(coalesce(v.published_at, v.created_at), v.id) < (${after!.at}::timestamptz, ${after!.id}::uuid)`))
      .orderBy(sql`coalesce(v.published_at, v.created_at)`, 'desc').orderBy('v.id', 'desc')
      .limit(limit + 1)
      .execute());

    const page = rows.slice(0, limit);
    const items = page
      .filter((r) => evaluatePolicy(storedPolicy(r.policy), { published: true, ip: req.ctx.ip }, now).allowed)
      .map((r) => ({ id: r.id as string, title: r.title as string, durationMs: r.duration_ms === null ? null : Number(r.duration_ms), publishedAt: r.published_at as Date | null }));
    const last = page.at(-1);
    reply.header('cache-control', 'no-store');
    return {
      tenant: { slug: tenant.slug as string, name: tenant.name as string },
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: new Date(last.sort_at).toISOString(), id: last.id as string }) : null,
    };
  });
}
