// Access over HTTP: the policy and links for editors, the password unlock for
// viewers.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { type AccessManagement, policyUpdateSchema } from './management.ts';
import { audienceSchema, conditionsSchema } from './policy.ts';

const accessView = z.object({
  audiences: z.array(audienceSchema),
  conditions: conditionsSchema,
  version: z.number().int().describe('Increases with every change; 0 while the video has the default policy (members only)'),
  hasPassword: z.boolean(),
  updatedAt: z.date().nullable(),
});

const linkView = z.object({
  id: z.uuid(), label: z.string(), expiresAt: z.date().nullable(), revokedAt: z.date().nullable(), createdAt: z.date(),
  state: z.enum(['active', 'expired', 'revoked']),
});
const createdLink = z.object({
  id: z.uuid(), label: z.string(), expiresAt: z.date().nullable(),
  url: z.string().describe('The watch page with the secret; shown only now'),
  secret: z.string().describe('Shown only now; stored as its SHA-256'),
});
const linkParams = z.object({ id: z.uuid('must be a valid id'), linkId: z.uuid('must be a valid id') });

// Viewers unlock videos whether or not they have a Haven session of their own.
const viewerRoute = { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 60, timeWindow: 60_000 } } as const;

export function registerAccessRoutes(app: HttpServer, access: AccessManagement): void {
  app.get('/api/v1/videos/:id/access', {
    schema: { tags: ['playback'], summary: 'Who may watch a video (no policy yet: members of the organization)', params: idParam, response: { 200: accessView, ...errorResponses } },
  }, async (req) => access.get(req.ctx, req.params.id));

  app.put('/api/v1/videos/:id/access', {
    schema: {
      tags: ['playback'],
      summary: 'Set who may watch a video: audiences (any admits) and conditions (all must hold, except for editors and above); optional write-only password',
      params: idParam, body: policyUpdateSchema, response: { 200: accessView, ...errorResponses },
    },
  }, async (req) => access.update(req.ctx, req.params.id, req.body));

  app.post('/api/v1/videos/:id/links', {
    schema: {
      tags: ['playback'], summary: 'Create an unlisted link (its secret is shown once)', params: idParam,
      body: z.object({ label: z.string().trim().max(200).optional(), expiresAt: z.coerce.date().optional() }).strict(),
      response: { 201: createdLink, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await access.createLink(req.ctx, req.params.id, req.body)));

  app.get('/api/v1/videos/:id/links', {
    schema: { tags: ['playback'], summary: 'A video\'s unlisted links (without their secrets)', params: idParam, response: { 200: z.object({ items: z.array(linkView) }), ...errorResponses } },
  }, async (req) => ({ items: await access.listLinks(req.ctx, req.params.id) }));

  app.delete('/api/v1/videos/:id/links/:linkId', {
    schema: { tags: ['playback'], summary: 'Revoke an unlisted link: it admits no one and ends the playback it granted', params: linkParams, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await access.revokeLink(req.ctx, req.params.id, req.params.linkId);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/videos/:id/unlock', {
    schema: {
      tags: ['playback'], summary: 'Unlock a password-protected video: sets a cookie (12 h) that the playback request presents', params: idParam,
      body: z.object({ password: z.string().min(1, 'enter the password').max(200) }).strict(),
      response: { 204: z.null(), ...errorResponses },
    },
    config: viewerRoute,
  }, async (req, reply) => {
    try {
      const cookie = await access.unlock(req.ctx, req.params.id, req.body.password);
      reply.setCookie(cookie.name, cookie.value, { path: '/', httpOnly: true, sameSite: 'lax', secure: true, expires: cookie.expires });
      return reply.status(204).send(null);
    } catch (err) {
      const seconds = err instanceof AppError && err.status === 429 ? (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
      if (seconds) reply.header('retry-after', String(seconds));
      throw err;
    }
  });
}
