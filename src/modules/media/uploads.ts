// Upload records: a tus upload and the video it creates, from creation (one
// transaction with the video row and its audit event) to completion (the
// video moves to processing and ingest is queued) or abandonment.
import { stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import { actorUserId, type RequestContext, systemContext } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { ingestJob } from './jobs.ts';
import { assertUploadFits } from './quotas.ts';
import { isReplacementUpload, openReplacement, pendingReplacement, replacedVideoId } from './replace.ts';
import type { Staging } from './staging.ts';
import { type UploadRow, uploadById } from './store.ts';

export interface UploadDeps {
  platform: Platform;
  audit: Pick<AuditService, 'record'>;
  staging: Staging;
}

const metadataSchema = z.object({
  filename: z.string().trim().max(255, 'filename may be at most 255 characters').nullish(),
  title: z.string().trim().max(500, 'title may be at most 500 characters').nullish(),
});

/** The title a video starts with: the one given, else the file's name without its extension. */
export function initialTitle(metadata: Record<string, string | null> | undefined): string {
  const parsed = metadataSchema.safeParse(metadata ?? {});
  if (!parsed.success) throw new AppError('upload_metadata_invalid', 400, parsed.error.issues[0]!.message);
  const fromFile = parsed.data.filename?.replace(/\.[A-Za-z0-9]{1,5}$/, '').trim();
  return parsed.data.title || fromFile || 'Untitled video';
}

export function createUploadRecords(deps: UploadDeps) {
  const { platform, audit, staging } = deps;
  const { db, config, jobs, log } = platform;

  /**
   * Completes an upload whose bytes have all arrived: the video moves to
   * processing and ingest is queued. Idempotent, and also reached from HEAD
   * and the expiry sweep, so a crash between the last byte and this step
   * cannot strand a video in "uploading".
   */
  async function finish(tenantId: string, uploadId: string, ctx?: RequestContext): Promise<boolean> {
    const done = await db.withTenant(tenantId, async (tx) => {
      const upload = await uploadById(tx, uploadId);
      if (!upload || upload.completed_at || (upload.video_status !== 'uploading' && !isReplacementUpload(upload))) return undefined;
      const received = await stagedBytes(staging.uploadFile(upload.region, upload.id));
      if (received !== upload.size_bytes) return undefined;
      const res = await tx.updateTable('uploads').set({ completed_at: sql`now()`, received_bytes: received }).where('id', '=', uploadId).where('completed_at', 'is', null).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return undefined;
      if (isReplacementUpload(upload)) {
        // The video stays ready with its current version; ingest validates the new file first (replace.ts).
        await audit.record(tx, ctx ?? systemContext('media.upload', tenantId), { action: 'video.source.upload.complete', target: { type: 'video', id: upload.video_id }, details: { sizeBytes: received } });
        return upload;
      }
      await tx.updateTable('videos')
        .set({ status: 'processing', progress_step: 'queued', progress_percent: 0, source_size_bytes: received, updated_at: sql`now()` })
        .where('id', '=', upload.video_id).execute();
      await audit.record(tx, ctx ?? systemContext('media.upload', tenantId), { action: 'video.upload.complete', target: { type: 'video', id: upload.video_id }, details: { sizeBytes: received } });
      return upload;
    });
    if (!done) return false;
    await jobs.send(ingestJob, { tenantId, videoId: done.video_id }, { region: done.region });
    log.info({ videoId: done.video_id, bytes: done.size_bytes }, 'upload complete; ingest queued');
    return true;
  }

  return {
    finish,

    /** Creates the video (status uploading) and the upload row, inside the tenant's limits. */
    async create(ctx: RequestContext, region: string, uploadId: string, size: number | undefined, metadata: Record<string, string | null> | undefined): Promise<{ videoId: string }> {
      authorize(ctx, 'videos:write');
      if (size === undefined) {
        throw new AppError('upload_length_required', 400, 'Declare the file size with Upload-Length; uploads of unknown length (Upload-Defer-Length) are not accepted.');
      }
      const replaces = replacedVideoId(metadata);
      if (replaces) {
        await db.withTenant(ctx.tenantId, async (tx) => {
          await assertUploadFits(tx, ctx.tenantId, size, config);
          await openReplacement(tx, audit, { ...ctx, tenantId: ctx.tenantId! }, replaces, region, uploadId, size, config.uploadExpiryHours);
        });
        return { videoId: replaces };
      }
      const title = initialTitle(metadata);
      const videoId = randomUUID();
      await db.withTenant(ctx.tenantId, async (tx) => {
        await assertUploadFits(tx, ctx.tenantId, size, config);
        await tx.insertInto('videos').values({ id: videoId, tenant_id: ctx.tenantId, region, owner_id: actorUserId(ctx.actor) ?? null, title, status: 'uploading', progress_step: 'uploading' }).execute();
        await tx.insertInto('uploads').values({
          id: uploadId, tenant_id: ctx.tenantId, video_id: videoId, user_id: actorUserId(ctx.actor) ?? null, size_bytes: size,
          expires_at: sql`now() + make_interval(hours => ${config.uploadExpiryHours})`,
        }).execute();
        await audit.record(tx, ctx, { action: 'video.upload.create', target: { type: 'video', id: videoId }, details: { sizeBytes: size, region } });
      });
      return { videoId };
    },

    /** The caller's upload: same tenant and same person, else 404 (ids of others are not confirmed). */
    async find(ctx: RequestContext, uploadId: string): Promise<UploadRow> {
      authorize(ctx, 'videos:write');
      const row = await db.withTenant(ctx.tenantId, (tx) => uploadById(tx, uploadId));
      if (!row || row.user_id !== actorUserId(ctx.actor)) throw notFound('upload');
      return row;
    },

    /** Notes how far an upload got (the video's progress while uploading). */
    async recordReceived(upload: UploadRow): Promise<number> {
      const received = await stagedBytes(staging.uploadFile(upload.region, upload.id));
      const percent = upload.size_bytes ? Math.floor((received / upload.size_bytes) * 100) : 0;
      await db.withTenant(upload.tenant_id, async (tx) => {
        await tx.updateTable('uploads').set({ received_bytes: received }).where('id', '=', upload.id).where('completed_at', 'is', null).execute();
        await tx.updateTable('videos').set({ progress_percent: Math.min(99, percent), updated_at: sql`now()` }).where('id', '=', upload.video_id).where('status', '=', 'uploading').execute();
      });
      return received;
    },

    /**
     * Cancels an unfinished upload (tus termination): the video that never got
     * content goes with its audit event in one transaction, then the staged
     * bytes. The caller holds the upload's lock, so no PATCH is writing. An
     * upload whose bytes have all arrived is being processed and stays.
     */
    async cancel(ctx: RequestContext, upload: UploadRow): Promise<void> {
      await db.withTenant(upload.tenant_id, async (tx) => {
        const current = await uploadById(tx, upload.id, { lock: true });
        if (!current) throw notFound('upload');
        const received = await stagedBytes(staging.uploadFile(current.region, current.id));
        if (isReplacementUpload(current) && !current.completed_at && received !== current.size_bytes) {
          // Only the replacement goes; the video keeps its current source.
          await tx.deleteFrom('uploads').where('id', '=', current.id).execute();
          await audit.record(tx, ctx, { action: 'video.source.upload.cancel', target: { type: 'video', id: current.video_id }, details: { receivedBytes: received } });
          return;
        }
        if (current.completed_at || current.video_status !== 'uploading' || received === current.size_bytes) {
          throw new AppError('upload_complete', 400, 'A finished upload cannot be cancelled; its video is being processed.');
        }
        await tx.deleteFrom('videos').where('id', '=', current.video_id).execute();
        await audit.record(tx, ctx, { action: 'video.upload.cancel', target: { type: 'video', id: current.video_id }, details: { receivedBytes: received } });
      });
      await staging.removeUpload(upload.region, upload.id);
    },

    /** The expiry sweep of one region: abandoned uploads go, complete-but-unfinished ones are finished. */
    async expire(region: string): Promise<{ expired: number; finished: number }> {
      const due = await db.withPlatform((tx) => tx.selectFrom('uploads as u').innerJoin('videos as v', 'v.id', 'u.video_id')
        .select(['u.id', 'u.tenant_id', 'u.video_id', 'u.size_bytes'])
        .where('v.region', '=', region).where('u.completed_at', 'is', null).where('u.expires_at', '<', sql<Date>`now()`)
        .execute());
      let expired = 0;
      let finished = 0;
      for (const u of due) {
        if (await finish(u.tenant_id, u.id)) { finished++; continue; }
        await db.withTenant(u.tenant_id, async (tx) => {
          const replacement = await pendingReplacement(tx, u.video_id);
          if (replacement?.id === u.id) {
            await tx.deleteFrom('uploads').where('id', '=', u.id).execute();
            await audit.record(tx, systemContext('media.expire-uploads', u.tenant_id), { action: 'video.source.upload.expire', target: { type: 'video', id: u.video_id }, details: { declaredBytes: u.size_bytes } });
            return;
          }
          const gone = await tx.deleteFrom('videos').where('id', '=', u.video_id).where('status', '=', 'uploading').executeTakeFirst();
          if (Number(gone.numDeletedRows) === 1) {
            await audit.record(tx, systemContext('media.expire-uploads', u.tenant_id), { action: 'video.upload.expire', target: { type: 'video', id: u.video_id }, details: { declaredBytes: u.size_bytes } });
          }
        });
        await staging.removeUpload(region, u.id);
        expired++;
      }
      return { expired, finished };
    },
  };
}

export type UploadRecords = ReturnType<typeof createUploadRecords>;

async function stagedBytes(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}
