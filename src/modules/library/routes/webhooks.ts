// Webhook endpoints and their delivery log, for an organization's admins.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { webhookEventTypes } from '../webhooks/events.ts';
import { endpointCreateSchema, endpointUpdateSchema, type WebhookEndpointService } from '../webhooks/endpoints.ts';

const endpoint = z.object({
  id: z.uuid(), url: z.string(), description: z.string(), events: z.array(z.enum(webhookEventTypes)), enabled: z.boolean(), createdAt: z.date(), updatedAt: z.date(),
});
const delivery = z.object({
  id: z.uuid(), eventId: z.uuid(), eventType: z.string(), status: z.enum(['pending', 'succeeded', 'failed']), attempts: z.number(),
  lastStatusCode: z.number().nullable(), lastDurationMs: z.number().nullable(), lastError: z.string().nullable(), nextAttemptAt: z.date().nullable(),
  createdAt: z.date(), completedAt: z.date().nullable(),
  log: z.array(z.object({ attempt: z.number(), startedAt: z.date(), durationMs: z.number(), statusCode: z.number().nullable(), error: z.string().nullable() })),
});
const secretReply = z.string().describe('The signing secret (whsec_…); shown only in this reply');

export function registerWebhookRoutes(app: HttpServer, webhooks: WebhookEndpointService): void {
  app.get('/api/v1/webhooks', {
    schema: { tags: ['webhooks'], summary: 'Registered webhook endpoints', response: { 200: z.object({ items: z.array(endpoint) }), ...errorResponses } },
  }, async (req) => ({ items: await webhooks.list(req.ctx) }));

  app.post('/api/v1/webhooks', {
    schema: {
      tags: ['webhooks'],
      summary: `Register an endpoint for ${webhookEventTypes.join(', ')}; the reply carries its signing secret, once`,
      body: endpointCreateSchema,
      response: { 201: endpoint.extend({ secret: secretReply }), ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await webhooks.create(req.ctx, req.body)));

  app.get('/api/v1/webhooks/:id', {
    schema: { tags: ['webhooks'], summary: 'One webhook endpoint', params: idParam, response: { 200: endpoint, ...errorResponses } },
  }, async (req) => webhooks.get(req.ctx, req.params.id));

  app.patch('/api/v1/webhooks/:id', {
    schema: { tags: ['webhooks'], summary: 'Change an endpoint\'s URL, events, description or enabled state', params: idParam, body: endpointUpdateSchema, response: { 200: endpoint, ...errorResponses } },
  }, async (req) => webhooks.update(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/webhooks/:id', {
    schema: { tags: ['webhooks'], summary: 'Remove an endpoint and its delivery log', params: idParam, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await webhooks.remove(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/webhooks/:id/rotate-secret', {
    schema: { tags: ['webhooks'], summary: 'Replace the signing secret (the old one stops working at once)', params: idParam, response: { 200: z.object({ secret: secretReply }), ...errorResponses } },
  }, async (req) => webhooks.rotateSecret(req.ctx, req.params.id));

  app.get('/api/v1/webhooks/:id/deliveries', {
    schema: {
      tags: ['webhooks'], summary: 'The endpoint\'s newest deliveries with every attempt (status code, duration, error)', params: idParam,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50), status: z.enum(['pending', 'succeeded', 'failed']).optional() }),
      response: { 200: z.object({ items: z.array(delivery) }), ...errorResponses },
    },
  }, async (req) => ({ items: await webhooks.deliveries(req.ctx, req.params.id, req.query) }));

  app.post('/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver', {
    schema: {
      tags: ['webhooks'], summary: 'Send a delivery\'s event to the endpoint again', params: z.object({ id: z.uuid('must be a valid id'), deliveryId: z.uuid('must be a valid id') }),
      response: { 202: z.object({ deliveryId: z.uuid() }), ...errorResponses },
    },
  }, async (req, reply) => reply.status(202).send(await webhooks.redeliver(req.ctx, req.params.id, req.params.deliveryId)));
}
