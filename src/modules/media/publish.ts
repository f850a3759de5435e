// Publishing: a rendition becomes streaming (offered while it encodes) or
// ready, and the master playlist is rewritten to list exactly the playable
// renditions (under the video's row lock, so two publishers never overwrite
// each other's view); the video becomes ready when every rendition and its
// images are done.
import { sql } from 'kysely';
import { renderMasterPlaylist, type Variant } from '../../platform/ffmpeg/index.ts';
import type { Tx } from '../../platform/db/database.ts';
import { systemContext } from '../identity/actor.ts';
import { scheduleRetirement } from './generations.ts';
import { firstRendition } from './groups.ts';
import type { VideoRef } from './jobs.ts';
import { masterPlaylistKey, renditionDir } from './objects.ts';
import type { PipelineDeps } from './pipeline.ts';
import {
  isPlayable, markRenditionReady, markRenditionStreaming, type PipelineVideo, type PublishedRendition, pipelineVideo, renditionsOf, type RenditionRow, uploadOfVideo,
} from './store.ts';

/** Returns false when the video stopped processing meanwhile (the caller then removes what it wrote). */
export async function publishRendition(deps: PipelineDeps, ref: VideoRef, name: string, published: PublishedRendition): Promise<boolean> {
  return deps.platform.db.withTenant(ref.tenantId, async (tx) => {
    const video = await pipelineVideo(tx, ref.videoId, { lock: true });
    if (!video || video.status !== 'processing') return false;
    await markRenditionReady(tx, ref.videoId, name, published);
    await writeMaster(deps, tx, video);
    return true;
  });
}

/**
 * Offers a rendition whose encode is still running (its EVENT playlist lists
 * the segments stored so far), so the video plays before its encode ends.
 * Only for a first ladder: during a replacement the previous ladder plays
 * until the new one's first rendition is ready. False when it was not
 * offered (the video stopped processing, is being replaced, or the rendition
 * is no longer pending).
 */
export async function publishStreaming(deps: Pick<PipelineDeps, 'platform'>, ref: VideoRef, name: string, estimate: Pick<PublishedRendition, 'bandwidth' | 'averageBandwidth' | 'codecs'>): Promise<boolean> {
  return deps.platform.db.withTenant(ref.tenantId, async (tx) => {
    const video = await pipelineVideo(tx, ref.videoId, { lock: true });
    if (!video || video.status !== 'processing' || video.previous_generation !== null) return false;
    if (!(await markRenditionStreaming(tx, ref.videoId, name, estimate))) return false;
    await writeMaster(deps, tx, video);
    return true;
  });
}

/**
 * Rewrites the master playlist to list the current generation's playable
 * renditions, under the video's row lock. During a replacement the previous
 * ladder's master stays until the new ladder's first rendition is ready (not,
 * say, its audio alone): that switches new viewers over.
 */
async function writeMaster(deps: Pick<PipelineDeps, 'platform'>, tx: Tx, video: PipelineVideo): Promise<void> {
  const all = await renditionsOf(tx, video.id);
  const first = firstRendition(all, deps.platform.config.transcodeRenditionsPerJob);
  if (video.previous_generation !== null && all.find((r) => r.name === first)?.status !== 'ready') return;
  const master = renderMasterPlaylist(all.filter(isPlayable).map((r) => variantOf(r, video.rendition_generation)));
  await deps.platform.storage.forRegion(video.region).put(masterPlaylistKey(video.tenant_id, video.id), Buffer.from(master), { contentType: 'application/vnd.apple.mpegurl' });
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
