// Tenants: the client organizations that own their data. Each gets its own
// encryption key at creation, in the same transaction.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { systemContext } from './actor.ts';
import type { AuditPort } from './audit-port.ts';

export const tenantSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'use 2–63 lowercase letters, digits and dashes');

export interface Tenant { id: string; slug: string; name: string; region: string; status: 'active' | 'ended'; createdAt: Date }

export interface NewTenant { name: string; slug?: string; region?: string }

export interface TenantService {
  create(input: NewTenant, within?: (tx: Tx, tenant: Tenant) => Promise<void>): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
  bySlug(slug: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
}

const toTenant = (r: Record<string, any>): Tenant => ({ id: r.id, slug: r.slug, name: r.name, region: r.region, status: r.status, createdAt: r.created_at });

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
  };
}
