// Ladder generations (docs/media.md, "Replacing the source"). A video's first
// ladder is generation 0; replacing its source builds generation n + 1 beside
// generation n, which keeps playing (its objects, renditions rows and HLS
// key stay) until the new ladder is complete. Its first new rendition
// switches the master playlist, so new viewers get the new version from then
// on; viewers already playing the old one go on with it. A grace period after
// the new ladder is ready, the old generation is removed: objects first, then
// its rows and key, so a crash in between leaves a retry with the same work.
import type { ObjectStore } from '../../platform/storage/types.ts';
import { retireGenerationJob } from './jobs.ts';
import { hlsPrefix, isDirOfGeneration } from './objects.ts';
import type { PipelineDeps } from './pipeline.ts';
import { pipelineVideo } from './store.ts';

interface GenerationRef { tenantId: string; videoId: string; region: string; generation: number }

/**
 * Queues the removal of the previous ladder, once the new one is complete,
 * after the grace period (mediaReplacedLadderGraceSeconds): longer than
 * delivery caches a master playlist (5 s), and time for players that started
 * on the old version to finish what they have buffered.
 */
export async function scheduleRetirement(deps: PipelineDeps, ref: GenerationRef): Promise<void> {
  await deps.platform.jobs.send(retireGenerationJob, { tenantId: ref.tenantId, videoId: ref.videoId, generation: ref.generation }, { region: ref.region, startAfterSeconds: deps.platform.config.mediaReplacedLadderGraceSeconds });
}

/** Removes a previous generation's objects, renditions rows and HLS key; a no-op when it is not the video's previous generation (any more). */
export async function retireGeneration(deps: PipelineDeps, ref: Omit<GenerationRef, 'region'>): Promise<{ retired: boolean }> {
  const { db, storage } = deps.platform;
  const video = await db.withTenant(ref.tenantId, (tx) => pipelineVideo(tx, ref.videoId));
  if (!video || video.previous_generation !== ref.generation) return { retired: false };
  await removeGenerationObjects(storage.forRegion(video.region), ref.tenantId, ref.videoId, ref.generation);
  const retired = await db.withTenant(ref.tenantId, async (tx) => {
    const current = await pipelineVideo(tx, ref.videoId, { lock: true });
    if (!current || current.previous_generation !== ref.generation) return false;
    const gone = await tx.deleteFrom('renditions').where('video_id', '=', ref.videoId).where('generation', '=', ref.generation)
      .returning('bytes').execute();
    const bytes = gone.reduce((sum, r) => sum + Number(r.bytes), 0);
    await tx.updateTable('videos').set((eb) => ({
      previous_generation: null, previous_hls_key_wrapped: null,
      stored_bytes: eb.fn('greatest', [eb.lit(0), eb('stored_bytes', '-', bytes)]),
    })).where('id', '=', ref.videoId).execute();
    return true;
  });
  if (retired) deps.platform.log.info({ videoId: ref.videoId, generation: ref.generation }, 'previous ladder removed');
  return { retired };
}

/** Deletes the rendition directories of one generation; the other generation's, and the master playlist, stay. */
export async function removeGenerationObjects(store: ObjectStore, tenantId: string, videoId: string, generation: number): Promise<void> {
  const prefix = hlsPrefix(tenantId, videoId);
  const dirs = new Set<string>();
  for await (const object of store.list(prefix)) {
    const dir = object.key.slice(prefix.length).split('/')[0]!;
    if (object.key.slice(prefix.length).includes('/') && isDirOfGeneration(dir, generation)) dirs.add(dir);
  }
  for (const dir of dirs) await store.deletePrefix(`${prefix}${dir}/`);
}
