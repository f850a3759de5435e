// Replacing a video's source (docs/media.md, "Replacing the source"). An
// editor uploads a new file through tus with Upload-Metadata `replaces` = the
// video's id. The video stays ready and playable with its current version
// while the file arrives and while ingest validates it. A refused file fails
// only the replacement: the upload goes, the refusal is audited, the video is
// untouched. An accepted file takes the video over in one transaction (the
// old source goes to the library's version history, keys are rotated, a new
// ladder generation begins, audit video.source.replace), the old original and
// images are deleted, and the ordinary pipeline transcodes the new source,
// ending in video.ready again. The old ladder plays on until the new one's
// first rendition is published, and is removed after it is complete
// (generations.ts).
//
// A replacement needs no state of its own: it is the video's upload created
// after the video became ready (uploads.created_at > videos.ready_at), and
// there is at most one (409 otherwise).
import { stat } from 'node:fs/promises';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { defaultMediaLimits, isProblem, MediaRejected, probe, validateProbe } from '../../platform/ffmpeg/index.ts';
import type { JobContext } from '../../platform/jobs.ts';
import type { AuditService } from '../audit/service.ts';
import { actorUserId, type RequestContext, systemContext } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { recordNewVersion } from '../library/versions.ts';
import { removeGenerationObjects, retireGeneration } from './generations.ts';
import type { VideoRef } from './jobs.ts';
import { newSealedKeys } from './keys.ts';
import { hlsPrefix, imagesPrefix, originalKey } from './objects.ts';
import type { PipelineDeps } from './pipeline.ts';
import { tenantLimits } from './quotas.ts';
import { pipelineVideo, type UploadRow } from './store.ts';

const replacesSchema = z.uuid({ message: 'replaces must be the id of the video whose source the upload replaces' });

/** The video a tus upload replaces the source of, from its Upload-Metadata; undefined for an upload that creates a video. */
export function replacedVideoId(metadata: Record<string, string | null> | undefined): string | undefined {
  const raw = metadata?.replaces;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const parsed = replacesSchema.safeParse(raw.trim());
  if (!parsed.success) throw new AppError('upload_metadata_invalid', 400, parsed.error.issues[0]!.message);
  return parsed.data;
}

/** The replacement upload of a video (finished or not), if one is under way. */
export async function pendingReplacement(tx: Tx, videoId: string): Promise<{ id: string; user_id: string | null; size_bytes: number | null; completed_at: Date | null } | undefined> {
  return tx.selectFrom('uploads as u').innerJoin('videos as v', 'v.id', 'u.video_id')
    .select(['u.id', 'u.user_id', 'u.size_bytes', 'u.completed_at'])
    .where('u.video_id', '=', videoId).where('v.status', '=', 'ready')
    .where(sql<boolean>`u.created_at > coalesce(v.ready_at, v.created_at)`)
    .orderBy('u.created_at', 'desc')
    .executeTakeFirst() as Promise<{ id: string; user_id: string | null; size_bytes: number | null; completed_at: Date | null } | undefined>;
}

/** An upload whose video is ready is a replacement (an upload that creates a video has it uploading). */
export const isReplacementUpload = (upload: Pick<UploadRow, 'video_status'>) => upload.video_status === 'ready';

/**
 * Opens a replacement upload for a ready video of the caller's tenant, in the
 * caller's transaction (which holds the tenant's quota lock). 404 for unknown
 * and other tenants' ids, 409 while the video is not ready or already has a
 * replacement under way.
 */
