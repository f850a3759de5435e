// What every pipeline job shares: its dependencies, how a video fails, where
// the source comes from, throttled progress, and the retry policy (a file
// that cannot be processed fails the video at once; anything else is retried,
// and fails the video only when the last attempt fails too).
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import type { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { decryptStream } from '../../platform/crypto/stream.ts';
import { MediaRejected, type ProbeSummary } from '../../platform/ffmpeg/index.ts';
import type { JobContext, JobDefinition } from '../../platform/jobs.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import { systemContext } from '../identity/actor.ts';
import { PIPELINE_RETRY_LIMIT, type VideoRef } from './jobs.ts';
import { videoPrefix } from './objects.ts';
import type { Staging } from './staging.ts';
import { markFailed, type PipelineVideo, pipelineVideo, setProgress, uploadOfVideo } from './store.ts';

/** Tells the library (its webhooks) that a video turned ready or failed, inside the transaction of that change. */
export type VideoEventEmitter = (tx: Tx, tenantId: string, event: 'video.ready' | 'video.failed', payload: { videoId: string } & Record<string, unknown>) => Promise<unknown>;

export interface PipelineDeps {
  platform: Platform;
  audit: Pick<AuditService, 'record'>;
  staging: Staging;
  videoEvents: VideoEventEmitter;
}

/** What ingest learns about a source and keeps on the video (technical column). */
export interface TechnicalRecord {
  kind: 'video' | 'audio';
  /** ffprobe's summary: streams and metadata KEYS (never their values). */
  probe: ProbeSummary;
  /** Keys that could identify a person, place or device; all tags are stripped from every output. */
  identifyingTagKeys: string[];
}

export const technicalOf = (video: PipelineVideo) => video.technical as unknown as TechnicalRecord;

export async function loadVideo(deps: PipelineDeps, ref: VideoRef): Promise<PipelineVideo | undefined> {
  return deps.platform.db.withTenant(ref.tenantId, (tx) => pipelineVideo(tx, ref.videoId));
}

/**
 * The video fails with a reason its owner can act on; everything staged for
 * it and every object already stored under its prefix is removed, and the
 * failure is recorded (audit video.failed, and the library's video.failed webhook event).
 */
export async function failVideo(deps: PipelineDeps, ref: VideoRef, code: string, message: string): Promise<void> {
  const { db, log } = deps.platform;
  const failed = await db.withTenant(ref.tenantId, async (tx) => {
    const video = await pipelineVideo(tx, ref.videoId, { lock: true });
    if (!video || !(await markFailed(tx, ref.videoId, code, message))) return undefined;
    await tx.deleteFrom('renditions').where('video_id', '=', ref.videoId).execute();
    await tx.deleteFrom('media_claims').where('video_id', '=', ref.videoId).execute();
    await deps.audit.record(tx, systemContext('media.pipeline', ref.tenantId), { action: 'video.failed', outcome: 'failed', target: { type: 'video', id: ref.videoId }, details: { code } });
    await deps.videoEvents(tx, ref.tenantId, 'video.failed', { videoId: ref.videoId, status: 'failed', error: { code, message } });
    return { video, upload: await uploadOfVideo(tx, ref.videoId) };
  });
  if (!failed) return;
  log.info({ videoId: ref.videoId, code }, 'video failed');
  await removeEverything(deps, failed.video, failed.upload?.id);
}

/** Staged plaintext and stored objects of a video that will never be ready. */
export async function removeEverything(deps: PipelineDeps, video: Pick<PipelineVideo, 'id' | 'tenant_id' | 'region'>, uploadId?: string): Promise<void> {
  await deps.staging.removeVideo(video.region, video.id, uploadId);
  await deps.platform.storage.forRegion(video.region).deletePrefix(videoPrefix(video.tenant_id, video.id));
}

/**
 * Wraps a pipeline job handler with the retry policy. A job stopped because
 * its worker is shutting down is left to be retried elsewhere.
 */
export function pipelineHandler<S extends z.ZodType>(
  deps: PipelineDeps, def: JobDefinition<S>,
  handler: (data: z.output<S> & VideoRef, ctx: JobContext) => Promise<unknown>,
): (data: z.output<S> & VideoRef, ctx: JobContext) => Promise<unknown> {
  return async (data, ctx) => {
    try {
      return await handler(data, ctx);
    } catch (err) {
      if (err instanceof MediaRejected) {
        await failVideo(deps, data, err.code, err.message);
        return { rejected: err.code };
      }
      if (ctx.signal.aborted || ctx.attempt <= (def.retryLimit ?? PIPELINE_RETRY_LIMIT)) throw err;
      deps.platform.log.error({ err, videoId: data.videoId, job: def.name }, 'media processing failed on its last attempt');
      await failVideo(deps, data, 'processing_failed', 'Processing failed repeatedly. Try uploading the file again; if it fails again, contact your administrator.');
      return { failed: true };
    }
  };
}

/** Writes progress at most once a second; returns a function taking 0..1 of this step. */
export function progressReporter(deps: PipelineDeps, ref: VideoRef, step: string, from: number, to: number): (fraction: number) => void {
  let last = 0;
  return (fraction) => {
    const now = Date.now();
    if (now - last < 1000 && fraction < 1) return;
    last = now;
    void deps.platform.db.withTenant(ref.tenantId, (tx) => setProgress(tx, ref.videoId, step, from + (to - from) * fraction))
      .catch((err) => deps.platform.log.warn({ err, videoId: ref.videoId }, 'could not record progress'));
  };
}

export async function reportStep(deps: PipelineDeps, ref: VideoRef, step: string, percent: number): Promise<void> {
  await deps.platform.db.withTenant(ref.tenantId, (tx) => setProgress(tx, ref.videoId, step, percent));
}

/**
 * The plaintext source for ffmpeg: the staged upload while it is there, else
 * a copy decrypted from original.hvn (another node, or a retry after the
 * staging sweep) and checked against the recorded SHA-256.
 */
export async function ensureSource(deps: PipelineDeps, video: PipelineVideo, keys: { dataKey: Buffer }, signal: AbortSignal): Promise<string> {
  const { db, storage } = deps.platform;
  const upload = await db.withTenant(video.tenant_id, (tx) => uploadOfVideo(tx, video.id));
  const expected = video.source_size_bytes;
  if (upload) {
    const staged = deps.staging.uploadFile(video.region, upload.id);
    if ((await stat(staged).catch(() => undefined))?.size === expected) return staged;
  }
  const restored = deps.staging.sourceFile(video.region, video.id);
  if ((await stat(restored).catch(() => undefined))?.size === expected) return restored;
  if (!video.original_key) throw new Error(`video ${video.id} has neither a staged upload nor a stored original`);

  await deps.staging.prepare(video.region);
  const tmp = `${restored}.${randomUUID()}.part`;
  const hash = createHash('sha256');
  try {
    await pipe(
      await storage.forRegion(video.region).get(video.original_key),
      decryptStream(keys.dataKey),
      new Transform({ transform(chunk, _enc, done) { hash.update(chunk); done(null, chunk); } }),
      createWriteStream(tmp, { mode: 0o600 }),
      { signal },
    );
    if (hash.digest('hex') !== video.source_sha256) throw new Error(`the stored original of video ${video.id} does not match its SHA-256`);
    await rename(tmp, restored);
  } finally {
    await rm(tmp, { force: true });
  }
  return restored;
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  }));
  return results;
}
