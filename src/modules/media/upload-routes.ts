// /api/v1/uploads: the tus endpoint (POST creates, HEAD tells the offset,
// PATCH appends, DELETE cancels) plus a JSON view of one upload. Haven checks
// who is asking and whose upload it is; tus does the protocol. The routes
// live in their own plugin scope, whose body parser hands PATCH bodies to tus
// unread, so a file streams from the socket to the staging disk.
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses } from '../../platform/http/schemas.ts';
import type { TenantService } from '../identity/tenants.ts';
import { authorize } from '../identity/access.ts';
import { isUploadId, type Staging } from './staging.ts';
import type { UploadRow } from './store.ts';
import { attachContext, type TusServers, UPLOADS_PATH, VIDEO_ID_HEADER } from './tus.ts';
import { createUploadLocker } from './upload-lock.ts';
import type { UploadRecords } from './uploads.ts';

const uploadParams = z.object({ id: z.string().max(128) });
const uploadView = z.object({
  id: z.string(), videoId: z.uuid(), sizeBytes: z.number().nullable(), receivedBytes: z.number(), complete: z.boolean(), expiresAt: z.date(),
});

const TUS_DOC = 'tus 1.0.0 resumable upload (creation, creation-with-upload, termination, expiration). Send Tus-Resumable: 1.0.0; with a session cookie also X-CSRF-Token, or use a Bearer token with videos:write.';

function requireTusVersion(req: FastifyRequest): void {
  if (req.method !== 'OPTIONS' && !req.headers['tus-resumable']) {
    throw new AppError('tus_version_required', 412, 'Send the header Tus-Resumable: 1.0.0 (this is a tus endpoint).');
  }
}

export async function registerUploadRoutes(app: HttpServer, deps: { db: Database; tus: TusServers; records: UploadRecords; tenants: TenantService; staging: Staging }): Promise<void> {
  const { db, tus, records, tenants, staging } = deps;

  async function upload(req: FastifyRequest): Promise<UploadRow> {
    const { id } = req.params as { id: string };
    if (!isUploadId(id)) {
      authorize(req.ctx, 'videos:write');
      throw new AppError('upload_not_found', 404, 'No upload with that id exists.');
    }
    return records.find(req.ctx, id);
  }

  /** Hands the request to the region's tus server; returns once the response is sent. */
  async function viaTus(req: FastifyRequest, reply: FastifyReply, region: string): Promise<void> {
    requireTusVersion(req);
    authorize(req.ctx, 'videos:write');
    const server = await tus.forRegion(region);
    attachContext(req.raw, req.ctx);
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
    reply.hijack();
    try {
      await server.handle(req.raw, reply.raw);
    } catch (err) {
      req.log.error({ err }, 'tus handler failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      reply.raw.end(JSON.stringify({ error: { code: 'internal_error', message: `Something went wrong on our side. Quote request id ${req.id} when reporting it.` } }));
    }
  }

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));

    scope.post(UPLOADS_PATH, {
      schema: {
        tags: ['uploads'], summary: 'Start an upload (tus creation)',
        description: `${TUS_DOC} Upload-Length is required; Upload-Metadata may carry filename and title. Creates the video (status uploading); answers 201 with Location (the upload) and ${VIDEO_ID_HEADER}. With Upload-Metadata replaces = a ready video's id, the upload instead replaces that video's source (a new version; the video stays ready until the new file is accepted; 409 while another replacement is under way; docs/media.md).`,
        response: { 201: z.null(), 412: errorResponses[400], 413: errorResponses[400], ...errorResponses },
      },
    }, async (req, reply) => {
      authorize(req.ctx, 'videos:write');
      const tenant = await tenants.get(req.ctx.tenantId);
      if (!tenant) throw new AppError('tenant_not_found', 404, 'No such organization.');
      await viaTus(req, reply, tenant.region);
    });

    scope.options(UPLOADS_PATH, { schema: { hide: true } }, async (req, reply) => {
      reply.header('tus-resumable', '1.0.0').header('tus-version', '1.0.0').header('tus-extension', 'creation,creation-with-upload,termination,expiration');
      return reply.status(204).send();
    });

    scope.route({
      method: 'HEAD', url: `${UPLOADS_PATH}/:id`, schema: { hide: true, params: uploadParams },
      handler: async (req, reply) => {
        const row = await upload(req);
        // The last byte may have arrived just before a crash: finish it now, before telling the client it is done.
        await records.finish(row.tenant_id, row.id, req.ctx);
        await viaTus(req, reply, row.region);
      },
    });

    scope.patch(`${UPLOADS_PATH}/:id`, {
      schema: { tags: ['uploads'], summary: 'Append bytes at Upload-Offset (tus)', description: `${TUS_DOC} Body: application/offset+octet-stream. 409 when the offset is wrong or another request is writing; 413 past Upload-Length.`, params: uploadParams, response: { 204: z.null(), 413: errorResponses[400], ...errorResponses } },
    }, async (req, reply) => {
      const row = await upload(req);
      await viaTus(req, reply, row.region);
      await records.recordReceived(row).catch((err) => req.log.warn({ err }, 'could not record upload progress'));
      await records.finish(row.tenant_id, row.id, req.ctx).catch((err) => req.log.error({ err }, 'could not finish an upload'));
    });

    scope.delete(`${UPLOADS_PATH}/:id`, {
      schema: { tags: ['uploads'], summary: 'Cancel an unfinished upload and its video (tus termination)', params: uploadParams, response: { 204: z.null(), ...errorResponses } },
    }, async (req, reply) => {
      const row = await upload(req);
      requireTusVersion(req);
      // Haven terminates the upload itself, under the same lock tus writes under,
      // and answers only once the video and its bytes are gone.
      const lock = createUploadLocker(db, row.tenant_id, { waitMs: 0 }).newLock(row.id);
      await lock.lock(AbortSignal.timeout(5000), () => undefined);
      try {
        await records.cancel(req.ctx, row);
      } finally {
        await lock.unlock();
      }
      return reply.header('tus-resumable', '1.0.0').status(204).send();
    });

    scope.get(`${UPLOADS_PATH}/:id`, {
      schema: { tags: ['uploads'], summary: 'An upload of yours: its video and how far it got', params: uploadParams, response: { 200: uploadView, ...errorResponses } },
    }, async (req) => {
      const row = await upload(req);
      const received = row.completed_at ? row.size_bytes ?? 0 : (await stat(staging.uploadFile(row.region, row.id)).catch(() => undefined))?.size ?? 0;
      return { id: row.id, videoId: row.video_id, sizeBytes: row.size_bytes, receivedBytes: received, complete: row.completed_at !== null, expiresAt: row.expires_at };
    });
  });
}
