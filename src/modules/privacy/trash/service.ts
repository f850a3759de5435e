// The tenant admin's view of the trash: what was deleted, by whom, until
// when it can come back; restore within the window; purge now.
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError } from '../../../platform/errors.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { authorize } from '../../identity/access.ts';
import { type PurgeDeps, purgeCollection, purgeMembership, purgeVideo } from './purge.ts';
import { hideTrash, seeTrash, type TrashType, trashTypes } from './mark.ts';

export const trashListQuery = z.object({
  type: z.enum(trashTypes).optional().describe('Only this kind of item'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
}).strict();

export interface TrashItem { type: TrashType; id: string; name: string; deletedAt: Date; deletedBy: string | null; purgeAfter: Date; purging: boolean }

const notInTrash = (type: TrashType) => new AppError(`${type}_not_found`, 404, `No ${type} with that id is in the trash.`);

/** The trashed row as the trash sees it (only roots: subfolders trashed with a folder come with it). */
async function trashedRow(tx: Tx, tenantId: string, type: TrashType, id: string): Promise<Record<string, any> | undefined> {
  const q = type === 'video'
    ? sql`select id, title as name, deleted_at, purge_after, purge_started_at from videos where tenant_id = ${tenantId} and id = ${id} and deleted_at is not null for update`
    : type === 'collection'
      ? sql`select id, name, parent_id, deleted_at, purge_after, purge_started_at from collections where tenant_id = ${tenantId} and id = ${id} and deleted_at is not null and trashed_with is null for update`
      : sql`select user_id as id, role, deleted_at, purge_after, purge_started_at from memberships where tenant_id = ${tenantId} and user_id = ${id} and deleted_at is not null for update`;
  return (await q.execute(tx)).rows[0] as Record<string, any> | undefined;
}

export function createTrashService(deps: PurgeDeps) {
  const { platform: { db, clock }, audit } = deps;

  return {
    async list(ctx: RequestContext, query: z.infer<typeof trashListQuery>): Promise<TrashItem[]> {
      authorize(ctx, 'privacy:read');
      const want = (t: TrashType) => !query.type || query.type === t;
      return db.withTenant(ctx.tenantId, async (tx) => {
        await seeTrash(tx);
        const parts = [
          want('video') && sql`select 'video' as type, id::text as id, title as name, deleted_at, deleted_by, purge_after, purge_started_at from videos where deleted_at is not null`,
          want('collection') && sql`select 'collection' as type, id::text as id, name, deleted_at, deleted_by, purge_after, purge_started_at from collections where deleted_at is not null and trashed_with is null`,
          want('user') && sql`select 'user' as type, m.user_id::text as id, coalesce(nullif(u.display_name, ''), u.username) as name, m.deleted_at, m.deleted_by, m.purge_after, m.purge_started_at
            from memberships m join users u on u.id = m.user_id where m.deleted_at is not null`,
        ].filter((p) => p !== false);
        const { rows } = await sql<Record<string, any>>`select * from (${sql.join(parts, sql` union all `)}) t order by deleted_at desc, id limit ${query.limit}`.execute(tx);
        return rows.map((r) => ({ type: r.type, id: r.id, name: r.name, deletedAt: r.deleted_at, deletedBy: r.deleted_by, purgeAfter: r.purge_after, purging: Boolean(r.purge_started_at) }));
      });
    },

    /** Brings an item back as it was: keys, objects, collection memberships and subfolders were all kept. */
    async restore(ctx: RequestContext, type: TrashType, id: string): Promise<{ type: TrashType; id: string }> {
      authorize(ctx, 'privacy:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        await seeTrash(tx);
        const row = await trashedRow(tx, ctx.tenantId, type, id);
        if (!row) throw notInTrash(type);
        if (row.purge_started_at || row.purge_after <= clock.now()) {
          throw new AppError('trash_window_passed', 410, `The ${type}'s trash window has passed; it is being purged and cannot be restored.`);
        }
        const cleared = { deleted_at: null, deleted_by: null, purge_after: null };
        const details: Record<string, unknown> = { deletedAt: row.deleted_at.toISOString() };
        if (type === 'video') {
          await tx.updateTable('videos').set(cleared).where('tenant_id', '=', ctx.tenantId).where('id', '=', id).execute();
        } else if (type === 'collection') {
          // A parent that is itself in the trash cannot hold it: it comes back at the top level.
          const parentGone = row.parent_id
            ? Boolean(await tx.selectFrom('collections').select('id').where('id', '=', row.parent_id).where('deleted_at', 'is not', null).executeTakeFirst())
            : false;
          await tx.updateTable('collections').set({ ...cleared, ...(parentGone ? { parent_id: null } : {}) }).where('tenant_id', '=', ctx.tenantId).where('id', '=', id).execute();
          const sub = await tx.updateTable('collections').set({ ...cleared, trashed_with: null }).where('tenant_id', '=', ctx.tenantId).where('trashed_with', '=', id).executeTakeFirst();
          details.collectionsRestored = 1 + Number(sub.numUpdatedRows);
          if (parentGone) details.movedToTopLevel = true;
        } else {
          await tx.updateTable('memberships').set(cleared).where('tenant_id', '=', ctx.tenantId).where('user_id', '=', id).execute();
          details.role = row.role;
        }
        await hideTrash(tx);
        await audit.record(tx, ctx, { action: `${type}.restore`, target: { type, id }, details });
        return { type, id };
      });
    },

    /** Purges one trashed item now, before its window ends (owners and admins). */
    async purgeNow(ctx: RequestContext, type: TrashType, id: string): Promise<void> {
      authorize(ctx, 'privacy:write');
      const tenantId = ctx.tenantId;
      const found = await db.withTenant(tenantId, async (tx) => {
        await seeTrash(tx);
        const row = await trashedRow(tx, tenantId, type, id);
        if (row) await audit.record(tx, ctx, { action: `${type}.purge_requested`, target: { type, id }, details: { deletedAt: row.deleted_at.toISOString(), purgeAfter: row.purge_after.toISOString() } });
        return Boolean(row);
      });
      if (!found) throw notInTrash(type);
      if (type === 'video') await purgeVideo(deps, tenantId, id, ctx, true);
      else if (type === 'collection') await purgeCollection(deps, tenantId, id, ctx, true);
      else await purgeMembership(deps, tenantId, id, ctx, true);
    },
  };
}

export type TrashService = ReturnType<typeof createTrashService>;
