// The staging sweep of one region, for what the normal paths cannot clean
// because a process died: plaintext of videos that are no longer processing
// (ready, failed, deleted) or that sat longer than stagingMaxAgeHours; videos
// stuck in processing that long (failed, so their owner knows); objects a
// crash left under the prefix of a recently failed video; and previous
// ladders of ready videos whose removal job was lost (a crash between ready
// and queueing it).
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { retireGeneration } from './generations.ts';
import { failVideo, type PipelineDeps, removeEverything } from './pipeline.ts';
import { isUploadId } from './staging.ts';
import { uploadById } from './store.ts';
import { isReplacementUpload, pendingReplacement } from './replace.ts';

export interface SweepReport { removed: string[]; stalled: number; failedCleaned: number; generationsRetired: number }

export async function sweepStaging(deps: PipelineDeps, region: string, now = new Date()): Promise<SweepReport> {
  const { db, config } = deps.platform;
  const maxAgeMs = config.stagingMaxAgeHours * 3600_000;
  const removed: string[] = [];
  const regionDir = deps.staging.regionDir(region);
  const old = (mtime: Date) => now.getTime() - mtime.getTime() > maxAgeMs;
  const videoStatus = async (id: string) => (/^[0-9a-f-]{36}$/.test(id)
    ? (await db.withPlatform((tx) => tx.selectFrom('videos').select('status').where('id', '=', id).executeTakeFirst()))?.status as string | undefined
    : undefined);

  for (const entry of await entries(join(regionDir, 'uploads'))) {
    const id = entry.name.replace(/\.json$/, '');
    const upload = isUploadId(id) ? await db.withPlatform((tx) => uploadById(tx, id)) : undefined;
    // Unfinished uploads belong to the expiry job; processing ones are the pipeline's source; a ready
    // video's upload is a replacement of its source (replace.ts): unfinished, or waiting for its ingest.
    const keep = upload && (upload.video_status === 'uploading'
      || (upload.video_status === 'processing' && !old(entry.mtime))
      || (isReplacementUpload(upload) && (upload.completed_at === null || !old(entry.mtime))
        && (await db.withPlatform((tx) => pendingReplacement(tx, upload.video_id)))?.id === upload.id));
    if (!keep) removed.push(await remove(entry.path));
  }
  for (const dir of ['sources', 'work']) {
    for (const entry of await entries(join(regionDir, dir))) {
      const id = entry.name.replace(/\..*$/, '');
      const keep = (await videoStatus(id)) === 'processing' && !old(entry.mtime);
      if (!keep) removed.push(await remove(entry.path));
    }
  }

  const cutoff = new Date(now.getTime() - maxAgeMs);
  const stalled = await db.withPlatform((tx) => tx.selectFrom('videos').select(['id', 'tenant_id'])
    .where('region', '=', region).where('status', '=', 'processing').where('updated_at', '<', cutoff).execute());
  for (const v of stalled) {
    await failVideo(deps, { tenantId: v.tenant_id, videoId: v.id }, 'processing_stalled', 'Processing stopped without finishing. Try uploading the file again.');
  }
  const failed = await db.withPlatform((tx) => tx.selectFrom('videos').select(['id', 'tenant_id', 'region'])
    .where('region', '=', region).where('status', '=', 'failed').where('updated_at', '>', sql<Date>`${cutoff}::timestamptz - interval '1 day'`).execute());
  for (const v of failed) await removeEverything(deps, v);

  // Well past the grace period: the job would have run long ago.
  const lingering = await db.withPlatform((tx) => tx.selectFrom('videos').select(['id', 'tenant_id', 'previous_generation'])
    .where('region', '=', region).where('status', '=', 'ready').where('previous_generation', 'is not', null)
    .where('ready_at', '<', sql<Date>`${now}::timestamptz - make_interval(secs => ${config.mediaReplacedLadderGraceSeconds * 10})`).execute());
  let generationsRetired = 0;
  for (const v of lingering) {
    if ((await retireGeneration(deps, { tenantId: v.tenant_id, videoId: v.id, generation: v.previous_generation! })).retired) generationsRetired++;
  }
  return { removed, stalled: stalled.length, failedCleaned: failed.length, generationsRetired };
}

/** The entries of a directory, each aged by the newest file inside it (a work dir is as old as its last write). */
async function entries(dir: string): Promise<{ name: string; path: string; mtime: Date }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found = await Promise.all(names.map(async (name) => {
    const mtime = await newestWrite(join(dir, name));
    return mtime ? { name, path: join(dir, name), mtime } : undefined;
  }));
  return found.filter((e) => e !== undefined);
}

async function newestWrite(path: string): Promise<Date | undefined> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isDirectory()) return s?.mtime;
  const inner = await Promise.all((await readdir(path).catch(() => [] as string[])).map((n) => newestWrite(join(path, n))));
  const files = inner.filter((d) => d !== undefined);
  return files.length ? new Date(Math.max(...files.map((d) => d.getTime()))) : s.mtime;
}

async function remove(path: string): Promise<string> {
  await rm(path, { recursive: true, force: true });
  return path;
}
