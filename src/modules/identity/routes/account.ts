// The signed-in person's own account: profile, password, email, sessions, API tokens.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { tokenScopes } from '../access.ts';
import type { AccountService } from '../account.ts';
import { languages } from '../users.ts';

const profile = z.object({ id: z.uuid(), username: z.string(), email: z.string(), emailVerified: z.boolean(), displayName: z.string(), language: z.string(), twoFactor: z.boolean(), createdAt: z.date() });
const enrollmentOk = { enrollmentExempt: true } as const;

export function registerAccountRoutes(app: HttpServer, account: AccountService): void {
  app.get('/api/v1/account', { schema: { tags: ['account'], summary: 'My profile', response: { 200: profile, ...errorResponses } }, config: enrollmentOk }, async (req) => account.profile(req.ctx));

  app.patch('/api/v1/account', {
    schema: { tags: ['account'], summary: 'Change my display name or language', body: z.object({ displayName: z.string().max(200).optional(), language: z.enum(languages).optional() }).strict(), response: { 200: profile, ...errorResponses } },
  }, async (req) => account.updateProfile(req.ctx, req.body));

  app.post('/api/v1/account/password', {
    schema: { tags: ['account'], summary: 'Change my password (ends my other sessions)', body: z.object({ currentPassword: z.string().max(1024), newPassword: z.string().max(1024) }), response: { 204: z.null(), ...errorResponses } },
    config: { ...enrollmentOk, rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req, reply) => {
    await account.changePassword(req.ctx, req.body.currentPassword, req.body.newPassword);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/account/email', {
    schema: { tags: ['account'], summary: 'Change my email address (needs a recent re-authentication)', body: z.object({ email: z.string().max(320) }), response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await account.changeEmail(req.ctx, req.body.email);
    return reply.status(204).send(null);
  });

  const sessionItem = z.object({ id: z.uuid(), createdAt: z.date(), lastSeenAt: z.date(), expiresAt: z.date(), userAgent: z.string().nullable(), tenantId: z.uuid().nullable(), current: z.boolean() });
  app.get('/api/v1/account/sessions', { schema: { tags: ['account'], summary: 'My active sessions', response: { 200: z.object({ items: z.array(sessionItem) }), ...errorResponses } }, config: enrollmentOk }, async (req) => ({ items: await account.listSessions(req.ctx) }));

  app.delete('/api/v1/account/sessions/:id', { schema: { tags: ['account'], summary: 'End one of my sessions', params: idParam, response: { 204: z.null(), ...errorResponses } }, config: enrollmentOk }, async (req, reply) => {
    await account.revokeSession(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });

  const tokenItem = z.object({ id: z.uuid(), name: z.string(), scopes: z.array(z.string()), created_at: z.date(), expires_at: z.date(), last_used_at: z.date().nullable(), revoked_at: z.date().nullable() });
  app.get('/api/v1/account/tokens', { schema: { tags: ['account'], summary: 'My API tokens in this organization', response: { 200: z.object({ items: z.array(tokenItem) }), ...errorResponses } } }, async (req) => ({ items: await account.listTokens(req.ctx) }));

  app.post('/api/v1/account/tokens', {
    schema: {
      tags: ['account'],
      summary: 'Create an API token (shown once)',
      body: z.object({ name: z.string().trim().min(1).max(100), scopes: z.array(z.enum(tokenScopes)).min(1).max(tokenScopes.length), expiresInDays: z.number().int().min(1).max(365).default(90) }),
      response: { 201: z.object({ id: z.uuid(), name: z.string(), scopes: z.array(z.string()), expiresAt: z.date(), token: z.string() }), ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await account.createToken(req.ctx, req.body)));

  app.delete('/api/v1/account/tokens/:id', { schema: { tags: ['account'], summary: 'Revoke one of my API tokens', params: idParam, response: { 204: z.null(), ...errorResponses } } }, async (req, reply) => {
    await account.revokeToken(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });
}
