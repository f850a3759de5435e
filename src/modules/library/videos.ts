// A video's library metadata: reading, searching and editing title,
// description, language, tags, custom field values and publish state. Every
// change is one transaction with its audit event (a before/after diff).
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { RequestContext } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { actorUserId } from '../identity/actor.ts';
import { seeTrash, trashColumns, trashWindow } from '../privacy/trash/mark.ts';
import { type CursorCodec, searchDigest } from './cursor.ts';
import { applyValueChange, type CustomFieldValues } from './custom-field-values.ts';
import { definitionsOf } from './custom-fields.ts';
import { applyPublishChange } from './publishing.ts';
import { type SearchParams, searchWords } from './search-params.ts';
import { type Facets, searchFacets, searchVideos, textQuery, type VideoFilter } from './search-store.ts';
import { tagListInput, tagSet } from './tags.ts';
import { publishStates, type VideoRow, type VideoView, type VideoViews, videoViewColumns } from './view.ts';
import { emitVideoEvent } from './webhooks/events.ts';

export const languageTag = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'language must be a language tag such as en, sv or de-CH');

export const videoPatchSchema = z.object({
  title: z.string().trim().min(1, 'title must not be empty').max(500, 'title may be at most 500 characters').optional(),
  description: z.string().max(20_000, 'description may be at most 20,000 characters').optional(),
  language: languageTag.nullable().optional().describe('Picks the search stemming: en, sv, fi and de have their own; others use simple matching'),
  tags: tagListInput.optional().describe('Replaces the tags: trimmed, lowercased, at most 64 characters each and 50 per video'),
  customFields: z.record(z.string().max(64), z.unknown())
    .refine((v) => Object.keys(v).length <= 100, 'at most 100 custom fields may be changed at once')
    .optional().describe('Values by field key; null removes a value; other keys keep theirs'),
  publishState: z.enum(publishStates).optional(),
  publishAt: z.iso.datetime({ offset: true, error: 'publishAt must be an ISO 8601 date-time with a time zone' }).nullable().optional(),
}).strict();
export type VideoPatch = z.infer<typeof videoPatchSchema>;

export interface VideoPage { items: VideoView[]; nextCursor: string | null; facets?: Facets }

/** The fields an audit diff shows of a video; free text is masked by the audit module. */
const auditedFields = (r: VideoRow) => ({
  title: r.title, description: r.description, language: r.language, tags: r.tags, customFields: r.custom_fields,
  publishState: r.published_state, publishAt: r.publish_at, publishedAt: r.published_at,
});
const personalFields = ['title', 'description', 'customFields'];

export async function videoRow(tx: Tx, tenantId: string, videoId: string, lock = false): Promise<VideoRow | undefined> {
  return tx
    .selectFrom('videos')
    .select([...videoViewColumns])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', videoId)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst() as Promise<VideoRow | undefined>;
}

/** The video row, or the 404 that unknown ids and other tenants' ids both get. */
export async function requireVideo(tx: Tx, tenantId: string, videoId: string, lock = false): Promise<VideoRow> {
  const row = await videoRow(tx, tenantId, videoId, lock);
  if (!row) throw notFound('video');
  return row;
}

