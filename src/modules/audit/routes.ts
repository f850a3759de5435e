// The audit trail over HTTP: search, verify, export. A tenant's admins see
// their tenant's trail; platform operators see the platform's own chain.
// Reading and exporting the trail are themselves recorded.
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses } from '../../platform/http/schemas.ts';
import type { RequestContext } from '../identity/actor.ts';
import { authorize, isPlatformOperator } from '../identity/access.ts';
import { PLATFORM_TENANT_ID } from './events.ts';
import type { AuditService } from './service.ts';

const scopeQuery = z.enum(['tenant', 'platform']).default('tenant').describe('platform: the platform chain (operators only)');

/** Which chain the caller may read; anything else is refused before a query runs. */
function chainFor(ctx: RequestContext, scope: 'tenant' | 'platform'): string {
  if (scope === 'platform') {
    if (!isPlatformOperator(ctx.actor)) throw new AppError('forbidden', 403, 'Only platform operators can read the platform audit trail.');
    return PLATFORM_TENANT_ID;
  }
  authorize(ctx, 'audit:read');
  return ctx.tenantId;
}

const entry = z.object({
  id: z.number(),
  tenantId: z.string(),
  chainSeq: z.number().nullable(),
  occurredAt: z.string(),
  action: z.string(),
  outcome: z.string(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), ref: z.string().nullable(), via: z.string().nullable(), tenantId: z.string().nullable(), erasedAs: z.string().nullable() }),
  target: z.object({ type: z.string(), id: z.string().nullable(), ref: z.string(), erasedAs: z.string().nullable() }).nullable(),
  requestId: z.string().nullable(),
  ipPseudonym: z.string().nullable(),
  uaPseudonym: z.string().nullable(),
  diff: z.unknown(),
  details: z.unknown(),
  prevHash: z.string().nullable(),
  hash: z.string().nullable(),
});

const verifyReport = z.object({
  tenantId: z.string(),
  ok: z.boolean(),
  entries: z.number(),
  headSeq: z.number(),
  unsealed: z.number(),
  firstBroken: z.object({ chainSeq: z.number(), id: z.number().nullable(), reason: z.string(), message: z.string() }).optional(),
  lastVerifiedCheckpoint: z.object({ chainSeq: z.number(), kind: z.string(), at: z.string() }).optional(),
});

export function registerAuditRoutes(app: HttpServer, audit: AuditService): void {
  app.get('/api/v1/audit/events', {
    schema: {
      tags: ['audit'],
      summary: 'Search the audit trail (newest first, cursor pagination)',
      // Filters are validated by the audit module so every mistake names its field.
      querystring: z.object({ scope: scopeQuery, cursor: z.string().max(2000).optional() }).catchall(z.string().max(300)),
      response: { 200: z.object({ items: z.array(entry), nextCursor: z.string().nullable() }), ...errorResponses },
    },
  }, async (req) => {
    const { scope, cursor, ...filters } = req.query;
    const chain = chainFor(req.ctx, scope);
    return audit.search(chain, filters, cursor);
  });

  app.get('/api/v1/audit/verify', {
    schema: {
      tags: ['audit'],
      summary: 'Verify the hash chain and signed checkpoints; reports the first broken entry, if any',
      querystring: z.object({ scope: scopeQuery }),
      response: { 200: verifyReport, ...errorResponses },
    },
  }, async (req) => {
    const chain = chainFor(req.ctx, req.query.scope);
    await audit.seal(chain);
    return audit.verify(chain);
  });

  app.get('/api/v1/audit/export', {
    schema: {
      tags: ['audit'],
      summary: 'Stream a time range of the trail as NDJSON or CSV (the export is itself audited)',
      querystring: z.object({ scope: scopeQuery, format: z.enum(['ndjson', 'csv']).default('ndjson'), from: z.string().max(40), to: z.string().max(40) }),
      response: { 200: z.string().describe('NDJSON or CSV, streamed'), ...errorResponses },
    },
  }, async (req, reply) => {
    const { scope, format, from, to } = req.query;
    const chain = chainFor(req.ctx, scope);
    const stream = await audit.exportEvents(chain, { from, to }, format, req.ctx);
    const stamp = `${from}_${to}`.replace(/[^0-9TZ_-]/g, '');
    reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('content-disposition', `attachment; filename="audit-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`)
      .header('cache-control', 'no-store');
    // A stream bypasses the response serializer; the schema above documents it.
    return reply.send(stream as unknown as string);
  });
}
