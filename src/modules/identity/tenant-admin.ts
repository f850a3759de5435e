// An organization's admins read and change its settings. The region is fixed
// at creation (data residency); changing it is not offered here.
import { notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import { authorize } from './access.ts';
import type { AuditPort } from './audit-port.ts';
import { type TenantSettings, tenantSettingsSchema } from './settings.ts';

export function createTenantAdminService(platform: Platform, audit: AuditPort) {
  const { db } = platform;
  const view = (r: Record<string, any>) => ({
    id: r.id as string, slug: r.slug as string, name: r.name as string, region: r.region as string, status: r.status as string,
    securityLevel: r.security_level as 'standard' | 'high', settings: tenantSettingsSchema.parse(r.settings ?? {}), createdAt: r.created_at as Date,
  });
  return {
    async get(ctx: RequestContext) {
      authorize(ctx, 'tenant:read');
      const row = await db.withTenant(ctx.tenantId, (tx) => tx.selectFrom('tenants').selectAll().where('id', '=', ctx.tenantId).executeTakeFirst());
      if (!row) throw notFound('tenant');
      return view(row);
    },
    async update(ctx: RequestContext, change: { name?: string; securityLevel?: 'standard' | 'high'; settings?: Partial<TenantSettings> }) {
      authorize(ctx, 'tenant:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await tx.selectFrom('tenants').selectAll().where('id', '=', ctx.tenantId).forUpdate().executeTakeFirst();
        if (!before) throw notFound('tenant');
        const settings = tenantSettingsSchema.parse({ ...tenantSettingsSchema.parse(before.settings ?? {}), ...change.settings });
        const after = await tx
          .updateTable('tenants')
          .set({ name: change.name ?? before.name, security_level: change.securityLevel ?? before.security_level, settings: JSON.stringify(settings) })
          .where('id', '=', ctx.tenantId)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit.record(tx, ctx, {
          action: 'tenant.update',
          target: { type: 'tenant', id: ctx.tenantId },
          diff: { before: { name: before.name, security_level: before.security_level, settings: before.settings }, after: { name: after.name, security_level: after.security_level, settings: after.settings } },
        });
        return view(after);
      });
    },
  };
}

export type TenantAdminService = ReturnType<typeof createTenantAdminService>;