export async function openReplacement(tx: Tx, audit: Pick<AuditService, 'record'>, ctx: RequestContext & { tenantId: string }, videoId: string, region: string, uploadId: string, size: number, expiryHours: number): Promise<void> {
  authorize(ctx, 'videos:write');
  const video = await tx.selectFrom('videos').select(['id', 'status', 'region']).where('id', '=', videoId).forUpdate().executeTakeFirst();
  if (!video) throw notFound('video');
  if (video.status !== 'ready') {
    throw new AppError('video_not_ready', 409, `The video is ${video.status}; its source can be replaced once it is ready.`);
  }
  if (await pendingReplacement(tx, videoId)) {
    throw new AppError('replacement_in_progress', 409, 'A replacement of this video\'s source is already under way; wait for it to finish or cancel its upload.');
  }
  if (video.region !== region) {
    throw new AppError('region_mismatch', 409, `The video is stored in region ${video.region}; upload its new source to that region's upload endpoint.`);
  }
  await tx.insertInto('uploads').values({
    id: uploadId, tenant_id: ctx.tenantId, video_id: videoId, user_id: actorUserId(ctx.actor) ?? null, size_bytes: size,
    expires_at: sql`now() + make_interval(hours => ${expiryHours})`,
  }).execute();
  await audit.record(tx, ctx, { action: 'video.source.upload.create', target: { type: 'video', id: videoId }, details: { sizeBytes: size } });
}

type Outcome = 'none' | 'refused' | 'swapped';

/**
 * Ingest's first step for a ready video: if its replacement upload is
 * complete, validate the new file; refuse it (the video stays as it was) or
 * let it take the video over. Idempotent: a retry after the takeover finds
 * the video processing and goes on with ordinary ingest.
 */
