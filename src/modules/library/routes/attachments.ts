// Files beside a video. Uploads are the raw request body (any Content-Type,
// the file name in ?filename=), streamed through encryption into storage
// without being buffered; downloads stream back decrypted, always as a
// download (Content-Disposition: attachment), never rendered in Haven's origin.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { ATTACHMENT_MAX_BYTES, type AttachmentService } from '../attachments.ts';

const attachment = z.object({
  id: z.uuid(), videoId: z.uuid(), filename: z.string(), contentType: z.string(), sizeBytes: z.number(), sha256: z.string(), createdBy: z.uuid().nullable(), createdAt: z.date(),
});
const attachmentParams = z.object({ id: z.uuid('must be a valid id'), attachmentId: z.uuid('must be a valid id') });

/** RFC 6266: an ASCII fallback and the exact UTF-8 name. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export async function registerAttachmentRoutes(app: HttpServer, attachments: AttachmentService): Promise<void> {
  app.get('/api/v1/videos/:id/attachments', {
    schema: { tags: ['attachments'], summary: 'Files attached to a video', params: idParam, response: { 200: z.object({ items: z.array(attachment) }), ...errorResponses } },
  }, async (req) => ({ items: await attachments.list(req.ctx, req.params.id) }));

  app.get('/api/v1/videos/:id/attachments/:attachmentId', {
    schema: {
      tags: ['attachments'], summary: 'Download an attachment (decrypted on the way out)', params: attachmentParams,
      response: { 200: z.string().describe('The file'), ...errorResponses },
    },
  }, async (req, reply) => {
    const { attachment: meta, body } = await attachments.open(req.ctx, req.params.id, req.params.attachmentId);
    reply
      .header('content-type', meta.contentType)
      .header('content-length', String(meta.sizeBytes))
      .header('content-disposition', contentDisposition(meta.filename))
      .header('cache-control', 'private, no-store');
    return reply.send(body as unknown as string);
  });

  app.delete('/api/v1/videos/:id/attachments/:attachmentId', {
    schema: { tags: ['attachments'], summary: 'Delete an attachment (its key and object go with it)', params: attachmentParams, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await attachments.remove(req.ctx, req.params.id, req.params.attachmentId);
    return reply.status(204).send(null);
  });

  // Its own scope: here every Content-Type is accepted and the body is left
  // unread for the service to stream, which no other route wants.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    (scope as HttpServer).post('/api/v1/videos/:id/attachments', {
      schema: {
        tags: ['attachments'],
        summary: `Attach a file to a video: the request body is the file (at most ${ATTACHMENT_MAX_BYTES / 1024 / 1024} MiB), its Content-Type the file's`,
        params: idParam,
        querystring: z.object({ filename: z.string().min(1, 'filename must not be empty').max(1000).optional().describe('The file\'s name; "attachment" when left out') }),
        response: { 201: attachment, ...errorResponses },
      },
    }, async (req, reply) => {
      const length = req.headers['content-length'];
      try {
        const created = await attachments.upload(req.ctx, req.params.id, {
          filename: req.query.filename ?? 'attachment',
          contentType: req.headers['content-type'] ?? 'application/octet-stream',
          body: req.raw,
          declaredBytes: length === undefined ? undefined : Number(length),
        });
        return reply.status(201).send(created);
      } catch (err) {
        // Refused before the body was read to its end: the rest of it is still
        // on the connection, which must not carry another request.
        if (!req.raw.complete) reply.header('connection', 'close');
        throw err;
      }
    });
  });
}
