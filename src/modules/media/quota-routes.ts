// Media limits over HTTP: a tenant's admins read the limits in force and what
// the tenant uses; only platform operators change them (anyone else is told
// the tenant does not exist, the same answer as an unknown id).
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses, idParam } from '../../platform/http/schemas.ts';
import type { AuditService } from '../audit/service.ts';
import { authorize, isPlatformOperator } from '../identity/access.ts';
import { quotaChangeSchema, tenantQuotas, updateTenantQuotas } from './quotas.ts';

const limitView = z.object({
  value: z.number().describe('The limit in force'),
  source: z.enum(['tenant', 'default']).describe('"tenant": set for this organization by a platform operator; "default": the platform\'s configured default'),
  default: z.number().describe('The platform default, in force whenever the tenant has no limit of its own'),
});
export const tenantQuotasView = z.object({
  storageBytes: limitView.describe('Storage: stored originals, renditions and images, plus uploads in progress'),
  maxFileBytes: limitView.describe('Largest accepted upload'),
  maxDurationSeconds: limitView.describe('Longest accepted recording'),
  usage: z.object({ storedBytes: z.number(), uploadingBytes: z.number().describe('Declared length of uploads still arriving') }),
  updatedAt: z.date().nullable(),
});

export interface QuotaRouteDeps {
  db: Database;
  config: Pick<Config, 'mediaStorageQuotaBytes' | 'mediaMaxFileBytes' | 'mediaMaxDurationSeconds'>;
  audit: Pick<AuditService, 'record'>;
}

export function registerQuotaRoutes(app: HttpServer, { db, config, audit }: QuotaRouteDeps): void {
  app.get('/api/v1/tenant/quotas', {
    schema: {
      tags: ['media'], summary: 'This organization\'s media limits (storage, file size, duration), who set each, and the storage in use (owners and admins)',
      response: { 200: tenantQuotasView, ...errorResponses },
    },
  }, async (req) => {
    authorize(req.ctx, 'tenant:read');
    return db.withTenant(req.ctx.tenantId, (tx) => tenantQuotas(tx, req.ctx.tenantId!, config));
  });

  app.put('/api/v1/platform/tenants/:id/quotas', {
    schema: {
      tags: ['platform'], summary: 'Set a tenant\'s media limits (platform operators); null returns a limit to the platform default',
      params: idParam,
      body: quotaChangeSchema,
      response: { 200: tenantQuotasView, ...errorResponses },
    },
  }, async (req) => {
    if (!isPlatformOperator(req.ctx.actor)) throw new AppError('tenant_not_found', 404, 'No tenant with that id exists.');
    return db.withTenant(req.params.id, (tx) => updateTenantQuotas(tx, audit, req.ctx, req.params.id, req.body, config));
  });
}
