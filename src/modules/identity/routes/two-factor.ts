// Setting up and managing the TOTP second factor and recovery codes.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import type { TotpService } from '../totp.ts';

const enrollment = { enrollmentExempt: true } as const;

export function registerTwoFactorRoutes(app: HttpServer, totp: TotpService): void {
  app.post('/api/v1/account/totp', {
    schema: { tags: ['account'], summary: 'Start setting up an authenticator app (needs a recent re-authentication)', response: { 200: z.object({ secret: z.string(), uri: z.string() }), ...errorResponses } },
    config: enrollment,
  }, async (req) => totp.begin(req.ctx));

  app.post('/api/v1/account/totp/confirm', {
    schema: { tags: ['account'], summary: 'Confirm the app with a first code; returns ten recovery codes, shown once', body: z.object({ code: z.string().max(16) }), response: { 200: z.object({ recoveryCodes: z.array(z.string()) }), ...errorResponses } },
    config: { ...enrollment, rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req) => totp.confirm(req.ctx, req.body.code));

  app.delete('/api/v1/account/totp', {
    schema: { tags: ['account'], summary: 'Turn off the authenticator app (needs a recent re-authentication)', response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await totp.disable(req.ctx);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/account/recovery-codes', {
    schema: { tags: ['account'], summary: 'Replace my recovery codes (needs a recent re-authentication)', response: { 200: z.object({ recoveryCodes: z.array(z.string()) }), ...errorResponses } },
  }, async (req) => totp.regenerateRecoveryCodes(req.ctx));
}
