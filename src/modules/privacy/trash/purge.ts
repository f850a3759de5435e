// The purge: what passed its trash window is destroyed for good. Each item
// is claimed first (purge_started_at: restore is refused from then on), its
// objects are deleted, and only then its row — so a crash at any point
// leaves a claimed row whose next run finishes the work, never objects that
// no row leads to. Deleting a video's row destroys its wrapped data and HLS
// keys (they live on the row); a tenant's key is destroyed first of all.
import { sql } from 'kysely';
import type { Tx } from '../../../platform/db/database.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { auditKeyOperation } from '../../audit/foundation.ts';
import { type RequestContext, systemContext } from '../../identity/actor.ts';
import { seeTrash, type TrashType } from './mark.ts';

export interface PurgeDeps { platform: Platform; audit: AuditService }
export interface PurgeReport { videos: number; collections: number; users: number; tenants: number; objects: number }

const videoPrefixes = (tenantId: string, videoId: string) => [`t/${tenantId}/v/${videoId}/`, `tenants/${tenantId}/videos/${videoId}/`];
const tenantPrefixes = (tenantId: string) => [`t/${tenantId}/`, `tenants/${tenantId}/`];
/** Tables a tenant purge keeps: the tombstone, its destroyed-key records, its audit chain, and append-only evidence. */
export const tenantPurgeKeeps = new Set(['tenants', 'tenant_keys', 'audit_events', 'audit_chain_heads', 'audit_checkpoints', 'consent_records', 'consent_documents']);

const due = (now: Date, force: boolean) => (force ? sql`true` : sql`purge_after <= ${now}`);

async function claim(tx: Tx, table: 'videos' | 'collections' | 'memberships' | 'tenants', where: ReturnType<typeof sql>, now: Date, force: boolean) {
  await seeTrash(tx);
  const { rows } = await sql<Record<string, any>>`
    update ${sql.table(table)} set purge_started_at = coalesce(purge_started_at, ${now})
    where ${where} and deleted_at is not null and (purge_started_at is not null or ${due(now, force)})
    returning *`.execute(tx);
  return rows[0];
}

/** Hard-deletes one trashed video: objects, then the row (cascading to renditions, captions, attachments, …). */
export async function purgeVideo(deps: PurgeDeps, tenantId: string, videoId: string, ctx: RequestContext, force = false): Promise<number | undefined> {
  const { platform: { db, storage, clock }, audit } = deps;
  const row = await db.withTenant(tenantId, (tx) => claim(tx, 'videos', sql`tenant_id = ${tenantId} and id = ${videoId}`, clock.now(), force));
  if (!row) return undefined;
  const keys = await db.withTenant(tenantId, async (tx) => {
    await seeTrash(tx);
    const { rows } = await sql<{ key: string }>`
      select object_key as key from video_attachments where video_id = ${videoId}
      union select object_key from video_captions where video_id = ${videoId}
      union select original_key from video_versions where video_id = ${videoId} and original_key is not null`.execute(tx);
    return rows.map((r) => r.key);
  });
  const store = storage.forRegion(row.region);
  let objects = 0;
  for (const key of keys) if (!videoPrefixes(tenantId, videoId).some((p) => key.startsWith(p))) { await store.delete(key); objects++; }
  for (const prefix of videoPrefixes(tenantId, videoId)) objects += await store.deletePrefix(prefix);
  await db.withTenant(tenantId, async (tx) => {
    await seeTrash(tx);
    const gone = await tx.deleteFrom('videos').where('tenant_id', '=', tenantId).where('id', '=', videoId).where('purge_started_at', 'is not', null).executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) return;
    await audit.record(tx, { ...ctx, tenantId }, {
      action: 'video.purge', target: { type: 'video', id: videoId },
      details: { objects, deletedAt: row.deleted_at.toISOString(), keysDestroyed: ['data', ...(row.hls_key_wrapped ? ['hls'] : [])] },
    });
  });
  return objects;
}

/** A trashed collection and the subfolders trashed with it (the parent_id foreign key cascades). */
export async function purgeCollection(deps: PurgeDeps, tenantId: string, id: string, ctx: RequestContext, force = false): Promise<boolean> {
  const { platform: { db, clock }, audit } = deps;
  return db.withTenant(tenantId, async (tx) => {
    const row = await claim(tx, 'collections', sql`tenant_id = ${tenantId} and id = ${id} and trashed_with is null`, clock.now(), force);
    if (!row) return false;
    const gone = await tx.deleteFrom('collections').where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', id), eb('trashed_with', '=', id)])).executeTakeFirst();
    await audit.record(tx, { ...ctx, tenantId }, { action: 'collection.purge', target: { type: 'collection', id }, details: { collections: Number(gone.numDeletedRows) } });
    return true;
  });
}

/** A person's trashed membership: the membership, their API tokens and sessions in this tenant. The account itself is platform-wide and stays. */
export async function purgeMembership(deps: PurgeDeps, tenantId: string, userId: string, ctx: RequestContext, force = false): Promise<boolean> {
  const { platform: { db, clock }, audit } = deps;
  return db.withTenant(tenantId, async (tx) => {
    const row = await claim(tx, 'memberships', sql`tenant_id = ${tenantId} and user_id = ${userId}`, clock.now(), force);
    if (!row) return false;
    const tokens = await tx.deleteFrom('api_tokens').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    const sessions = await tx.deleteFrom('sessions').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    await tx.deleteFrom('memberships').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
    await audit.record(tx, { ...ctx, tenantId }, {
      action: 'user.purge', target: { type: 'user', id: userId }, details: { apiTokens: Number(tokens.numDeletedRows), sessions: Number(sessions.numDeletedRows) },
    });
    return true;
  });
}

