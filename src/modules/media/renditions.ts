// media.transcode: encodes a group of renditions in one ffmpeg run, encrypts
// each segment with the video's HLS key on its way into the store, and
// publishes each rendition; the group with the top rendition also takes the
// images from that run. The video's first rendition is published while it
// encodes (progressive.ts). Crash safety: a rendition's objects are
// referenced only once it is offered (streaming) or ready; an attempt first
// deletes whatever an interrupted one left under the prefixes of renditions
// not offered, and overwrites an offered one's in place; claims keep a
// duplicate delivery from writing there at the same time.
import { readFile, rm } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  MediaRejected, parseMediaPlaylist, planLadder, reniceTool, renderMediaPlaylist, renditionIv, rungsOf, transcodeRenditions, type RenditionOutput, type Rung,
} from '../../platform/ffmpeg/index.ts';
import type { ObjectStore } from '../../platform/storage/index.ts';
import type { JobContext } from '../../platform/jobs.ts';
import { claimTask, type Claim } from './claims.ts';
import { firstRendition, imagesGroup, transcodeGroups } from './groups.ts';
import { type ImagePlan, planImages, storeImages } from './images.ts';
import type { VideoRef } from './jobs.ts';
import { ensureVideoKeys, type VideoKeys } from './keys.ts';
import { hlsKeyUriPlaceholder, imagesPrefix, renditionDir, renditionPrefix } from './objects.ts';
import { ensureSource, loadVideo, mapLimit, type PipelineDeps, progressReporter, technicalOf } from './pipeline.ts';
import { type ProgressivePublisher, publishWhileEncoding, type StoredSegment } from './progressive.ts';
import { finishIfComplete, publishRendition, publishStreaming } from './publish.ts';
import { bitRates, codecsOf, storeSegment } from './segments.ts';
import { addStoredBytes, type PipelineVideo, pipelineVideo, type PublishedRendition, renditionsOf, type RenditionRow } from './store.ts';

/**
 * The nice value of a group's encode while the video's first rendition is
 * still pending. Both encodes start together, but the first one gets the CPU
 * it asks for and the later groups take what it leaves (nothing idles, so the
 * whole ladder takes no longer); once the first rendition is published they
 * go back to normal priority.
 */
const WHILE_FIRST_PENDING_NICENESS = 10;
const FIRST_READY_POLL_MS = 500;

export async function transcodeGroup(deps: PipelineDeps, data: VideoRef & { renditions: string[] }, ctx: JobContext): Promise<unknown> {
  const { db, config, keyring, log } = deps.platform;
  const video = await loadVideo(deps, data);
  if (!video || video.status !== 'processing') return { skipped: video?.status ?? 'gone' };
  const all = await db.withTenant(data.tenantId, (tx) => renditionsOf(tx, data.videoId));
  const pending = all.filter((r) => data.renditions.includes(r.name) && r.status !== 'ready');
  const wantsImages = video.assets.complete !== true && sameGroup(imagesGroup(transcodeGroups(all, config.transcodeRenditionsPerJob), all), data.renditions);

  const claims: { task: string; claim: Claim }[] = [];
  for (const task of [...pending.map((r) => `rendition:${r.name}`), ...(wantsImages ? ['images'] : [])]) {
    const claim = await claimTask(db, log, { tenantId: data.tenantId, videoId: data.videoId, task }, ctx);
    if (claim) claims.push({ task, claim });
  }
  try {
    if (claims.length > 0) {
      const names = claims.filter((c) => c.task.startsWith('rendition:')).map((c) => c.task.slice(10));
      const keys = await ensureVideoKeys(db, keyring, data.tenantId, data.videoId);
      const signal = AbortSignal.any(claims.map((c) => c.claim.signal));
      const yieldTo = firstRenditionPending(all, names, config.transcodeRenditionsPerJob);
      await encodeAndPublish(deps, video, all, keys, { names, images: claims.some((c) => c.task === 'images'), attempt: `${ctx.id}-${ctx.attempt}`, signal, yieldTo });
    }
  } finally {
    for (const { claim } of claims) await claim.release().catch(() => undefined);
  }
  await finishIfComplete(deps, data);
  return { done: claims.map((c) => c.task) };
}

interface EncodeRun {
  names: string[]; images: boolean; attempt: string; signal: AbortSignal;
  /** The first rendition this run leaves the CPU to while it is pending. */
  yieldTo?: string;
}

/** The video's first rendition, when this run does not encode it and it is not ready yet. */
function firstRenditionPending(all: RenditionRow[], names: string[], perJob: number): string | undefined {
  const first = firstRendition(all, perJob);
  const row = first ? all.find((r) => r.name === first) : undefined;
  return row && row.status !== 'ready' && !names.includes(row.name) ? row.name : undefined;
}

