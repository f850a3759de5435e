// Offboarding over HTTP: operators start it; the tenant's owners see its
// status, download the export through a one-time link, and may ask for a new
// link. The read-only rule for an offboarded tenant lives here, in one hook.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { authorize, isPlatformOperator } from '../../identity/access.ts';
import type { OffboardingService } from './service.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LINK_ROUTE = '/api/v1/tenant/offboarding/export-link';

function refusesWrite(req: FastifyRequest): boolean {
  if (req.ctx?.tenantState !== 'read_only' || SAFE_METHODS.has(req.method)) return false;
  const url = req.routeOptions.url ?? '';
  return !(url.startsWith('/api/v1/auth/') || url === LINK_ROUTE || req.routeOptions.config?.consentExempt);
}

export function registerOffboardingRoutes(app: HttpServer, offboarding: OffboardingService): void {
  // Every write of an offboarded tenant's members is refused, whatever the route; reads, signing
  // in and out, consent decisions and the export link stay possible so the owners can take their data.
  // The tenant's state comes with the credential (identity's request context): no query per request.
  app.addHook('preHandler', (req, _reply, done) => {
    done(refusesWrite(req) ? new AppError('tenant_read_only', 409, 'This organization\'s contract has ended: it is read-only until its data is deleted. Owners can still download its export.') : undefined);
  });

  app.post('/api/v1/platform/tenants/:id/offboard', {
    schema: {
      tags: ['privacy'], summary: 'Offboard a tenant (platform operators): read-only now, export prepared, destroyed after the grace period',
      params: idParam,
      body: z.object({ graceDays: z.number().int().min(0).max(365).optional(), includeMedia: z.boolean().default(false) }),
      response: { 200: z.object({ tenantId: z.string(), graceEndsAt: z.date(), exportBytes: z.number(), downloadPath: z.string() }), ...errorResponses },
    },
  }, async (req) => {
    // Not an operator: the tenant is not there for you (the same answer as an unknown id).
    if (!isPlatformOperator(req.ctx.actor)) throw new AppError('tenant_not_found', 404, 'No tenant with that id exists.');
    const r = await offboarding.offboard({ tenantId: req.params.id, graceDays: req.body.graceDays, includeMedia: req.body.includeMedia, via: 'api' }, req.ctx);
    return { tenantId: r.tenantId, graceEndsAt: r.graceEndsAt, exportBytes: r.exportBytes, downloadPath: r.downloadPath };
  });

  app.get('/api/v1/tenant/offboarding', {
    schema: {
      tags: ['privacy'], summary: 'This organization\'s offboarding: grace period and export',
      response: { 200: z.object({ requestedAt: z.date(), graceEndsAt: z.date(), includeMedia: z.boolean(), exportReady: z.boolean(), exportBytes: z.number().nullable(), downloadedAt: z.date().nullable() }), ...errorResponses },
    },
  }, async (req) => {
    authorize(req.ctx, 'tenant:read');
    return offboarding.status(req.ctx.tenantId);
  });

  app.post(LINK_ROUTE, {
    schema: {
      tags: ['privacy'], summary: 'A new one-time download link for the export (owners)',
      response: { 200: z.object({ url: z.string(), expiresAt: z.date() }), ...errorResponses },
    },
  }, async (req) => {
    authorize(req.ctx, 'tenant:own');
    return offboarding.newDownloadLink(req.ctx.tenantId, req.ctx);
  });

  app.get('/api/v1/tenant/offboarding/export', {
    schema: {
      tags: ['privacy'], summary: 'Download the export (owners, one-time link)',
      querystring: z.object({ token: z.string().min(20).max(100) }),
      response: errorResponses,
    },
  }, async (req, reply) => {
    authorize(req.ctx, 'tenant:own');
    const { body, bytes } = await offboarding.download(req.ctx.tenantId, req.query.token, req.ctx);
    reply.header('content-type', 'application/zip').header('content-length', bytes).header('content-disposition', 'attachment; filename="tenant-export.zip"').header('cache-control', 'no-store');
    return reply.send(body as never);
  });
}
