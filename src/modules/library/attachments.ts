// Documents and other files kept beside a video (slides, transcripts, data).
// Each is encrypted at rest in HVN1 under a data key of its own, wrapped by
// the tenant key, and stored in the region of its video; reading one needs
// the same permission as the video, and staff reads are audited. Deleting the
// row destroys the only copy of the wrapped key.
import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { decryptStream, encryptStream } from '../../platform/crypto/stream.ts';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { RequestContext } from '../identity/actor.ts';
import { actorUserId } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { requireVideo } from './videos.ts';

export const ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024;
export const MAX_ATTACHMENTS_PER_VIDEO = 100;

export interface Attachment {
  id: string;
  videoId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdBy: string | null;
  createdAt: Date;
}

export interface AttachmentUpload {
  filename: string;
  contentType: string;
  body: Readable;
  /** Content-Length, when the client sent one: refused at once if over the limit. */
  declaredBytes?: number;
}

const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

export const attachmentFilename = z.string().min(1, 'filename must not be empty').max(1000);

/** A name safe in a Content-Disposition header and on any disk: no path, no control characters. */
export function cleanFilename(raw: string): string {
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f"]/g, '').trim().slice(0, 255);
  if (!clean || clean === '.' || clean === '..') throw new AppError('invalid_filename', 400, 'Give the attachment a file name (the filename query parameter).');
  return clean;
}

/** The media type without parameters, lowercased; anything unusable becomes application/octet-stream. */
export function cleanContentType(raw: string | undefined): string {
  const type = (raw ?? '').split(';')[0]!.trim().toLowerCase();
  return CONTENT_TYPE.test(type) ? type : 'application/octet-stream';
}

const tooLarge = () => new AppError('attachment_too_large', 413, `An attachment may be at most ${ATTACHMENT_MAX_BYTES / 1024 / 1024} MiB.`);

/** Counts and hashes the plaintext on its way to the cipher, failing once it passes the limit. */
class MeasuredLimit extends Transform {
  bytes = 0;
  readonly hash = createHash('sha256');
  readonly limit: number;
  constructor(limit: number) {
    super();
    this.limit = limit;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(tooLarge());
    this.hash.update(chunk);
    done(null, chunk);
  }
}

const objectKeyFor = (tenantId: string, videoId: string, id: string) => `tenants/${tenantId}/videos/${videoId}/attachments/${id}`;
const keyPurpose = (id: string) => `attachment:${id}`;

const toAttachment = (r: Record<string, any>): Attachment => ({
  id: r.id, videoId: r.video_id, filename: r.filename, contentType: r.content_type, sizeBytes: r.size_bytes, sha256: r.sha256, createdBy: r.created_by, createdAt: r.created_at,
});

