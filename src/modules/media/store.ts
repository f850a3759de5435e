// SQL for the media pipeline: the processing columns of videos, renditions,
// uploads, quotas and claims. Every function runs in the caller's
// transaction, so row-level security scopes it to the caller's tenant.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.ts';

export type VideoStatus = 'uploading' | 'processing' | 'ready' | 'failed';

export interface PipelineVideo {
  id: string;
  tenant_id: string;
  region: string;
  status: VideoStatus;
  duration_ms: number | null;
  width: number | null;
  height: number | null;
  has_audio: boolean | null;
  source_size_bytes: number | null;
  source_sha256: string | null;
  original_key: string | null;
  data_key_wrapped: string | null;
  hls_key_wrapped: string | null;
  technical: Record<string, unknown>;
  assets: Record<string, unknown>;
  progress_percent: number;
  /** The ladder the renditions rows and the HLS key belong to (migration 0023). */
  rendition_generation: number;
  /** During a replacement: the ladder still played until the new one is complete. */
  previous_generation: number | null;
}

const pipelineColumns = [
  'id', 'tenant_id', 'region', 'status', 'duration_ms', 'width', 'height', 'has_audio', 'source_size_bytes', 'source_sha256',
  'original_key', 'data_key_wrapped', 'hls_key_wrapped', 'technical', 'assets', 'progress_percent', 'rendition_generation', 'previous_generation',
] as const;

export async function pipelineVideo(tx: Tx, videoId: string, opts: { lock?: boolean } = {}): Promise<PipelineVideo | undefined> {
  return tx.selectFrom('videos').select([...pipelineColumns]).where('id', '=', videoId)
    .$if(Boolean(opts.lock), (q) => q.forUpdate())
    .executeTakeFirst() as Promise<PipelineVideo | undefined>;
}

/** Progress only moves forward, and only while processing. */
export async function setProgress(tx: Tx, videoId: string, step: string, percent: number): Promise<void> {
  await tx.updateTable('videos')
    .set({ progress_step: step, progress_percent: sql`greatest(progress_percent, ${Math.max(0, Math.min(99, Math.floor(percent)))})`, updated_at: sql`now()` })
    .where('id', '=', videoId).where('status', '=', 'processing')
    .execute();
}

