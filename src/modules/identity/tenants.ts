// Tenants: the client organizations that own their data. Each gets its own
// encryption key at creation, in the same transaction.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { actorUserId, type RequestContext, systemContext } from './actor.ts';
import { tenantSettingsSchema } from './settings.ts';
import type { AuditPort } from './audit-port.ts';

export const tenantSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'use 2–63 lowercase letters, digits and dashes');

export interface Tenant {
  id: string; slug: string; name: string; region: string; status: 'active' | 'offboarding' | 'ended'; createdAt: Date;
  /** Set while the tenant is in the trash (its requests are refused with 410 tenant_deleted); purgeAfter is when it is destroyed. */
  deletedAt: Date | null; purgeAfter: Date | null; purgedAt: Date | null;
}

export interface NewTenant { name: string; slug?: string; region?: string }

export interface TenantService {
  create(input: NewTenant, within?: (tx: Tx, tenant: Tenant) => Promise<void>): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
  bySlug(slug: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /**
   * A platform operator deletes a tenant: it goes to the trash for graceDays
   * (default: the tenant's trash window), its members' requests are refused,
   * and the purge then destroys its key, rows and objects. Restorable until then.
   */
  trash(tenantId: string, ctx: RequestContext, graceDays?: number): Promise<Tenant>;
  restore(tenantId: string, ctx: RequestContext): Promise<Tenant>;
}

const toTenant = (r: Record<string, any>): Tenant => ({
  id: r.id, slug: r.slug, name: r.name, region: r.region, status: r.status, createdAt: r.created_at,
  deletedAt: r.deleted_at ?? null, purgeAfter: r.purge_after ?? null, purgedAt: r.purged_at ?? null,
});

const tenantNotFound = () => new AppError('tenant_not_found', 404, 'No tenant with that id exists.');

export function slugify(name: string): string {
  const s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return s.length >= 2 ? s : `t-${s || 'tenant'}`;
}

export function createTenantService(platform: Platform, audit: AuditPort): TenantService {
  const { db, keyring, config } = platform;
  return {
    async create(input, within) {
      const region = input.region ?? config.defaultRegion;
      if (!(region in config.regions)) {
        throw new AppError('unknown_region', 400, `Region "${region}" is not configured (available: ${Object.keys(config.regions).join(', ')}).`);
      }
      const slug = tenantSlug.parse(input.slug ?? slugify(input.name));
      const id = randomUUID();
      try {
        return await db.withTenant(id, async (tx) => {
          const row = await tx.insertInto('tenants').values({ id, slug, name: input.name, region }).returningAll().executeTakeFirstOrThrow();
          const keyVersion = await keyring.createTenantKey(tx, id);
          const tenant = toTenant(row);
          const ctx = systemContext('tenant.create', id);
          await audit.record(tx, ctx, { action: 'tenant.create', target: { type: 'tenant', id }, details: { slug, region } });
          await audit.record(tx, ctx, { action: 'key.tenant_key.create', target: { type: 'tenant', id }, details: { version: keyVersion } });
          await within?.(tx, tenant);
          return tenant;
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new AppError('tenant_slug_taken', 409, `A tenant with slug "${slug}" already exists.`);
        throw err;
      }
    },
    async get(id) {
      const row = await db.withTenant(id, (tx) => tx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst());
      return row && toTenant(row);
    },
    async bySlug(slug) {
      const row = await db.withPlatform((tx) => tx.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst());
      return row && toTenant(row);
    },
    async list() {
      const rows = await db.withPlatform((tx) => tx.selectFrom('tenants').selectAll().orderBy('created_at').execute());
      return rows.map(toTenant);
    },
    async trash(tenantId, ctx, graceDays) {
      if (graceDays !== undefined && (!Number.isInteger(graceDays) || graceDays < 0 || graceDays > 365)) {
        throw new AppError('invalid_grace_days', 400, 'The grace period is a whole number of days from 0 to 365.');
      }
      return db.withTenant(tenantId, async (tx) => {
        const before = await tx.selectFrom('tenants').selectAll().where('id', '=', tenantId).forUpdate().executeTakeFirst();
        if (!before || before.purged_at) throw tenantNotFound();
        if (before.deleted_at) throw new AppError('tenant_already_deleted', 409, 'That tenant is already in the trash.');
        const days = graceDays ?? tenantSettingsSchema.parse(before.settings ?? {}).trashRetentionDays;
        const now = platform.clock.now();
        const purgeAfter = new Date(now.getTime() + days * 86_400_000);
        const row = await tx.updateTable('tenants').set({ deleted_at: now, deleted_by: actorUserId(ctx.actor) ?? null, purge_after: purgeAfter })
          .where('id', '=', tenantId).returningAll().executeTakeFirstOrThrow();
        await audit.record(tx, { ...ctx, tenantId }, { action: 'tenant.trash', target: { type: 'tenant', id: tenantId }, details: { slug: before.slug, purgeAfter: purgeAfter.toISOString(), graceDays: days } });
        return toTenant(row);
      });
    },
    async restore(tenantId, ctx) {
      return db.withTenant(tenantId, async (tx) => {
        const before = await tx.selectFrom('tenants').selectAll().where('id', '=', tenantId).forUpdate().executeTakeFirst();
        if (!before || before.purged_at) throw tenantNotFound();
        if (!before.deleted_at) throw new AppError('tenant_not_deleted', 409, 'That tenant is not in the trash.');
        if (before.purge_started_at || before.purge_after <= platform.clock.now()) {
          throw new AppError('trash_window_passed', 410, 'The tenant\'s trash window has passed; it is being purged and cannot be restored.');
        }
        const row = await tx.updateTable('tenants').set({ deleted_at: null, deleted_by: null, purge_after: null })
          .where('id', '=', tenantId).returningAll().executeTakeFirstOrThrow();
        await audit.record(tx, { ...ctx, tenantId }, { action: 'tenant.restore', target: { type: 'tenant', id: tenantId }, details: { slug: before.slug, deletedAt: before.deleted_at.toISOString() } });
        return toTenant(row);
      });
    },
  };
}