/** Tenant-owned tables that reference others first, so deleting in this order meets no foreign key. */
async function tenantTablesInDeleteOrder(tx: Tx): Promise<string[]> {
  const { rows: tables } = await sql<{ table: string }>`
    select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
    where n.nspname = 'public' and c.relkind = 'r'`.execute(tx);
  const { rows: refs } = await sql<{ from: string; to: string }>`
    select cf.relname as from, ct.relname as to from pg_constraint k
    join pg_class cf on cf.oid = k.conrelid join pg_class ct on ct.oid = k.confrelid
    join pg_namespace n on n.oid = cf.relnamespace
    where k.contype = 'f' and n.nspname = 'public' and cf.oid <> ct.oid`.execute(tx);
  const names = tables.map((t) => t.table).filter((t) => !tenantPurgeKeeps.has(t)).sort();
  const order: string[] = [];
  const visiting = new Set<string>();
  // Depth-first: every table that references t is deleted before t.
  const visit = (t: string) => {
    if (order.includes(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const r of refs) if (r.to === t && names.includes(r.from)) visit(r.from);
    order.push(t);
  };
  for (const t of names) visit(t);
  return order;
}

/**
 * Destroys a tenant: its key first (crypto-shred: every copy of its media and
 * sealed secrets, backups included, becomes unreadable), then its objects in
 * every region, then every row it owns except the tombstone, the destroyed
 * key records and its audit chain. Idempotent: a rerun finishes an
 * interrupted purge. force skips the trash window (offboarding, delete now).
 */
export async function purgeTenant(deps: PurgeDeps, tenantId: string, ctx: RequestContext, opts: { force?: boolean } = {}): Promise<{ keysDestroyed: number; objects: number; rows: number } | undefined> {
  const { platform: { db, storage, keyring, clock }, audit } = deps;
  const now = clock.now();
  const keysDestroyed = await db.withTenant(tenantId, async (tx) => {
    const row = await claim(tx, 'tenants', sql`id = ${tenantId} and purged_at is null`, now, opts.force ?? false);
    if (!row) return undefined;
    const destroyed = await keyring.destroyTenantKeys(tx, tenantId);
    if (destroyed > 0) await auditKeyOperation(audit, tx, { ...ctx, tenantId }, { operation: 'tenant_key.destroy', tenantId });
    return destroyed;
  });
  if (keysDestroyed === undefined) return undefined;
  let objects = 0;
  for (const region of storage.regions()) for (const prefix of tenantPrefixes(tenantId)) objects += await storage.forRegion(region).deletePrefix(prefix);
  const rows = await db.withTenant(tenantId, async (tx) => {
    await seeTrash(tx);
    let deleted = 0;
    for (const table of await tenantTablesInDeleteOrder(tx)) {
      const res = await sql`delete from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(tx);
      deleted += Number(res.numAffectedRows ?? 0);
    }
    await tx.updateTable('tenants').set({ purged_at: now }).where('id', '=', tenantId).execute();
    await audit.record(tx, { ...ctx, tenantId }, { action: 'tenant.purge', target: { type: 'tenant', id: tenantId }, details: { keysDestroyed, objects, rows: deleted } });
    return deleted;
  });
  return { keysDestroyed, objects, rows };
}

/** One pass of the hourly job: everything whose window has passed (and any purge a crash interrupted). */
export async function purgeDue(deps: PurgeDeps, now = deps.platform.clock.now(), batch = 200): Promise<PurgeReport> {
  const ctx = systemContext('privacy.trash-purge');
  const report: PurgeReport = { videos: 0, collections: 0, users: 0, tenants: 0, objects: 0 };
  const dueRows = await deps.platform.db.withPlatform(async (tx) => {
    await seeTrash(tx);
    const { rows } = await sql<{ type: TrashType | 'tenant'; tenant_id: string; id: string }>`
      (select 'tenant' as type, id as tenant_id, id from tenants where deleted_at is not null and purged_at is null and (purge_started_at is not null or purge_after <= ${now}) limit ${batch})
      union all (select 'video', tenant_id, id from videos where deleted_at is not null and (purge_started_at is not null or purge_after <= ${now}) limit ${batch})
      union all (select 'collection', tenant_id, id from collections where deleted_at is not null and trashed_with is null and (purge_started_at is not null or purge_after <= ${now}) limit ${batch})
      union all (select 'user', tenant_id, user_id from memberships where deleted_at is not null and (purge_started_at is not null or purge_after <= ${now}) limit ${batch})`.execute(tx);
    return rows;
  });
  const purgedTenants = new Set<string>();
  for (const r of dueRows.filter((d) => d.type === 'tenant')) {
    const done = await purgeTenant(deps, r.id, ctx);
    if (done) { report.tenants++; report.objects += done.objects; purgedTenants.add(r.id); }
  }
  for (const r of dueRows) {
    if (purgedTenants.has(r.tenant_id)) continue;
    if (r.type === 'video') {
      const objects = await purgeVideo(deps, r.tenant_id, r.id, ctx);
      if (objects !== undefined) { report.videos++; report.objects += objects; }
    } else if (r.type === 'collection') {
      if (await purgeCollection(deps, r.tenant_id, r.id, ctx)) report.collections++;
    } else if (r.type === 'user') {
      if (await purgeMembership(deps, r.tenant_id, r.id, ctx)) report.users++;
    }
  }
  return report;
}