async function attachmentRow(tx: Tx, tenantId: string, videoId: string, id: string): Promise<Record<string, any>> {
  const row = await tx.selectFrom('video_attachments').selectAll().where('tenant_id', '=', tenantId).where('video_id', '=', videoId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('attachment');
  return row;
}

export function createAttachmentService(platform: Platform, audit: AuditService) {
  const { db, keyring, storage, log } = platform;

  return {
    async list(ctx: RequestContext, videoId: string): Promise<Attachment[]> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        await requireVideo(tx, ctx.tenantId, videoId);
        const rows = await tx.selectFrom('video_attachments').selectAll().where('tenant_id', '=', ctx.tenantId).where('video_id', '=', videoId).orderBy('created_at').execute();
        return rows.map(toAttachment);
      });
    },

    /**
     * Streams the body through a size limit and the cipher into the video's
     * region store, then records the row. The object is written before the
     * row exists, so a failed upload leaves at most an object no row points
     * to, which is deleted on the spot.
     */
    async upload(ctx: RequestContext, videoId: string, upload: AttachmentUpload): Promise<Attachment> {
      authorize(ctx, 'videos:write');
      const filename = cleanFilename(upload.filename);
      const contentType = cleanContentType(upload.contentType);
      if (upload.declaredBytes !== undefined && upload.declaredBytes > ATTACHMENT_MAX_BYTES) throw tooLarge();
      const id = randomUUID();
      const tenantId = ctx.tenantId;
      const prepared = await db.withTenant(tenantId, async (tx) => {
        const video = await requireVideo(tx, tenantId, videoId);
        const { count } = await tx.selectFrom('video_attachments').select((eb) => eb.fn.countAll<number>().as('count')).where('video_id', '=', video.id).executeTakeFirstOrThrow();
        if (Number(count) >= MAX_ATTACHMENTS_PER_VIDEO) throw new AppError('too_many_attachments', 409, `A video may have at most ${MAX_ATTACHMENTS_PER_VIDEO} attachments.`);
        const { region } = await tx.selectFrom('videos').select('region').where('id', '=', video.id).executeTakeFirstOrThrow();
        return { region: region as string, dataKey: await keyring.newDataKey(tx, tenantId, keyPurpose(id)) };
      });

      const store = storage.forRegion(prepared.region);
      const objectKey = objectKeyFor(tenantId, videoId, id);
      const measured = new MeasuredLimit(ATTACHMENT_MAX_BYTES);
      const ciphertext = new PassThrough();
      try {
        // Both settle before anything is answered, so a failed put has removed its partial file.
        const [piped, stored] = await Promise.allSettled([
          pipeline(upload.body, measured, encryptStream(prepared.dataKey.key), ciphertext),
          store.put(objectKey, ciphertext, { contentType: 'application/octet-stream' }),
        ]);
        if (piped.status === 'rejected') throw piped.reason;
        if (stored.status === 'rejected') throw stored.reason;
        return await db.withTenant(tenantId, async (tx) => {
          const row = await tx.insertInto('video_attachments').values({
            id, tenant_id: tenantId, video_id: videoId, region: prepared.region, filename, content_type: contentType,
            size_bytes: measured.bytes, sha256: measured.hash.digest('hex'), object_key: objectKey, data_key_wrapped: prepared.dataKey.wrapped,
            created_by: actorUserId(ctx.actor) ?? null,
          }).returningAll().executeTakeFirstOrThrow();
          const attachment = toAttachment(row);
          await audit.record(tx, ctx, {
            action: 'video.attachment.add', target: { type: 'video', id: videoId },
            details: { attachmentId: id, filename, contentType, sizeBytes: attachment.sizeBytes }, personal: ['filename'],
          });
          return attachment;
        });
      } catch (err) {
        await store.delete(objectKey).catch((e) => log.error({ err: e, objectKey }, 'could not remove the object of a failed attachment upload'));
        // The video went away while the bytes were arriving.
        if ((err as { code?: string }).code === '23503') throw notFound('video');
        throw err;
      } finally {
        prepared.dataKey.key.fill(0);
      }
    },

    /** The attachment and its decrypted bytes; a staff member's read is audited first. */
    async open(ctx: RequestContext, videoId: string, id: string): Promise<{ attachment: Attachment; body: Readable }> {
      authorize(ctx, 'videos:read');
      const { row, key } = await db.withTenant(ctx.tenantId, async (tx) => {
        const found = await attachmentRow(tx, ctx.tenantId, videoId, id);
        await audit.recordStaffRead(tx, ctx, { target: { type: 'attachment', id }, category: 'private_media' });
        return { row: found, key: await keyring.unwrapDataKey(tx, ctx.tenantId, found.data_key_wrapped, keyPurpose(id)) };
      });
      const encrypted = await storage.forRegion(row.region).get(row.object_key);
      const body = encrypted.pipe(decryptStream(key));
      encrypted.on('error', (err) => body.destroy(err));
      body.once('close', () => key.fill(0));
      return { attachment: toAttachment(row), body };
    },

    async remove(ctx: RequestContext, videoId: string, id: string): Promise<void> {
      authorize(ctx, 'videos:write');
      const row = await db.withTenant(ctx.tenantId, async (tx) => {
        const found = await attachmentRow(tx, ctx.tenantId, videoId, id);
        await tx.deleteFrom('video_attachments').where('id', '=', id).execute();
        await audit.record(tx, ctx, {
          action: 'video.attachment.delete', target: { type: 'video', id: videoId },
          details: { attachmentId: id, filename: found.filename, sizeBytes: found.size_bytes }, personal: ['filename'],
        });
        return found;
      });
      // The row (and with it the wrapped key) is gone; the ciphertext is now unreadable, and removed.
      await storage.forRegion(row.region).delete(row.object_key).catch((err) => log.error({ err, objectKey: row.object_key }, 'could not remove a deleted attachment\'s object'));
    },
  };
}

export type AttachmentService = ReturnType<typeof createAttachmentService>;
