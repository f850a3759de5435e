// The video as the API shows it (GET /api/v1/videos and /api/v1/videos/{id}).
// The library owns the base shape: metadata, status and progress from the
// videos row. Other modules add fields through extend() — media adds its
// renditions, for example — before routes are registered; their fields join
// the OpenAPI schema and are loaded for a whole page of videos in one query.
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import type { CustomFieldValues } from './custom-field-values.ts';

export const videoStatuses = ['uploading', 'processing', 'ready', 'failed'] as const;
export const publishStates = ['draft', 'scheduled', 'published'] as const;
export type PublishState = (typeof publishStates)[number];

export const baseVideoView = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string(),
  language: z.string().nullable(),
  tags: z.array(z.string()),
  customFields: z.record(z.string(), z.union([z.string(), z.number()])),
  status: z.enum(videoStatuses),
  progress: z.object({ percent: z.number().int(), step: z.string().nullable() }),
  error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  durationMs: z.number().nullable(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  publishState: z.enum(publishStates),
  publishAt: z.date().nullable(),
  publishedAt: z.date().nullable(),
  version: z.number().int(),
  collectionIds: z.array(z.uuid()),
  ownerId: z.uuid().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  readyAt: z.date().nullable(),
});
export type VideoView = z.infer<typeof baseVideoView> & Record<string, unknown>;

/** The columns of videos a view is built from (the search and get queries select them). */
export const videoViewColumns = [
  'id', 'title', 'description', 'language', 'tags', 'custom_fields', 'status', 'progress_percent', 'progress_step', 'error_code', 'error_message',
  'duration_ms', 'width', 'height', 'published_state', 'publish_at', 'published_at', 'current_version', 'owner_id', 'created_at', 'updated_at', 'ready_at',
] as const;

export interface VideoRow {
  id: string; title: string; description: string; language: string | null; tags: string[]; custom_fields: CustomFieldValues;
  status: (typeof videoStatuses)[number]; progress_percent: number; progress_step: string | null; error_code: string | null; error_message: string | null;
  duration_ms: number | null; width: number | null; height: number | null; published_state: PublishState; publish_at: Date | null; published_at: Date | null;
  current_version: number; owner_id: string | null; created_at: Date; updated_at: Date; ready_at: Date | null;
}

export function baseView(row: VideoRow, collectionIds: string[]): VideoView {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    language: row.language,
    tags: row.tags,
    customFields: row.custom_fields,
    status: row.status,
    progress: { percent: row.progress_percent, step: row.progress_step },
    error: row.error_code ? { code: row.error_code, message: row.error_message } : null,
    durationMs: row.duration_ms,
    width: row.width,
    height: row.height,
    publishState: row.published_state,
    publishAt: row.publish_at,
    publishedAt: row.published_at,
    version: row.current_version,
    collectionIds,
    ownerId: row.owner_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    readyAt: row.ready_at,
  };
}

export interface VideoViewExtension {
  /** A name for error messages (the extending module). */
  name: string;
  /** The fields it adds, described with zod so they appear in OpenAPI. Use optional or nullable fields. */
  fields: z.ZodRawShape;
  /** Loads the fields of these videos in the reading transaction, in one query for all of them. */
  load(tx: Tx, tenantId: string, videoIds: string[]): Promise<Map<string, Record<string, unknown>>>;
}

export interface VideoViews {
  /** Adds fields to every video view; only before routes are registered. */
  extend(extension: VideoViewExtension): void;
  /** The full view's schema (base plus extensions); fixes the set of extensions. */
  schema(): z.ZodObject;
  /** Views of these rows in their order, with collections and extension fields. */
  render(tx: Tx, tenantId: string, rows: VideoRow[]): Promise<VideoView[]>;
}

export function createVideoViews(): VideoViews {
  const extensions: VideoViewExtension[] = [];
  let fixed: z.ZodObject | undefined;
  return {
    extend(extension) {
      if (fixed) throw new Error(`video view extension ${extension.name} came after the routes were registered`);
      const clash = Object.keys(extension.fields).find((k) => k in baseVideoView.shape || extensions.some((e) => k in e.fields));
      if (clash) throw new Error(`video view extension ${extension.name} redefines the field ${clash}`);
      extensions.push(extension);
    },
    schema() {
      fixed ??= extensions.reduce<z.ZodObject>((schema, e) => schema.extend(e.fields), baseVideoView);
      return fixed;
    },
    async render(tx, tenantId, rows) {
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.id);
      const memberships = await tx
        .selectFrom('collection_videos as cv')
        // Through collections, whose row policy hides those in the trash.
        .innerJoin('collections as c', 'c.id', 'cv.collection_id')
        .select(['cv.video_id', 'cv.collection_id'])
        .where('cv.video_id', 'in', ids)
        .orderBy('cv.added_at')
        .execute();
      const collections = new Map<string, string[]>();
      for (const m of memberships) collections.set(m.video_id, [...(collections.get(m.video_id) ?? []), m.collection_id]);
      // One after another: they share the transaction's connection.
      const extra: Map<string, Record<string, unknown>>[] = [];
      for (const e of extensions) extra.push(await e.load(tx, tenantId, ids));
      return rows.map((row) => Object.assign(baseView(row, collections.get(row.id) ?? []), ...extra.map((m) => m.get(row.id) ?? {})));
    },
  };
}
