// The trash: admins list what was deleted, restore it within the window, or purge it now.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import { trashTypes } from './mark.ts';
import { trashListQuery, type TrashService } from './service.ts';

const item = z.object({
  type: z.enum(trashTypes), id: z.uuid(), name: z.string(), deletedAt: z.date(), deletedBy: z.uuid().nullable(), purgeAfter: z.date(),
  purging: z.boolean().describe('The purge has begun; it can no longer be restored'),
});
const itemParams = z.object({ type: z.enum(trashTypes, 'type must be video, collection or user'), id: z.uuid('must be a valid id') });
const gone = { 410: errorResponses[404] };

export function registerTrashRoutes(app: HttpServer, trash: TrashService): void {
  app.get('/api/v1/trash', {
    schema: { tags: ['privacy'], summary: 'Deleted videos, collections and people, newest first, with when each will be purged', querystring: trashListQuery, response: { 200: z.object({ items: z.array(item) }), ...errorResponses } },
  }, async (req) => ({ items: await trash.list(req.ctx, req.query) }));

  app.post('/api/v1/trash/:type/:id/restore', {
    schema: { tags: ['privacy'], summary: 'Restore a deleted item within its trash window', params: itemParams, response: { 200: z.object({ type: z.enum(trashTypes), id: z.uuid() }), ...errorResponses, ...gone } },
  }, async (req) => trash.restore(req.ctx, req.params.type, req.params.id));

  app.delete('/api/v1/trash/:type/:id', {
    schema: { tags: ['privacy'], summary: 'Purge a deleted item now: rows, objects and keys (owners and admins)', params: itemParams, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await trash.purgeNow(req.ctx, req.params.type, req.params.id);
    return reply.status(204).send(null);
  });
}
