// The media pipeline's video route: the progress event stream. The video
// itself (GET /api/v1/videos/{id}) is the library's; the media fields join it
// through mediaViewExtension.
import { z } from 'zod';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses, idParam } from '../../platform/http/schemas.ts';
import type { EventStreams } from './events.ts';

export function registerMediaRoutes(app: HttpServer, events: EventStreams): void {
  app.get('/api/v1/videos/:id/events', {
    schema: {
      tags: ['videos'], summary: 'Processing progress as server-sent events',
      description: 'text/event-stream: a "progress" event ({status, progress, playable, error, renditions}) now and whenever something changes, ": heartbeat" comments every 15 s, and a final "end" event after ready or failed, when the stream closes.',
      params: idParam, response: { 200: z.string().describe('text/event-stream'), ...errorResponses },
    },
  }, (req, reply) => events.serve(req.ctx, req.params.id, reply));
}