/** Moves a video out of uploading/processing into failed; false when it had already left them. */
export async function markFailed(tx: Tx, videoId: string, code: string, message: string): Promise<boolean> {
  const res = await tx.updateTable('videos')
    // A failure removes every object, a replaced source's old ladder too: nothing is played any more.
    .set({ status: 'failed', error_code: code, error_message: message, progress_step: null, stored_bytes: 0, previous_generation: null, previous_hls_key_wrapped: null, updated_at: sql`now()` })
    .where('id', '=', videoId).where('status', 'in', ['uploading', 'processing'])
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function addStoredBytes(tx: Tx, videoId: string, bytes: number): Promise<void> {
  await tx.updateTable('videos').set({ stored_bytes: sql`stored_bytes + ${bytes}` }).where('id', '=', videoId).execute();
}

export interface RenditionRow {
  name: string;
  kind: 'video' | 'audio';
  width: number | null;
  height: number | null;
  bandwidth: number;
  average_bandwidth: number | null;
  codecs: string;
  frame_rate: number | null;
  playlist_key: string;
  segment_count: number;
  bytes: number;
  duration_ms: number | null;
  /** pending → streaming (published while still encoding) → ready. */
  status: RenditionStatus;
  ready_at: Date | null;
}

export type RenditionStatus = 'pending' | 'streaming' | 'ready';
/** A viewer can play a streaming or ready rendition (SQL elsewhere: status in ('streaming', 'ready')). */
export const isPlayable = (r: { status: string }) => r.status === 'ready' || r.status === 'streaming';

/** The current generation's renditions (the ladder being built or played). */
const currentGeneration = (videoId: string) => sql<number>`(select rendition_generation from videos where id = ${videoId})`;

/** Lowest video rendition first, audio last: the publishing order. Of the current generation. */
export async function renditionsOf(tx: Tx, videoId: string): Promise<RenditionRow[]> {
  return tx.selectFrom('renditions')
    .select(['name', 'kind', 'width', 'height', 'bandwidth', 'average_bandwidth', 'codecs', 'frame_rate', 'playlist_key', 'segment_count', 'bytes', 'duration_ms', 'status', 'ready_at'])
    .where('video_id', '=', videoId).where('generation', '=', currentGeneration(videoId))
    .orderBy(sql`kind = 'audio'`).orderBy(sql`coalesce(least(width, height), 0)`).orderBy('name')
    .execute() as Promise<RenditionRow[]>;
}

/** Every generation's renditions of these videos (a replaced video has two while its new ladder is built); `current` marks the current one's. */
export async function renditionsOfMany(tx: Tx, videoIds: string[]): Promise<(RenditionRow & { video_id: string; current: boolean })[]> {
  if (videoIds.length === 0) return [];
  return tx.selectFrom('renditions')
    .select(['video_id', 'name', 'kind', 'width', 'height', 'bandwidth', 'average_bandwidth', 'codecs', 'frame_rate', 'playlist_key', 'segment_count', 'bytes', 'duration_ms', 'status', 'ready_at'])
    .select(sql<boolean>`generation = (select rendition_generation from videos v where v.id = renditions.video_id)`.as('current'))
    .where('video_id', 'in', videoIds)
    .orderBy(sql`kind = 'audio'`).orderBy(sql`coalesce(least(width, height), 0)`).orderBy('name')
    .execute() as Promise<(RenditionRow & { video_id: string; current: boolean })[]>;
}

export interface PlannedRendition { name: string; kind: 'video' | 'audio'; width: number | null; height: number | null; bandwidth: number; codecs: string; playlistKey: string; frameRate: number | null }

export async function insertPlannedRenditions(tx: Tx, tenantId: string, videoId: string, generation: number, planned: PlannedRendition[]): Promise<void> {
  if (planned.length === 0) return;
  await tx.insertInto('renditions').values(planned.map((r) => ({
    video_id: videoId, tenant_id: tenantId, generation, name: r.name, kind: r.kind, width: r.width, height: r.height,
    bandwidth: r.bandwidth, codecs: r.codecs, playlist_key: r.playlistKey, frame_rate: r.frameRate,
  }))).onConflict((oc) => oc.columns(['video_id', 'generation', 'name']).doNothing()).execute();
}

export interface PublishedRendition { bandwidth: number; averageBandwidth: number; codecs: string; segmentCount: number; bytes: number; durationMs: number }

/** Marks a rendition ready; false when another run already did (its bytes are then not counted twice). */
export async function markRenditionReady(tx: Tx, videoId: string, name: string, r: PublishedRendition): Promise<boolean> {
  const res = await tx.updateTable('renditions')
    .set({ status: 'ready', ready_at: sql`clock_timestamp()`, bandwidth: r.bandwidth, average_bandwidth: r.averageBandwidth, codecs: r.codecs, segment_count: r.segmentCount, bytes: r.bytes, duration_ms: r.durationMs })
    .where('video_id', '=', videoId).where('generation', '=', currentGeneration(videoId)).where('name', '=', name).where('status', 'in', ['pending', 'streaming'])
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return false;
  await addStoredBytes(tx, videoId, r.bytes);
  return true;
}

/** A pending rendition goes out while it is still encoding; false when it is not pending (any more). */
export async function markRenditionStreaming(tx: Tx, videoId: string, name: string, r: Pick<PublishedRendition, 'bandwidth' | 'averageBandwidth' | 'codecs'>): Promise<boolean> {
  const res = await tx.updateTable('renditions')
    .set({ status: 'streaming', bandwidth: r.bandwidth, average_bandwidth: r.averageBandwidth, codecs: r.codecs })
    .where('video_id', '=', videoId).where('generation', '=', currentGeneration(videoId)).where('name', '=', name).where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

// ---------------------------------------------------------------------------
// Uploads

export interface UploadRow {
  id: string;
  tenant_id: string;
  video_id: string;
  user_id: string | null;
  size_bytes: number | null;
  received_bytes: number;
  expires_at: Date;
  completed_at: Date | null;
  region: string;
  video_status: VideoStatus;
}

/** One upload with its video's region and status; with `lock`, both rows stay locked until the transaction ends. */
export async function uploadById(tx: Tx, uploadId: string, opts: { lock?: boolean } = {}): Promise<UploadRow | undefined> {
  return tx.selectFrom('uploads as u').innerJoin('videos as v', 'v.id', 'u.video_id')
    .select(['u.id', 'u.tenant_id', 'u.video_id', 'u.user_id', 'u.size_bytes', 'u.received_bytes', 'u.expires_at', 'u.completed_at', 'v.region', 'v.status as video_status'])
    .where('u.id', '=', uploadId)
    .$if(opts.lock === true, (q) => q.forUpdate())
    .executeTakeFirst() as Promise<UploadRow | undefined>;
}

export async function uploadOfVideo(tx: Tx, videoId: string): Promise<UploadRow | undefined> {
  return tx.selectFrom('uploads as u').innerJoin('videos as v', 'v.id', 'u.video_id')
    .select(['u.id', 'u.tenant_id', 'u.video_id', 'u.user_id', 'u.size_bytes', 'u.received_bytes', 'u.expires_at', 'u.completed_at', 'v.region', 'v.status as video_status'])
    .where('u.video_id', '=', videoId)
    .orderBy('u.created_at', 'desc')
    .executeTakeFirst() as Promise<UploadRow | undefined>;
}

/** Storage a tenant uses or has promised to uploads still arriving. */
export async function storageCommitted(tx: Tx, tenantId: string): Promise<number> {
  const { stored, pending } = await storageUsage(tx, tenantId);
  return stored + pending;
}

/** The two parts of storageCommitted: stored objects, and uploads' declared lengths still to arrive. */
export async function storageUsage(tx: Tx, tenantId: string): Promise<{ stored: number; pending: number }> {
  const row = await tx.selectNoFrom([
    sql<number>`(select coalesce(sum(stored_bytes), 0) from videos where tenant_id = ${tenantId})`.as('stored'),
    sql<number>`(select coalesce(sum(size_bytes), 0) from uploads where tenant_id = ${tenantId} and completed_at is null)`.as('pending'),
  ]).executeTakeFirstOrThrow();
  return { stored: Number(row.stored), pending: Number(row.pending) };
}

export interface QuotaRow { storage_bytes: number | null; max_file_bytes: number | null; max_duration_seconds: number | null; updated_at: Date }

export async function quotaRow(tx: Tx, tenantId: string): Promise<QuotaRow | undefined> {
  return tx.selectFrom('media_quotas').select(['storage_bytes', 'max_file_bytes', 'max_duration_seconds', 'updated_at']).where('tenant_id', '=', tenantId).executeTakeFirst() as Promise<QuotaRow | undefined>;
}
