// Sign-in, sign-out, the current session, re-authentication and password reset.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AccountService } from '../account.ts';
import { csrfTokenFor } from '../http-context.ts';
import type { LoginInput, LoginResult } from '../login.ts';
import { type ActiveSession, SESSION_COOKIE, type SessionService } from '../sessions.ts';
import type { RequestContext } from '../actor.ts';
import type { AuditPort } from '../audit-port.ts';
import { membershipsOf, userById } from '../store.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';

export interface AuthRouteDeps {
  platform: Platform;
  login(input: LoginInput, ctx: RequestContext): Promise<LoginResult>;
  account: AccountService;
  sessions: SessionService;
  audit: AuditPort;
  secureCookies: boolean;
}

export const sessionView = z.object({
  user: z.object({ id: z.uuid(), username: z.string(), email: z.string(), displayName: z.string(), language: z.string(), twoFactor: z.boolean() }),
  tenant: z.object({ id: z.uuid(), slug: z.string(), name: z.string(), role: z.string() }).nullable(),
  tenants: z.array(z.object({ id: z.uuid(), slug: z.string(), name: z.string(), role: z.string() })),
  platformRoles: z.array(z.string()),
  csrfToken: z.string(),
  consentRequired: z.boolean(),
  secondFactorEnrollmentRequired: z.boolean(),
  expiresAt: z.string(),
});

/** How every sign-in (password, passkey) answers: the session cookie and the session as the gate sees it. */
export function createSessionReplies(platform: Platform, sessions: SessionService, secureCookies: boolean) {
  const cookieOptions = { path: '/', httpOnly: true, secure: secureCookies, sameSite: 'lax' as const };

  async function describeSession(s: ActiveSession) {
    return platform.db.withPlatform(async (tx) => {
      const user = (await userById(tx, s.userId))!;
      const memberships = await membershipsOf(tx, s.userId);
      const tenants = memberships.map((m) => ({ id: m.tenant_id, slug: m.slug, name: m.name, role: m.role }));
      return {
        user: { id: user.id, username: user.username, email: user.email, displayName: user.display_name, language: user.preferred_language, twoFactor: Boolean(user.totp_enabled_at) },
        tenant: tenants.find((t) => t.id === s.tenantId) ?? null,
        tenants,
        platformRoles: user.platform_roles,
        csrfToken: csrfTokenFor(platform.signingKey, s.id),
        consentRequired: s.pendingConsents > 0,
        secondFactorEnrollmentRequired: s.mustEnrollSecondFactor,
        expiresAt: s.expiresAt.toISOString(),
      };
    });
  }

  return {
    cookieOptions,
    describeSession,
    async signedIn(reply: FastifyReply, result: LoginResult) {
      reply.setCookie(SESSION_COOKIE, result.token, { ...cookieOptions, expires: result.expiresAt });
      // Resolved the way every later request will be, so consent and enrolment needs are reported as the gate sees them.
      const session = await sessions.resolve(result.token);
      if (!session) throw new AppError('session_unavailable', 500, 'The new session could not be read back.');
      return describeSession(session);
    },
  };
}

export type SessionReplies = ReturnType<typeof createSessionReplies>;

export function registerAuthRoutes(app: HttpServer, deps: AuthRouteDeps): void {
  const { platform, account, audit } = deps;
  const { cookieOptions, describeSession, signedIn } = createSessionReplies(platform, deps.sessions, deps.secureCookies);

  app.post('/api/v1/auth/login', {
    schema: {
      tags: ['auth'],
      summary: 'Sign in with email and password (and a second-factor code when enabled)',
      body: z.object({ email: z.string().max(320), password: z.string().max(1024), totp: z.string().max(32).optional(), tenant: z.string().max(100).optional() }),
      response: { 200: sessionView, ...errorResponses },
    },
    // Reachable whatever state an earlier session of this browser is in.
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 60, timeWindow: 60_000 } },
  }, async (req, reply) => {
    return signedIn(reply, await deps.login(req.body, req.ctx));
  });

  app.get('/api/v1/auth/session', {
    schema: { tags: ['auth'], summary: 'The current session, its CSRF token and what it still needs', response: { 200: sessionView, ...errorResponses } },
    config: { consentExempt: true, enrollmentExempt: true },
  }, async (req) => {
    const s = req.session;
    if (!s) throw new AppError('unauthenticated', 401, 'You are not signed in.');
    return describeSession(s);
  });

  app.post('/api/v1/auth/logout', {
    schema: { tags: ['auth'], summary: 'Sign out (ends this session)', response: { 204: z.null(), ...errorResponses } },
    config: { consentExempt: true, enrollmentExempt: true },
  }, async (req, reply) => {
    const s = req.session;
    if (s) {
      await platform.db.withPlatform(async (tx) => {
        await tx.updateTable('sessions').set({ revoked_at: new Date(), revoked_reason: 'logout' }).where('id', '=', s.id).execute();
        await audit.record(tx, req.ctx, { action: 'auth.logout', target: { type: 'session', id: s.id } });
      });
    }
    reply.clearCookie(SESSION_COOKIE, cookieOptions);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/auth/reauthenticate', {
    schema: { tags: ['auth'], summary: 'Confirm the password (and code) before a sensitive change', body: z.object({ password: z.string().max(1024), totp: z.string().max(32).optional() }), response: { 204: z.null(), ...errorResponses } },
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 20, timeWindow: 60_000 } },
  }, async (req, reply) => {
    await account.reauthenticate(req.ctx, req.body.password, req.body.totp);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/auth/password-reset', {
    schema: {
      tags: ['auth'],
      summary: 'Ask for a password reset link (the answer is the same whether or not the address has an account)',
      body: z.object({ email: z.string().max(320) }),
      response: { 202: z.object({ status: z.literal('accepted'), message: z.string() }), ...errorResponses },
    },
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req, reply) => {
    await account.requestPasswordReset(req.ctx, req.body.email);
    return reply.status(202).send({ status: 'accepted', message: 'If an account uses that address, a reset link valid for 10 minutes is on its way.' });
  });

  app.post('/api/v1/auth/password-reset/confirm', {
    schema: {
      tags: ['auth'],
      summary: 'Set a new password with a reset token (and a second-factor code when enabled)',
      body: z.object({ token: z.string().max(200), password: z.string().max(1024), totp: z.string().max(32).optional() }),
      response: { 204: z.null(), ...errorResponses },
    },
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req, reply) => {
    await account.confirmPasswordReset(req.ctx, req.body.token, req.body.password, req.body.totp);
    return reply.status(204).send(null);
  });
}
