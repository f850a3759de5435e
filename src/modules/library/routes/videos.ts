// The library's video endpoints: list and search, one video, metadata edits,
// deletion (to the trash), and the history of replaced sources.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { searchParamsSchema } from '../search-params.ts';
import { durationBuckets } from '../search-store.ts';
import type { VersionService } from '../versions.ts';
import { videoPatchSchema, type VideoService } from '../videos.ts';
import type { VideoViews } from '../view.ts';

const facetCount = z.object({ value: z.string(), count: z.number() });
const facets = z.object({
  total: z.number(),
  tags: z.array(facetCount),
  collections: z.array(facetCount.extend({ name: z.string() })),
  status: z.record(z.string(), z.number()),
  publishState: z.record(z.string(), z.number()),
  createdMonth: z.array(facetCount).describe('Videos per month of creation (UTC, YYYY-MM), newest first'),
  duration: z.array(z.object({ bucket: z.enum(durationBuckets.map((b) => b.bucket) as [string, ...string[]]), minSeconds: z.number().nullable(), maxSeconds: z.number().nullable(), count: z.number() })),
});

const version = z.object({
  version: z.number(), sourceSizeBytes: z.number().nullable(), sourceSha256: z.string().nullable(), durationMs: z.number().nullable(),
  width: z.number().nullable(), height: z.number().nullable(), reason: z.string(), replacedBy: z.uuid().nullable(), createdAt: z.date(), replacedAt: z.date(),
});

export function registerVideoRoutes(app: HttpServer, deps: { videos: VideoService; versions: VersionService; views: VideoViews }): void {
  const { videos, versions, views } = deps;
  const video = views.schema();

  app.get('/api/v1/videos', {
    schema: {
      tags: ['videos'],
      summary: 'List and search videos: filters, facets, sorting and cursor pages',
      querystring: searchParamsSchema,
      response: { 200: z.object({ items: z.array(video), nextCursor: z.string().nullable(), facets: facets.optional() }), ...errorResponses },
    },
  }, async (req) => videos.search(req.ctx, req.query));

  app.get('/api/v1/videos/:id', {
    schema: { tags: ['videos'], summary: 'One video: metadata, status and progress', params: idParam, response: { 200: video, ...errorResponses } },
  }, async (req) => videos.get(req.ctx, req.params.id));

  app.patch('/api/v1/videos/:id', {
    schema: {
      tags: ['videos'],
      summary: 'Change title, description, language, tags, custom field values or publish state',
      params: idParam,
      body: videoPatchSchema,
      response: { 200: video, ...errorResponses },
    },
  }, async (req) => videos.update(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/videos/:id', {
    schema: {
      tags: ['videos'],
      summary: 'Delete a video: it moves to the trash (restorable by an admin until purgeAfter), then is purged with its media and keys',
      params: idParam,
      response: { 200: z.object({ id: z.uuid(), deletedAt: z.date(), purgeAfter: z.date() }), ...errorResponses },
    },
  }, async (req) => videos.trash(req.ctx, req.params.id));

  app.get('/api/v1/videos/:id/versions', {
    schema: {
      tags: ['videos'],
      summary: 'The sources this video had before it was replaced, newest first',
      params: idParam,
      response: { 200: z.object({ current: z.number(), items: z.array(version) }), ...errorResponses },
    },
  }, async (req) => versions.list(req.ctx, req.params.id));
}
