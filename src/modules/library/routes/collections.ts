// Collections (nested folders of videos) and their contents.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { collectionCreateSchema, type CollectionService, collectionUpdateSchema, collectionVideosSchema } from '../collections.ts';

const collection = z.object({
  id: z.uuid(), parentId: z.uuid().nullable(), name: z.string(), description: z.string(), videoCount: z.number(), createdAt: z.date(), updatedAt: z.date(),
});

export function registerCollectionRoutes(app: HttpServer, collections: CollectionService): void {
  app.get('/api/v1/collections', {
    schema: { tags: ['collections'], summary: 'Every collection of this organization (parentId gives the tree)', response: { 200: z.object({ items: z.array(collection) }), ...errorResponses } },
  }, async (req) => ({ items: await collections.list(req.ctx) }));

  app.post('/api/v1/collections', {
    schema: { tags: ['collections'], summary: 'Create a collection, at the top level or inside another', body: collectionCreateSchema, response: { 201: collection, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await collections.create(req.ctx, req.body)));

  app.get('/api/v1/collections/:id', {
    schema: {
      tags: ['collections'], summary: 'One collection and the path to it', params: idParam,
      response: { 200: collection.extend({ path: z.array(z.object({ id: z.uuid(), name: z.string() })).describe('Ancestors, top level first') }), ...errorResponses },
    },
  }, async (req) => collections.get(req.ctx, req.params.id));

  app.patch('/api/v1/collections/:id', {
    schema: { tags: ['collections'], summary: 'Rename a collection or move it (parentId)', params: idParam, body: collectionUpdateSchema, response: { 200: collection, ...errorResponses } },
  }, async (req) => collections.update(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/collections/:id', {
    schema: {
      tags: ['collections'], summary: 'Delete a collection and its subcollections: to the trash, restorable until purgeAfter (the videos stay)', params: idParam,
      response: { 200: z.object({ collectionsDeleted: z.number(), purgeAfter: z.date() }), ...errorResponses },
    },
  }, async (req) => collections.remove(req.ctx, req.params.id));

  app.post('/api/v1/collections/:id/videos', {
    schema: {
      tags: ['collections'], summary: 'Add videos to a collection (with fromCollectionId: move them from another)', params: idParam, body: collectionVideosSchema,
      response: { 200: z.object({ added: z.number(), removedFromSource: z.number() }), ...errorResponses },
    },
  }, async (req) => collections.addVideos(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/collections/:id/videos/:videoId', {
    schema: { tags: ['collections'], summary: 'Take a video out of a collection', params: z.object({ id: z.uuid('must be a valid id'), videoId: z.uuid('must be a valid id') }), response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await collections.removeVideo(req.ctx, req.params.id, req.params.videoId);
    return reply.status(204).send(null);
  });
}