export function createVideoService(deps: { platform: Platform; audit: AuditService; views: VideoViews; cursors: CursorCodec }) {
  const { platform: { db, clock }, audit, views, cursors } = deps;

  return {
    async get(ctx: RequestContext, videoId: string): Promise<VideoView> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, async (tx) => (await views.render(tx, ctx.tenantId, [await requireVideo(tx, ctx.tenantId, videoId)]))[0]!);
    },

    async search(ctx: RequestContext, params: SearchParams): Promise<VideoPage> {
      authorize(ctx, 'videos:read');
      const tenantId = ctx.tenantId;
      const words = searchWords(params.q);
      const sort = params.sort ?? (words.length ? 'relevance' : 'created');
      if (sort === 'relevance' && !words.length) throw new AppError('invalid_sort', 400, 'Sorting by relevance needs search words in q.');
      const order = params.order ?? (sort === 'title' ? 'asc' : 'desc');
      const filter: VideoFilter = {
        tenantId,
        tags: params.tag ?? [],
        collectionId: params.collection,
        statuses: params.status,
        publishStates: params.publishState,
        createdFrom: params.createdFrom ? new Date(params.createdFrom) : undefined,
        createdTo: params.createdTo ? new Date(params.createdTo) : undefined,
        durationMinMs: params.durationMin === undefined ? undefined : Math.round(params.durationMin * 1000),
        durationMaxMs: params.durationMax === undefined ? undefined : Math.round(params.durationMax * 1000),
      };
      if (filter.createdFrom && filter.createdTo && filter.createdFrom >= filter.createdTo) {
        throw new AppError('invalid_filter', 400, 'createdFrom must be before createdTo.');
      }
      if (filter.durationMinMs !== undefined && filter.durationMaxMs !== undefined && filter.durationMinMs > filter.durationMaxMs) {
        throw new AppError('invalid_filter', 400, 'durationMin must not be more than durationMax.');
      }
      const { tenantId: _t, ...bound } = filter;
      const digest = searchDigest({ ...bound, words, sort, order });
      const after = params.cursor ? cursors.decode(tenantId, digest, params.cursor) : undefined;
      const page = db.withTenant(tenantId, async (tx) => {
        const rows = await searchVideos(tx, { ...filter, text: await textQuery(tx, words) }, { sort, order }, params.limit + 1, after);
        const shown = rows.slice(0, params.limit);
        const last = shown.at(-1);
        const nextCursor = rows.length > params.limit && last ? cursors.encode(tenantId, digest, { key: last.sort_key, id: last.id }) : null;
        return { items: await views.render(tx, tenantId, shown), nextCursor };
      });
      // Facets count every match, a second pass over them: on a connection of
      // their own, at the same time as the page.
      const facets = params.facets
        ? db.withTenant(tenantId, async (tx) => searchFacets(tx, { ...filter, text: await textQuery(tx, words) }))
        : undefined;
      const [result, counts] = await Promise.all([page, facets]);
      return counts ? { ...result, facets: counts } : result;
    },

    async update(ctx: RequestContext, videoId: string, input: unknown): Promise<VideoView> {
      authorize(ctx, 'videos:write');
      const patch = videoPatchSchema.parse(input);
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await requireVideo(tx, ctx.tenantId, videoId, true);
        let customFields: CustomFieldValues = before.custom_fields;
        if (patch.customFields) customFields = applyValueChange(before.custom_fields, patch.customFields, await definitionsOf(tx, ctx.tenantId));
        const publish = applyPublishChange(before, patch, clock.now());
        await tx
          .updateTable('videos')
          .set({
            title: patch.title ?? before.title,
            description: patch.description ?? before.description,
            language: patch.language === undefined ? before.language : patch.language,
            tags: patch.tags ? tagSet(patch.tags) : before.tags,
            custom_fields: JSON.stringify(customFields),
            ...publish,
            updated_at: sql`now()`,
          })
          .where('tenant_id', '=', ctx.tenantId)
          .where('id', '=', videoId)
          .execute();
        const after = await requireVideo(tx, ctx.tenantId, videoId);
        await audit.record(tx, ctx, {
          action: 'video.update',
          target: { type: 'video', id: videoId },
          diff: { before: auditedFields(before), after: auditedFields(after) },
          personal: personalFields,
        });
        return (await views.render(tx, ctx.tenantId, [after]))[0]!;
      });
    },

    /**
     * Deletes a video: it goes to the trash, invisible to search, get and
     * playback at once, restorable until purgeAfter (the tenant's trash
     * window); the hourly purge then removes its objects and keys.
     */
    async trash(ctx: RequestContext, videoId: string): Promise<{ id: string; deletedAt: Date; purgeAfter: Date }> {
      authorize(ctx, 'videos:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await requireVideo(tx, ctx.tenantId, videoId, true);
        const window = await trashWindow(tx, ctx.tenantId, clock.now());
        await seeTrash(tx);
        await tx.updateTable('videos').set(trashColumns(window, actorUserId(ctx.actor))).where('tenant_id', '=', ctx.tenantId).where('id', '=', videoId).execute();
        await audit.record(tx, ctx, {
          action: 'video.trash', target: { type: 'video', id: videoId },
          details: { status: before.status, purgeAfter: window.purgeAfter.toISOString(), retentionDays: window.retentionDays },
        });
        await emitVideoEvent(tx, ctx.tenantId, 'video.deleted', { videoId, purgeAfter: window.purgeAfter.toISOString() });
        return { id: videoId, deletedAt: window.deletedAt, purgeAfter: window.purgeAfter };
      });
    },
  };
}

export type VideoService = ReturnType<typeof createVideoService>;
