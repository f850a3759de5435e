// Invitations: admins invite, list, resend and revoke; the invitee looks at
// the invitation and accepts it with the token from the mail.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorEnvelope, errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { InvitationAcceptance } from '../invitation-accept.ts';
import type { InvitationService } from '../invitations.ts';
import { languages, roles } from '../users.ts';
import { type SessionReplies, sessionView } from './auth.ts';

const invitation = z.object({
  id: z.uuid(), email: z.string(), role: z.enum(roles), language: z.enum(languages), status: z.enum(['pending', 'expired', 'accepted', 'revoked']),
  invitedBy: z.uuid().nullable(), expiresAt: z.date(), createdAt: z.date(), acceptedAt: z.date().nullable(), revokedAt: z.date().nullable(),
});
const preview = z.object({
  tenant: z.object({ name: z.string(), slug: z.string() }), email: z.string(), role: z.enum(roles), expiresAt: z.date(), accountExists: z.boolean(),
});
// 410: the link was real but is used, withdrawn or expired.
const tokenErrors = { ...errorResponses, 410: errorEnvelope };
// Reachable before consents are settled or a factor enrolled: accepting is how a person arrives.
const arriving = { consentExempt: true, enrollmentExempt: true } as const;

export function registerInvitationRoutes(app: HttpServer, invitations: InvitationService, acceptance: InvitationAcceptance, replies: SessionReplies): void {
  // Invitations are answered without waiting for the mail (see invitations.ts); a failed send is logged.
  app.post('/api/v1/invitations', {
    schema: {
      tags: ['invitations'],
      summary: 'Invite someone by email (the answer is the same whether or not the address has an account)',
      body: z.object({ email: z.string().max(320), role: z.enum(roles), language: z.enum(languages).optional() }),
      response: { 201: invitation, ...errorResponses },
    },
    config: { rateLimit: { max: 30, timeWindow: 60_000 } },
  }, async (req, reply) => reply.status(201).send((await invitations.create(req.ctx, req.body)).invitation));

  app.get('/api/v1/invitations', {
    schema: { tags: ['invitations'], summary: 'Invitations of this organization, newest first', response: { 200: z.object({ items: z.array(invitation) }), ...errorResponses } },
  }, async (req) => ({ items: await invitations.list(req.ctx) }));

  app.delete('/api/v1/invitations/:id', {
    schema: { tags: ['invitations'], summary: 'Withdraw an open invitation (its link stops working)', params: idParam, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await invitations.revoke(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/invitations/:id/resend', {
    schema: { tags: ['invitations'], summary: 'Send a fresh link, valid seven more days (the old link stops working)', params: idParam, response: { 200: invitation, ...errorResponses } },
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req) => (await invitations.resend(req.ctx, req.params.id)).invitation);

  app.get('/api/v1/invitations/lookup', {
    schema: { tags: ['invitations'], summary: 'What an invitation link offers (for its holder)', querystring: z.object({ token: z.string().max(200) }), response: { 200: preview, ...tokenErrors } },
    config: { ...arriving, rateLimit: { max: 30, timeWindow: 60_000 } },
  }, async (req) => acceptance.lookup(req.query.token));

  app.post('/api/v1/invitations/accept', {
    schema: {
      tags: ['invitations'],
      summary: 'Accept an invitation and sign in: a new person chooses a password; an existing account is signed in or gives its password',
      body: z.object({
        token: z.string().max(200), password: z.string().max(1024).optional(), totp: z.string().max(32).optional(),
        username: z.string().max(64).optional(), displayName: z.string().max(200).optional(), language: z.enum(languages).optional(),
      }),
      response: { 200: sessionView, ...tokenErrors },
    },
    config: { ...arriving, rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req, reply) => {
    const s = req.session;
    const result = await acceptance.accept(req.ctx, req.body, s && { id: s.id, userId: s.userId, mfaAt: s.mfaAt });
    return replies.signedIn(reply, result);
  });
}