/**
 * Watches (by polling its row) for the first rendition to be ready, then
 * gives the encode normal priority back. Stops with the encode.
 */
function restorePriorityWhenPublished(deps: PipelineDeps, video: PipelineVideo, first: string, signal: AbortSignal): { started: (pid: number) => void; stop: () => void } {
  let pid: number | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (pid === undefined) return;
    void deps.platform.db.withTenant(video.tenant_id, (tx) => tx.selectFrom('renditions').select('status')
      .where('video_id', '=', video.id).where('name', '=', first).executeTakeFirst())
      .then((row) => {
        if (stopped || pid === undefined || (row && row.status !== 'ready')) return;
        stop();
        if (!reniceTool(pid, 0)) deps.platform.log.debug({ videoId: video.id }, 'encode keeps its lower priority: raising it back is not permitted');
      }, () => undefined);
  }, FIRST_READY_POLL_MS);
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  signal.addEventListener('abort', stop, { once: true });
  return { started: (p) => { pid = p; }, stop };
}

async function encodeAndPublish(deps: PipelineDeps, video: PipelineVideo, all: RenditionRow[], keys: VideoKeys, run: EncodeRun): Promise<void> {
  const ref = { tenantId: video.tenant_id, videoId: video.id };
  const store = deps.platform.storage.forRegion(video.region);
  const rungs = rungsOf(planLadder(technicalOf(video).probe)).filter((r) => run.names.includes(r.name));
  const dirOf = (name: string) => renditionDir(name, video.rendition_generation);
  const prefixOf = (name: string) => renditionPrefix(ref.tenantId, ref.videoId, dirOf(name));
  const keyOf = (name: string) => ({ hlsKey: keys.hlsKey, iv: renditionIv(keys.hlsKey, dirOf(name)), uri: hlsKeyUriPlaceholder(video.id, video.rendition_generation) });
  const offered = new Set(all.filter((r) => r.status === 'streaming').map((r) => r.name));
  // Leftovers of an interrupted attempt are not referenced by anything yet; start clean.
  // An offered rendition's objects are played meanwhile: this attempt overwrites them in place.
  for (const rung of rungs) if (!offered.has(rung.name)) await store.deletePrefix(prefixOf(rung.name));
  if (run.images) await store.deletePrefix(imagesPrefix(ref.tenantId, ref.videoId));

  const source = await ensureSource(deps, video, keys, run.signal);
  const workDir = await deps.staging.attemptDir(video.region, video.id, run.attempt);
  let progressive: ProgressivePublisher | undefined;
  try {
    const images = run.images ? planImages(video, workDir) : undefined;
    const weights = progressWeights(all, run.names);
    const priority = run.yieldTo ? restorePriorityWhenPublished(deps, video, run.yieldTo, run.signal) : undefined;
    const first = progressiveRendition(deps, video, all, rungs);
    if (first) {
      const offeredBefore = offered.has(first.name) ? await offeredSegments(store, prefixOf(first.name)) : 0;
      progressive = publishWhileEncoding({
        rung: first, store, dir: join(workDir, first.name), prefix: prefixOf(first.name), key: keyOf(first.name), offeredBefore,
        offer: (estimate) => publishStreaming(deps, ref, first.name, estimate), log: deps.platform.log.child({ videoId: video.id }),
      });
    }
    const outputs = await transcodeRenditions({
      input: source, outputDir: workDir, rungs, hasAudio: video.has_audio === true, durationMs: video.duration_ms ?? 0,
      sourceShortSide: video.width && video.height ? Math.min(video.width, video.height) : undefined,
      stills: images && [images.poster, ...images.thumbnails], storyboard: images?.storyboard,
      preset: deps.platform.config.transcodePreset, signal: run.signal,
      onProgress: progressReporter(deps, ref, `transcoding:${run.names.join(',') || 'images'}`, weights.from, weights.to),
      niceness: priority ? WHILE_FIRST_PENDING_NICENESS : undefined, onStart: priority?.started,
    }).finally(() => priority?.stop());
    const storedEarly = (await progressive?.finish()) ?? new Map<string, StoredSegment>();
    for (const output of outputs) {
      const rung = rungs.find((r) => r.name === output.name)!;
      assertComplete(output, video.duration_ms ?? 0);
      const stored = await storeRendition(store, prefixOf(rung.name), rung, output, keyOf(rung.name), storedEarly);
      if (!(await publishRendition(deps, ref, rung.name, stored))) {
        // The video failed or was removed while this ran: nothing may stay behind.
        await store.deletePrefix(prefixOf(rung.name));
      }
    }
    if (images) await publishImages(deps, video, images, keys.dataKey);
  } finally {
    await progressive?.finish();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The rendition this run publishes while encoding: the video's first, when
 * this run encodes it, it is not ready, and the video is not being replaced
 * (then the previous ladder plays until the new one's first rendition is ready).
 */
function progressiveRendition(deps: PipelineDeps, video: PipelineVideo, all: RenditionRow[], rungs: Rung[]): Rung | undefined {
  if (video.previous_generation !== null) return undefined;
  const first = firstRendition(all, deps.platform.config.transcodeRenditionsPerJob);
  const row = all.find((r) => r.name === first);
  return row && row.status !== 'ready' ? rungs.find((r) => r.name === row.name) : undefined;
}

/** How many segments the playlist an earlier attempt offered lists. */
async function offeredSegments(store: ObjectStore, prefix: string): Promise<number> {
  const playlist = await store.get(`${prefix}index.m3u8`).then(text, () => undefined);
  return playlist ? parseMediaPlaylist(playlist).segments.length : 0;
}

/**
 * Encrypts and stores one rendition's segments (those not stored while it
 * encoded), its init segment and final playlist; returns what the master
 * playlist needs.
 */
async function storeRendition(
  store: ObjectStore, prefix: string, rung: Rung, output: RenditionOutput, key: { hlsKey: Buffer; iv: Buffer; uri: string }, storedEarly: Map<string, StoredSegment>,
): Promise<PublishedRendition> {
  const segments = output.playlist.segments;
  const sizes = await mapLimit(segments, 4, async (segment) => storedEarly.get(segment.uri)?.size ?? storeSegment(store, prefix, output.dir, segment.uri, key));
  const init = await readFile(join(output.dir, 'init.mp4'));
  await store.put(`${prefix}init.mp4`, init, { contentType: 'video/mp4' });
  const playlist = Buffer.from(renderMediaPlaylist({ ...output.playlist, map: 'init.mp4' }, key.uri, key.iv));
  await store.put(`${prefix}index.m3u8`, playlist, { contentType: 'application/vnd.apple.mpegurl' });

  const seconds = segments.reduce((sum, s) => sum + s.duration, 0);
  const bytes = sizes.reduce((sum, n) => sum + n, 0);
  return {
    ...bitRates(segments.map((s, i) => ({ duration: s.duration, size: sizes[i]! }))), codecs: codecsOf(rung, init),
    segmentCount: segments.length, bytes: bytes + init.length + playlist.length, durationMs: Math.round(seconds * 1000),
  };
}

/** Stores the images and records them on the video, unless it stopped processing meanwhile. */
async function publishImages(deps: PipelineDeps, video: PipelineVideo, plan: ImagePlan, dataKey: Buffer): Promise<void> {
  const { assets, bytes } = await storeImages(deps, video, plan, dataKey);
  const kept = await deps.platform.db.withTenant(video.tenant_id, async (tx) => {
    const current = await pipelineVideo(tx, video.id, { lock: true });
    if (!current || current.status !== 'processing') return false;
    await tx.updateTable('videos').set({ assets: JSON.stringify(assets), updated_at: sql`now()` }).where('id', '=', video.id).execute();
    await addStoredBytes(tx, video.id, bytes);
    return true;
  });
  if (!kept) await deps.platform.storage.forRegion(video.region).deletePrefix(imagesPrefix(video.tenant_id, video.id));
}

/** A source that stops early (a cut download with its index intact) must not publish as a short video. */
function assertComplete(output: RenditionOutput, sourceMs: number): void {
  const ms = output.playlist.segments.reduce((sum, s) => sum + s.duration, 0) * 1000;
  if (sourceMs > 0 && ms < sourceMs * 0.8 - 2000) {
    throw new MediaRejected('truncated', `The file ends early: only ${Math.round(ms / 1000)} s of the ${Math.round(sourceMs / 1000)} s it declares could be decoded. Upload the whole file again.`);
  }
}

/** The progress span (5–95 %) of these renditions, weighted by picture area. */
function progressWeights(all: RenditionRow[], names: string[]): { from: number; to: number } {
  const weight = (r: RenditionRow) => (r.kind === 'audio' ? 20_000 : (r.width ?? 0) * (r.height ?? 0));
  const total = all.reduce((s, r) => s + weight(r), 0) || 1;
  const done = all.filter((r) => r.status === 'ready' && !names.includes(r.name)).reduce((s, r) => s + weight(r), 0);
  const mine = all.filter((r) => names.includes(r.name)).reduce((s, r) => s + weight(r), 0);
  return { from: 5 + (90 * done) / total, to: 5 + (90 * (done + mine)) / total };
}

function sameGroup(a: string[] | undefined, b: string[]): boolean {
  return Boolean(a) && a!.length === b.length && a!.every((n) => b.includes(n));
}
