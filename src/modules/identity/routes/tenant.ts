// The organization's own settings, for its admins.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import { tenantSettingsPatchSchema, tenantSettingsSchema } from '../settings.ts';
import type { TenantAdminService } from '../tenant-admin.ts';

const tenantView = z.object({
  id: z.uuid(), slug: z.string(), name: z.string(), region: z.string(), status: z.string(),
  securityLevel: z.enum(['standard', 'high']), settings: tenantSettingsSchema, createdAt: z.date(),
});

export function registerTenantRoutes(app: HttpServer, tenants: TenantAdminService): void {
  app.get('/api/v1/tenant', { schema: { tags: ['tenant'], summary: 'This organization and its settings', response: { 200: tenantView, ...errorResponses } } }, async (req) => tenants.get(req.ctx));

  app.patch('/api/v1/tenant', {
    schema: {
      tags: ['tenant'],
      summary: 'Change this organization\'s name, security level or settings',
      body: z.object({ name: z.string().trim().min(1).max(200).optional(), securityLevel: z.enum(['standard', 'high']).optional(), settings: tenantSettingsPatchSchema.optional() }).strict(),
      response: { 200: tenantView, ...errorResponses },
    },
  }, async (req) => tenants.update(req.ctx, req.body));
}
