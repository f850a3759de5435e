// Collections are folders of videos: nested (a folder has at most one parent,
// up to 20 levels deep), and a video can be in any number of them. Deleting
// a folder deletes its subfolders; the videos stay in the library.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { RequestContext } from '../identity/actor.ts';
import { actorUserId } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { seeTrash, trashColumns, trashWindow } from '../privacy/trash/mark.ts';

export const MAX_DEPTH = 20;
export const MAX_VIDEOS_PER_CALL = 500;

export interface Collection {
  id: string;
  parentId: string | null;
  name: string;
  description: string;
  videoCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export const collectionCreateSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200, 'name may be at most 200 characters'),
  description: z.string().max(5000, 'description may be at most 5,000 characters').optional(),
  parentId: z.uuid('parentId must be a collection id').nullable().optional(),
}).strict();

export const collectionUpdateSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200, 'name may be at most 200 characters').optional(),
  description: z.string().max(5000, 'description may be at most 5,000 characters').optional(),
  parentId: z.uuid('parentId must be a collection id').nullable().optional().describe('Moves the collection (null: to the top level)'),
}).strict();

export const collectionVideosSchema = z.object({
  videoIds: z.array(z.uuid('each video id must be a UUID')).min(1, 'give at least one video id').max(MAX_VIDEOS_PER_CALL, `at most ${MAX_VIDEOS_PER_CALL} videos per call`),
  fromCollectionId: z.uuid().optional().describe('Move: also take the videos out of this collection'),
}).strict();

const columns = sql`c.id, c.parent_id, c.name, c.description, c.created_at, c.updated_at,
  (select count(*) from collection_videos cv where cv.collection_id = c.id)::int as video_count`;

const toCollection = (r: Record<string, any>): Collection => ({
  id: r.id, parentId: r.parent_id, name: r.name, description: r.description, videoCount: r.video_count, createdAt: r.created_at, updatedAt: r.updated_at,
});

async function findCollection(tx: Tx, tenantId: string, id: string): Promise<Collection | undefined> {
  const { rows } = await sql<Record<string, any>>`select ${columns} from collections c where c.tenant_id = ${tenantId} and c.id = ${id}`.execute(tx);
  return rows[0] && toCollection(rows[0]);
}

async function requireCollection(tx: Tx, tenantId: string, id: string): Promise<Collection> {
  const found = await findCollection(tx, tenantId, id);
  if (!found) throw notFound('collection');
  return found;
}

/** How many levels the collection sits at (1 = top level). */
async function depthOf(tx: Tx, id: string): Promise<number> {
  const { rows } = await sql<{ depth: number }>`
    with recursive up as (select id, parent_id, 1 as depth from collections where id = ${id}
      union all select c.id, c.parent_id, up.depth + 1 from collections c join up on c.id = up.parent_id where up.depth <= ${MAX_DEPTH + 1})
    select max(depth)::int as depth from up`.execute(tx);
  return rows[0]?.depth ?? 0;
}

/** Levels below the collection, itself included (1 = no subfolders). */
async function heightOf(tx: Tx, id: string): Promise<{ height: number; ids: string[] }> {
  const { rows } = await sql<{ id: string; level: number }>`
    with recursive down as (select id, 1 as level from collections where id = ${id}
      union all select c.id, down.level + 1 from collections c join down on c.parent_id = down.id where down.level <= ${MAX_DEPTH + 1})
    select id, level from down`.execute(tx);
  return { height: Math.max(0, ...rows.map((r) => r.level)), ids: rows.map((r) => r.id) };
}

/** Every one of the ids is a video of the tenant, or a 404 naming how many are not. */
async function assertVideos(tx: Tx, tenantId: string, videoIds: string[]): Promise<void> {
  const unique = [...new Set(videoIds)];
  const found = await tx.selectFrom('videos').select('id').where('tenant_id', '=', tenantId).where('id', 'in', unique).execute();
  if (found.length !== unique.length) {
    const known = new Set(found.map((f) => f.id));
    throw new AppError('video_not_found', 404, `${unique.length - found.length} of the videos do not exist.`, { missing: unique.filter((v) => !known.has(v)).slice(0, 20) });
  }
}

