// Replacing a video's source keeps history: the source that is being
// replaced (its object, data key, size, hash, shape) becomes a row of
// video_versions, and the video's version number goes up. The media module
// calls recordNewVersion in the transaction in which a new upload takes over
// the video, before it writes the new source's columns and re-transcodes.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import { actorUserId, type RequestContext } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { requireVideo } from './videos.ts';

export interface VideoVersion {
  version: number;
  sourceSizeBytes: number | null;
  sourceSha256: string | null;
  durationMs: number | null;
  width: number | null;
  height: number | null;
  reason: string;
  replacedBy: string | null;
  /** When this source became the video's. */
  createdAt: Date;
  /** When a newer source replaced it. */
  replacedAt: Date;
}

export interface NewVersion {
  /** The version number the video has now (the new source's). */
  version: number;
  /** The version the replaced source is kept as. */
  previous: number;
  /** What the replaced source was stored as; the caller decides when its objects may go. */
  previousSource: { originalKey: string | null; dataKeyWrapped: string | null };
}

const toVersion = (r: Record<string, any>): VideoVersion => ({
  version: r.version, sourceSizeBytes: r.source_size_bytes, sourceSha256: r.source_sha256, durationMs: r.duration_ms, width: r.width, height: r.height,
  reason: r.reason, replacedBy: r.replaced_by, createdAt: r.created_at, replacedAt: r.replaced_at,
});

/**
 * Records that the video's current source is being replaced: archives it as
 * a version row, bumps videos.current_version and audits it, all in the
 * caller's transaction. Throws the video's 404 for an unknown id.
 */
export async function recordNewVersion(tx: Tx, audit: AuditService, ctx: RequestContext, tenantId: string, videoId: string, opts: { reason?: string } = {}): Promise<NewVersion> {
  await requireVideo(tx, tenantId, videoId, true);
  const current = await tx
    .selectFrom('videos')
    .select(['current_version', 'original_key', 'data_key_wrapped', 'source_size_bytes', 'source_sha256', 'duration_ms', 'width', 'height', 'created_at'])
    .where('id', '=', videoId)
    .executeTakeFirstOrThrow();
  const previousVersion = await tx.selectFrom('video_versions').select('replaced_at').where('video_id', '=', videoId).orderBy('version', 'desc').limit(1).executeTakeFirst();
  const reason = (opts.reason ?? '').slice(0, 500);
  await tx.insertInto('video_versions').values({
    tenant_id: tenantId,
    video_id: videoId,
    version: current.current_version,
    original_key: current.original_key,
    data_key_wrapped: current.data_key_wrapped,
    source_size_bytes: current.source_size_bytes,
    source_sha256: current.source_sha256,
    duration_ms: current.duration_ms,
    width: current.width,
    height: current.height,
    reason,
    replaced_by: actorUserId(ctx.actor) ?? null,
    created_at: previousVersion?.replaced_at ?? current.created_at,
  }).execute();
  const version = current.current_version + 1;
  await tx.updateTable('videos').set({ current_version: version, updated_at: sql`now()` }).where('id', '=', videoId).execute();
  await audit.record(tx, ctx, {
    action: 'video.version.create',
    target: { type: 'video', id: videoId },
    diff: { before: { version: current.current_version, sourceSha256: current.source_sha256 }, after: { version } },
    details: reason ? { reason } : undefined,
  });
  return { version, previous: current.current_version, previousSource: { originalKey: current.original_key, dataKeyWrapped: current.data_key_wrapped } };
}

export function createVersionService(platform: Platform) {
  const { db } = platform;
  return {
    /** The replaced sources of a video, newest first (the current one is the video itself). */
    async list(ctx: RequestContext, videoId: string): Promise<{ current: number; items: VideoVersion[] }> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const video = await requireVideo(tx, ctx.tenantId, videoId);
        const rows = await tx.selectFrom('video_versions').selectAll().where('tenant_id', '=', ctx.tenantId).where('video_id', '=', videoId).orderBy('version', 'desc').execute();
        return { current: video.current_version, items: rows.map(toVersion) };
      });
    },
  };
}

export type VersionService = ReturnType<typeof createVersionService>;