export async function takeOverReplacement(deps: PipelineDeps, ref: VideoRef, ctx: JobContext): Promise<Outcome> {
  const { db } = deps.platform;
  const found = await db.withTenant(ref.tenantId, async (tx) => {
    const video = await tx.selectFrom('videos').select(['region', 'status']).where('id', '=', ref.videoId).executeTakeFirst();
    const upload = video && await pendingReplacement(tx, ref.videoId);
    return video && upload?.completed_at ? { region: video.region, upload } : undefined;
  });
  if (!found) return 'none';
  const { region, upload } = found;
  const staged = deps.staging.uploadFile(region, upload.id);

  let refusal: { code: string; message: string } | undefined;
  if ((await stat(staged).catch(() => undefined))?.size !== Number(upload.size_bytes)) {
    refusal = { code: 'source_missing', message: 'The uploaded file is no longer available on the server; upload it again.' };
  } else {
    try {
      const summary = await probe(staged, { signal: ctx.signal });
      const limits = await db.withTenant(ref.tenantId, (tx) => tenantLimits(tx, ref.tenantId, deps.platform.config));
      const verdict = validateProbe(summary, { ...defaultMediaLimits, maxDurationSeconds: limits.maxDurationSeconds });
      if (isProblem(verdict)) refusal = { code: verdict.code, message: verdict.message };
    } catch (err) {
      if (!(err instanceof MediaRejected)) throw err;
      refusal = { code: err.code, message: err.message };
    }
  }

  // The job acts; the person who uploaded the new source is in the upload's own audit event (video.source.upload.create).
  const actor = systemContext('media.replace', ref.tenantId);
  if (refusal) {
    await db.withTenant(ref.tenantId, async (tx) => {
      const gone = await tx.deleteFrom('uploads').where('id', '=', upload.id).executeTakeFirst();
      if (Number(gone.numDeletedRows) !== 1) return;
      await deps.audit.record(tx, actor, {
        action: 'video.source.replace', outcome: 'failed', target: { type: 'video', id: ref.videoId },
        details: { code: refusal.code, message: refusal.message, sizeBytes: Number(upload.size_bytes) },
      });
    });
    await deps.staging.removeUpload(region, upload.id);
    deps.platform.log.info({ videoId: ref.videoId, code: refusal.code }, 'replacement source refused; the video keeps its current version');
    return 'refused';
  }

  // A previous replacement's old ladder still waiting for its grace period goes first: two generations at most.
  const before = await db.withTenant(ref.tenantId, (tx) => pipelineVideo(tx, ref.videoId));
  if (before?.previous_generation != null) await retireGeneration(deps, { tenantId: ref.tenantId, videoId: ref.videoId, generation: before.previous_generation });

  const swapped = await db.withTenant(ref.tenantId, async (tx) => {
    const current = await pipelineVideo(tx, ref.videoId, { lock: true });
    // Removed just above; set again only by a takeover racing this one, so let the job's retry decide.
    if (current?.previous_generation != null) throw new Error(`video ${ref.videoId} still has a previous ladder; retrying the takeover`);
    const still = current?.status === 'ready' ? await pendingReplacement(tx, ref.videoId) : undefined;
    if (!current || !still || still.id !== upload.id || !still.completed_at) return undefined;
    // recordNewVersion takes the whole audit service but only records with it.
    const version = await recordNewVersion(tx, deps.audit as AuditService, actor, ref.tenantId, ref.videoId, { reason: 'replaced' });
    const generation = current.rendition_generation + 1;
    // The ladder played now stays playable, with its own key, until the new one is complete (generations.ts).
    const keepsPlaying = current.hls_key_wrapped !== null;
    const playedBytes = await tx.selectFrom('renditions').select(sql<string>`coalesce(sum(bytes), 0)`.as('bytes'))
      .where('video_id', '=', ref.videoId).where('generation', '=', current.rendition_generation).executeTakeFirstOrThrow();
    await tx.updateTable('videos').set({
      status: 'processing', progress_step: 'queued', progress_percent: 0, error_code: null, error_message: null,
      source_size_bytes: Number(upload.size_bytes), source_sha256: null, original_key: null, duration_ms: null, width: null, height: null, has_audio: null,
      technical: JSON.stringify({}), assets: JSON.stringify({}), stored_bytes: keepsPlaying ? Number(playedBytes.bytes) : 0,
      rendition_generation: generation,
      previous_generation: keepsPlaying ? current.rendition_generation : null, previous_hls_key_wrapped: keepsPlaying ? current.hls_key_wrapped : null,
      // New keys for the new version: segments of the old one may stay in caches, and must not open with the new key.
      ...(await newSealedKeys(tx, deps.platform.keyring, ref.tenantId, ref.videoId)), updated_at: sql`now()`,
    }).where('id', '=', ref.videoId).execute();
    if (!keepsPlaying) await tx.deleteFrom('renditions').where('video_id', '=', ref.videoId).execute();
    await tx.deleteFrom('media_claims').where('video_id', '=', ref.videoId).execute();
    await deps.audit.record(tx, actor, {
      action: 'video.source.replace', target: { type: 'video', id: ref.videoId },
      details: { version: version.version, previousVersion: version.previous, sizeBytes: Number(upload.size_bytes), uploadedBy: upload.user_id },
    });
    return { ...version, generation };
  });
  if (!swapped) return 'none';
  await removeSourceObjects(deps, { tenantId: ref.tenantId, videoId: ref.videoId, region }, swapped.generation);
  deps.platform.log.info({ videoId: ref.videoId, version: swapped.version }, 'source replaced; transcoding the new version');
  return 'swapped';
}

/**
 * What a source leaves in the store apart from a ladder still played: its
 * original, images and the ladder of `generation` (captions belong to the
 * video and stay). Ingest also calls this before it stores a new original, so
 * a takeover interrupted before this ran leaves nothing behind. The first
 * generation has nothing beside it, so the whole HLS prefix goes.
 */
export async function removeSourceObjects(deps: PipelineDeps, v: { tenantId: string; videoId: string; region: string }, generation: number): Promise<void> {
  const store = deps.platform.storage.forRegion(v.region);
  if (generation === 0) await store.deletePrefix(hlsPrefix(v.tenantId, v.videoId));
  else await removeGenerationObjects(store, v.tenantId, v.videoId, generation);
  await store.deletePrefix(imagesPrefix(v.tenantId, v.videoId));
  await store.delete(originalKey(v.tenantId, v.videoId));
}
