// media.ingest: the first look at an upload. ffprobe decides before anything
// else is done; a refused file fails the video with the reason and leaves
// nothing behind. An accepted one is hashed and encrypted into the store in
// one read, its ladder is planned, and the transcode jobs are queued.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { encryptStream } from '../../platform/crypto/stream.ts';
import {
  AAC_LC_CODEC, defaultMediaLimits, identifyingTagKeys, isProblem, MediaRejected, planLadder, primaryAudio, primaryVideo, probe, validateProbe, type Ladder,
} from '../../platform/ffmpeg/index.ts';
import type { JobContext } from '../../platform/jobs.ts';
import type { ObjectInfo } from '../../platform/storage/types.ts';
import { transcodeJob, type VideoRef } from './jobs.ts';
import { ensureVideoKeys } from './keys.ts';
import { originalKey, renditionDir, renditionPrefix } from './objects.ts';
import { failVideo, loadVideo, type PipelineDeps, reportStep, type TechnicalRecord } from './pipeline.ts';
import { tenantLimits } from './quotas.ts';
import { removeSourceObjects, takeOverReplacement } from './replace.ts';
import { transcodeGroups } from './groups.ts';
import { addStoredBytes, insertPlannedRenditions, type PlannedRendition, renditionsOf, uploadOfVideo } from './store.ts';

export async function ingest(deps: PipelineDeps, ref: VideoRef, ctx: JobContext): Promise<unknown> {
  const { db, keyring, config, jobs, storage } = deps.platform;
  let video = await loadVideo(deps, ref);
  if (video?.status === 'ready') {
    // A ready video's ingest is its replacement's: refused, or the new source takes the video over (replace.ts).
    const outcome = await takeOverReplacement(deps, ref, ctx);
    if (outcome !== 'swapped') return { replacement: outcome };
    video = await loadVideo(deps, ref);
  }
  if (!video || video.status !== 'processing') return { skipped: video?.status ?? 'gone' };

  if (!video.original_key) {
    // Nothing of this version may be stored yet; after a replacement's takeover the old source's may be (a crash before they went).
    // The ladder still played (previous generation) stays.
    await removeSourceObjects(deps, { tenantId: ref.tenantId, videoId: ref.videoId, region: video.region }, video.rendition_generation);
    const upload = await db.withTenant(ref.tenantId, (tx) => uploadOfVideo(tx, ref.videoId));
    const staged = upload && deps.staging.uploadFile(video.region, upload.id);
    if (!staged || !(await stat(staged).catch(() => undefined))) {
      await failVideo(deps, ref, 'source_missing', 'The uploaded file is no longer available on the server; upload it again.');
      return { failed: 'source_missing' };
    }
    await reportStep(deps, ref, 'validating', 1);
    const summary = await probe(staged, { signal: ctx.signal });
    const limits = await db.withTenant(ref.tenantId, (tx) => tenantLimits(tx, ref.tenantId, config));
    const verdict = validateProbe(summary, { ...defaultMediaLimits, maxDurationSeconds: limits.maxDurationSeconds });
    if (isProblem(verdict)) throw new MediaRejected(verdict.code, verdict.message);

    const keys = await ensureVideoKeys(db, keyring, ref.tenantId, ref.videoId);
    await reportStep(deps, ref, 'storing_original', 2);
    const key = originalKey(ref.tenantId, ref.videoId);
    const { sha256, stored } = await storeEncrypted(staged, keys.dataKey, (body) => storage.forRegion(video.region).put(key, body, { contentType: 'application/octet-stream' }), ctx.signal);

    const ladder = planLadder(summary);
    const shown = primaryVideo(summary);
    const technical: TechnicalRecord = { kind: verdict.kind, probe: summary, identifyingTagKeys: identifyingTagKeys(summary.tagKeys) };
    await db.withTenant(ref.tenantId, async (tx) => {
      await tx.updateTable('videos').set({
        duration_ms: summary.durationMs, width: shown?.displayWidth ?? null, height: shown?.displayHeight ?? null,
        has_audio: primaryAudio(summary) !== undefined, source_sha256: sha256, original_key: key,
        technical: JSON.stringify(technical), progress_step: 'transcoding', progress_percent: sql`greatest(progress_percent, 5)`, updated_at: sql`now()`,
        // Without a picture there are no images to wait for.
        ...(verdict.kind === 'audio' ? { assets: JSON.stringify({ complete: true }) } : {}),
      }).where('id', '=', ref.videoId).where('original_key', 'is', null).execute();
      await addStoredBytes(tx, ref.videoId, stored.size);
      await insertPlannedRenditions(tx, ref.tenantId, ref.videoId, video.rendition_generation, plannedRenditions(ref, ladder, video.rendition_generation));
    });
  }

  // Every group at once, the lowest rendition's first (groups.ts says why).
  const renditions = await db.withTenant(ref.tenantId, (tx) => renditionsOf(tx, ref.videoId));
  const groups = transcodeGroups(renditions, config.transcodeRenditionsPerJob);
  for (const group of groups) await jobs.send(transcodeJob, { ...ref, renditions: group }, { region: video.region });
  return { queued: groups };
}

/** Streams a file once through SHA-256 and HVN1 encryption into the store. */
async function storeEncrypted(file: string, dataKey: Buffer, put: (body: PassThrough) => Promise<ObjectInfo>, signal: AbortSignal): Promise<{ sha256: string; stored: ObjectInfo }> {
  const hash = createHash('sha256');
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const [, stored] = await Promise.all([
    pipeline(
      createReadStream(file, { highWaterMark: 1024 * 1024 }),
      new Transform({ transform(chunk, _enc, done) { hash.update(chunk); done(null, chunk); } }),
      encryptStream(dataKey),
      body,
      { signal },
    ),
    put(body).catch((err: unknown) => {
      body.destroy(err as Error); // stops the read side too
      throw err;
    }),
  ]);
  return { sha256: hash.digest('hex'), stored };
}

function plannedRenditions(ref: VideoRef, ladder: Ladder, generation: number): PlannedRendition[] {
  const audio = ladder.audio;
  const playlistKey = (name: string) => `${renditionPrefix(ref.tenantId, ref.videoId, renditionDir(name, generation))}index.m3u8`;
  const video = ladder.video.map((r): PlannedRendition => ({
    name: r.name, kind: 'video', width: r.width, height: r.height, frameRate: r.fps,
    bandwidth: r.maxRate + r.audioBitrate, codecs: r.audioBitrate ? `avc1,${AAC_LC_CODEC}` : 'avc1',
    playlistKey: playlistKey(r.name),
  }));
  return audio
    ? [...video, { name: audio.name, kind: 'audio', width: null, height: null, frameRate: null, bandwidth: audio.audioBitrate, codecs: AAC_LC_CODEC, playlistKey: playlistKey(audio.name) }]
    : video;
}