/** One structural change at a time per tenant: two concurrent moves could otherwise make a cycle or nest too deep. */
const lockTree = (tx: Tx, tenantId: string) => sql`select pg_advisory_xact_lock(hashtext(${`collections:${tenantId}`}))`.execute(tx);

const audited = (c: Collection) => ({ name: c.name, description: c.description, parentId: c.parentId });

export function createCollectionService(platform: Platform, audit: AuditService) {
  const { db } = platform;

  async function checkPlacement(tx: Tx, tenantId: string, parentId: string, moving?: string): Promise<void> {
    await requireCollection(tx, tenantId, parentId);
    let height = 1;
    if (moving) {
      const subtree = await heightOf(tx, moving);
      if (subtree.ids.includes(parentId)) throw new AppError('collection_cycle', 409, 'A collection cannot be moved into itself or one of its subcollections.');
      height = subtree.height;
    }
    if ((await depthOf(tx, parentId)) + height > MAX_DEPTH) throw new AppError('collection_too_deep', 409, `Collections nest at most ${MAX_DEPTH} levels deep.`);
  }

  return {
    async list(ctx: RequestContext): Promise<Collection[]> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const { rows } = await sql<Record<string, any>>`select ${columns} from collections c where c.tenant_id = ${ctx.tenantId} order by c.parent_id nulls first, lower(c.name), c.id`.execute(tx);
        return rows.map(toCollection);
      });
    },

    async get(ctx: RequestContext, id: string): Promise<Collection & { path: { id: string; name: string }[] }> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const collection = await requireCollection(tx, ctx.tenantId, id);
        const { rows } = await sql<{ id: string; name: string }>`
          with recursive up as (select id, parent_id, name, 0 as n from collections where id = ${collection.parentId}
            union all select c.id, c.parent_id, c.name, up.n + 1 from collections c join up on c.id = up.parent_id where up.n < ${MAX_DEPTH})
          select id, name from up order by n desc`.execute(tx);
        return { ...collection, path: rows };
      });
    },

    async create(ctx: RequestContext, input: unknown): Promise<Collection> {
      authorize(ctx, 'videos:write');
      const data = collectionCreateSchema.parse(input);
      return db.withTenant(ctx.tenantId, async (tx) => {
        if (data.parentId) {
          await lockTree(tx, ctx.tenantId);
          await checkPlacement(tx, ctx.tenantId, data.parentId);
        }
        const id = randomUUID();
        await tx.insertInto('collections').values({
          id, tenant_id: ctx.tenantId, parent_id: data.parentId ?? null, name: data.name, description: data.description ?? '', created_by: actorUserId(ctx.actor) ?? null,
        }).execute();
        const created = await requireCollection(tx, ctx.tenantId, id);
        await audit.record(tx, ctx, { action: 'collection.create', target: { type: 'collection', id }, diff: { before: null, after: audited(created) }, personal: ['name', 'description'] });
        return created;
      });
    },

    async update(ctx: RequestContext, id: string, input: unknown): Promise<Collection> {
      authorize(ctx, 'videos:write');
      const change = collectionUpdateSchema.parse(input);
      return db.withTenant(ctx.tenantId, async (tx) => {
        await lockTree(tx, ctx.tenantId);
        const before = await requireCollection(tx, ctx.tenantId, id);
        if (change.parentId && change.parentId !== before.parentId) await checkPlacement(tx, ctx.tenantId, change.parentId, id);
        await tx.updateTable('collections').set({
          name: change.name ?? before.name,
          description: change.description ?? before.description,
          parent_id: change.parentId === undefined ? before.parentId : change.parentId,
          updated_at: sql`now()`,
        }).where('tenant_id', '=', ctx.tenantId).where('id', '=', id).execute();
        const after = await requireCollection(tx, ctx.tenantId, id);
        await audit.record(tx, ctx, { action: 'collection.update', target: { type: 'collection', id }, diff: { before: audited(before), after: audited(after) }, personal: ['name', 'description'] });
        return after;
      });
    },

    /**
     * Deletes the collection and its subcollections: they go to the trash
     * together (restorable until purgeAfter); the videos stay in the library.
     * Returns how many collections went.
     */
    async remove(ctx: RequestContext, id: string): Promise<{ collectionsDeleted: number; purgeAfter: Date }> {
      authorize(ctx, 'videos:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        await lockTree(tx, ctx.tenantId);
        const before = await requireCollection(tx, ctx.tenantId, id);
        const { ids } = await heightOf(tx, id);
        const window = await trashWindow(tx, ctx.tenantId, platform.clock.now());
        await seeTrash(tx);
        const marked = trashColumns(window, actorUserId(ctx.actor));
        await tx.updateTable('collections').set(marked).where('tenant_id', '=', ctx.tenantId).where('id', '=', id).execute();
        // Subfolders go with it and come back with it; ones already in the trash keep their own deletion.
        const below = ids.filter((c) => c !== id);
        if (below.length) {
          await tx.updateTable('collections').set({ ...marked, trashed_with: id })
            .where('tenant_id', '=', ctx.tenantId).where('id', 'in', below).where('deleted_at', 'is', null).execute();
        }
        await audit.record(tx, ctx, {
          action: 'collection.trash', target: { type: 'collection', id }, diff: { before: audited(before), after: null }, personal: ['name', 'description'],
          details: { collectionsDeleted: ids.length, purgeAfter: window.purgeAfter.toISOString() },
        });
        return { collectionsDeleted: ids.length, purgeAfter: window.purgeAfter };
      });
    },

    /** Adds videos (a move when fromCollectionId is given); returns how many were not in it yet. */
    async addVideos(ctx: RequestContext, id: string, input: unknown): Promise<{ added: number; removedFromSource: number }> {
      authorize(ctx, 'videos:write');
      const { videoIds, fromCollectionId } = collectionVideosSchema.parse(input);
      return db.withTenant(ctx.tenantId, async (tx) => {
        await requireCollection(tx, ctx.tenantId, id);
        if (fromCollectionId) await requireCollection(tx, ctx.tenantId, fromCollectionId);
        await assertVideos(tx, ctx.tenantId, videoIds);
        const unique = [...new Set(videoIds)];
        const inserted = await tx
          .insertInto('collection_videos')
          .values(unique.map((videoId) => ({ collection_id: id, video_id: videoId, tenant_id: ctx.tenantId })))
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        let removedFromSource = 0;
        if (fromCollectionId && fromCollectionId !== id) {
          const removed = await tx.deleteFrom('collection_videos').where('collection_id', '=', fromCollectionId).where('video_id', 'in', unique).executeTakeFirst();
          removedFromSource = Number(removed.numDeletedRows);
        }
        const added = Number(inserted.numInsertedOrUpdatedRows ?? 0);
        await audit.record(tx, ctx, {
          action: fromCollectionId ? 'collection.videos.move' : 'collection.videos.add',
          target: { type: 'collection', id },
          details: { videoIds: unique.slice(0, 100), requested: unique.length, added, ...(fromCollectionId ? { fromCollectionId, removedFromSource } : {}) },
        });
        return { added, removedFromSource };
      });
    },

    async removeVideo(ctx: RequestContext, id: string, videoId: string): Promise<void> {
      authorize(ctx, 'videos:write');
      await db.withTenant(ctx.tenantId, async (tx) => {
        await requireCollection(tx, ctx.tenantId, id);
        const removed = await tx.deleteFrom('collection_videos').where('tenant_id', '=', ctx.tenantId).where('collection_id', '=', id).where('video_id', '=', videoId).executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) throw notFound('video');
        await audit.record(tx, ctx, { action: 'collection.videos.remove', target: { type: 'collection', id }, details: { videoId } });
      });
    },
  };
}

export type CollectionService = ReturnType<typeof createCollectionService>;
