// Confirming the signed-in person's email address.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import type { EmailVerification } from '../email-verification.ts';

export function registerEmailVerificationRoutes(app: HttpServer, verification: EmailVerification): void {
  app.post('/api/v1/account/email/verify', {
    schema: {
      tags: ['account'],
      summary: 'Send a confirmation link to my current email address (a few an hour)',
      response: { 202: z.object({ status: z.literal('accepted'), message: z.string() }), ...errorResponses },
    },
    config: { enrollmentExempt: true, rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req, reply) => {
    await verification.request(req.ctx);
    return reply.status(202).send({ status: 'accepted', message: 'A confirmation link valid for 24 hours is on its way.' });
  });

  app.post('/api/v1/account/email/confirm', {
    schema: { tags: ['account'], summary: 'Confirm an email address with the token from the link', body: z.object({ token: z.string().max(200) }), response: { 204: z.null(), ...errorResponses } },
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 20, timeWindow: 60_000 } },
  }, async (req, reply) => {
    await verification.confirm(req.ctx, req.body.token);
    return reply.status(204).send(null);
  });
}
