// Publishing: a rendition becomes ready and the master playlist is rewritten
// to list exactly the ready renditions (under the video's row lock, so two
// publishers never overwrite each other's view); the video becomes ready
// when every rendition and its images are done.
import { sql } from 'kysely';
import { renderMasterPlaylist, type Variant } from '../../platform/ffmpeg/index.ts';
import type { Tx } from '../../platform/db/database.ts';
import { systemContext } from '../identity/actor.ts';
import { scheduleRetirement } from './generations.ts';
import { transcodeGroups } from './groups.ts';
import type { VideoRef } from './jobs.ts';
import { masterPlaylistKey, renditionDir } from './objects.ts';
import type { PipelineDeps } from './pipeline.ts';
import { markRenditionReady, type PublishedRendition, pipelineVideo, renditionsOf, type RenditionRow, uploadOfVideo } from './store.ts';

/** Returns false when the video stopped processing meanwhile (the caller then removes what it wrote). */
export async function publishRendition(deps: PipelineDeps, ref: VideoRef, name: string, published: PublishedRendition): Promise<boolean> {
  const { db, storage } = deps.platform;
  return db.withTenant(ref.tenantId, async (tx) => {
    const video = await pipelineVideo(tx, ref.videoId, { lock: true });
    if (!video || video.status !== 'processing') return false;
    await markRenditionReady(tx, ref.videoId, name, published);
    // The current generation's ready renditions only. During a replacement the
    // previous ladder's master stays until the new ladder's first rendition is
    // ready (not, say, its audio alone): that switches new viewers over.
    const all = await renditionsOf(tx, ref.videoId);
    const first = transcodeGroups(all, deps.platform.config.transcodeRenditionsPerJob)[0]?.[0];
    if (video.previous_generation !== null && all.find((r) => r.name === first)?.status !== 'ready') return true;
    const ready = all.filter((r) => r.status === 'ready');
    const master = renderMasterPlaylist(ready.map((r) => variantOf(r, video.rendition_generation)));
    await storage.forRegion(video.region).put(masterPlaylistKey(ref.tenantId, ref.videoId), Buffer.from(master), { contentType: 'application/vnd.apple.mpegurl' });
    return true;
  });
}

function variantOf(r: RenditionRow, generation: number): Variant {
  return {
    uri: `${renditionDir(r.name, generation)}/index.m3u8`,
    bandwidth: r.bandwidth,
    averageBandwidth: r.average_bandwidth ?? r.bandwidth,
    codecs: r.codecs,
    width: r.width ?? undefined,
    height: r.height ?? undefined,
    frameRate: r.frame_rate ?? undefined,
  };
}

/** Marks the video ready once nothing is pending, then clears its staging. Safe to call from any job, any number of times. */
export async function finishIfComplete(deps: PipelineDeps, ref: VideoRef): Promise<boolean> {
  const { db } = deps.platform;
  const done = await db.withTenant(ref.tenantId, async (tx) => {
    const video = await pipelineVideo(tx, ref.videoId, { lock: true });
    if (!video || video.status !== 'processing') return undefined;
    const renditions = await renditionsOf(tx, ref.videoId);
    if (renditions.length === 0 || renditions.some((r) => r.status !== 'ready') || video.assets.complete !== true) return undefined;
    await tx.updateTable('videos')
      .set({ status: 'ready', progress_percent: 100, progress_step: null, ready_at: sql`now()`, updated_at: sql`now()` })
      .where('id', '=', ref.videoId).execute();
    await deps.audit.record(tx, systemContext('media.pipeline', ref.tenantId), {
      action: 'video.ready', target: { type: 'video', id: ref.videoId }, details: { renditions: renditions.length, durationMs: video.duration_ms },
    });
    await deps.videoEvents(tx, ref.tenantId, 'video.ready', { videoId: ref.videoId, status: 'ready', durationMs: video.duration_ms, renditions: renditions.map((r) => r.name) });
    await clearClaims(tx, ref.videoId);
    return { video, upload: await uploadOfVideo(tx, ref.videoId) };
  });
  if (!done) return false;
  await deps.staging.removeVideo(done.video.region, ref.videoId, done.upload?.id);
  const previous = done.video.previous_generation;
  if (previous !== null) await scheduleRetirement(deps, { ...ref, region: done.video.region, generation: previous });
  deps.platform.log.info({ videoId: ref.videoId }, 'video ready');
  return true;
}

async function clearClaims(tx: Tx, videoId: string): Promise<void> {
  await tx.deleteFrom('media_claims').where('video_id', '=', videoId).execute();
}
