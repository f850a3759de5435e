// "May this actor do X on these ids?", answered for many ids at once with one
// query per resource type. Modules register how to find their resources in a
// tenant; row-level security backs every lookup. Ids the actor may not see are
// indistinguishable from ids that do not exist (both: not found).
import type { Database, Tx } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { RequestContext } from './actor.ts';
import { authorize, type Permission } from './access.ts';

/** Returns the subset of ids that exist in the tenant (one query). */
export type ResourceLookup = (tx: Tx, tenantId: string, ids: readonly string[]) => Promise<string[]>;

export interface AccessService {
  register(resourceType: string, lookup: ResourceLookup): void;
  /** The ids the actor may use for this permission; others are silently dropped. */
  filter(ctx: RequestContext, permission: Permission, resourceType: string, ids: readonly string[]): Promise<string[]>;
  /** Throws not-found (never forbidden) unless the actor may use every id. */
  assertAll(ctx: RequestContext, permission: Permission, resourceType: string, ids: readonly string[]): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAccessService(db: Database): AccessService {
  const lookups = new Map<string, ResourceLookup>();
  const service: AccessService = {
    register(resourceType, lookup) {
      if (lookups.has(resourceType)) throw new Error(`resource type ${resourceType} registered twice`);
      lookups.set(resourceType, lookup);
    },
    async filter(ctx, permission, resourceType, ids) {
      authorize(ctx, permission);
      const lookup = lookups.get(resourceType);
      if (!lookup) throw new Error(`no access lookup for resource type ${resourceType}`);
      const wanted = [...new Set(ids)].filter((id) => UUID.test(id));
      if (wanted.length === 0) return [];
      const tenantId = ctx.tenantId;
      const found = new Set(await db.withTenant(tenantId, (tx) => lookup(tx, tenantId, wanted)));
      return ids.filter((id) => found.has(id));
    },
    async assertAll(ctx, permission, resourceType, ids) {
      const allowed = new Set(await service.filter(ctx, permission, resourceType, ids));
      if (ids.some((id) => !allowed.has(id))) throw notFound(resourceType);
    },
  };
  return service;
}

/** The identity module's own resources. */
export function registerIdentityResources(access: AccessService): void {
  access.register('user', async (tx, tenantId, ids) =>
    (await tx.selectFrom('memberships').select('user_id').where('tenant_id', '=', tenantId).where('user_id', 'in', ids).execute()).map((r) => r.user_id));
  access.register('invitation', async (tx, tenantId, ids) =>
    (await tx.selectFrom('invitations').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()).map((r) => r.id));
}
