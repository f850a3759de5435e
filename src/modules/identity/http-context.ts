// Turns every request into a RequestContext: who (session cookie, API token or
// nobody), in which tenant, from where. Enforces CSRF for cookie writes, the
// consent gate and second-factor enrolment, and audits denied attempts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { AppError } from '../../platform/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import { type Actor, type RequestContext, type TenantState, tenantStateOf } from './actor.ts';
import { Forbidden } from './access.ts';
import type { AuditPort } from './audit-port.ts';
import { hashSecret, safeEqual, sessionBoundToken } from './secrets.ts';
import { type ActiveSession, SESSION_COOKIE, type SessionService } from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
    session?: ActiveSession;
  }
  interface FastifyContextConfig {
    /** Reachable while consents are pending (the consent endpoints themselves, logout). */
    consentExempt?: boolean;
    /** Reachable before a required second factor is enrolled. */
    enrollmentExempt?: boolean;
    /** The request carries its own credential (a playback token): session cookies are neither read nor required, so no CSRF either. */
    tokenAuthenticated?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';
export const API_TOKEN_PREFIX = 'hvn_';

export const csrfTokenFor = (signingKey: Buffer, sessionId: string) => sessionBoundToken(signingKey, sessionId, 'csrf');

export function installRequestContext(app: HttpServer, platform: Platform, sessions: SessionService, audit: AuditPort): void {
  const { db, signingKey, clock } = platform;
  app.decorateRequest('ctx', null as unknown as RequestContext);
  app.decorateRequest('session', undefined);

  async function tokenActor(token: string): Promise<{ actor: Actor; tenantId: string; tenantState: TenantState } | undefined> {
    if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 100) return undefined;
    const row = await db.withPlatform((tx) =>
      tx
        .selectFrom('api_tokens as k')
        .innerJoin('users as u', 'u.id', 'k.user_id')
        .innerJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 'k.user_id').onRef('m.tenant_id', '=', 'k.tenant_id'))
        .innerJoin('tenants as t', 't.id', 'k.tenant_id')
        .select(['k.id', 'k.tenant_id', 'k.user_id', 'k.scopes', 'k.expires_at', 'k.last_used_at', 'm.role', 'u.status', 't.status as tenant_status'])
        .select((eb) => eb.or([eb('t.deleted_at', 'is not', null), eb('t.purged_at', 'is not', null)]).as('tenant_deleted'))
        .where('k.token_hash', '=', hashSecret(token))
        .where('k.revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    if (!row || row.status !== 'active' || row.expires_at <= clock.now()) return undefined;
    if (!row.last_used_at || clock.now().getTime() - row.last_used_at.getTime() > 60_000) {
      await db.withTenant(row.tenant_id, (tx) => tx.updateTable('api_tokens').set({ last_used_at: sql`now()` }).where('id', '=', row.id).execute());
    }
    return {
      actor: { type: 'api_token', tokenId: row.id, userId: row.user_id, tenantId: row.tenant_id, role: row.role, scopes: row.scopes },
      tenantId: row.tenant_id,
      tenantState: tenantStateOf(row.tenant_status, Boolean(row.tenant_deleted)),
    };
  }

  /** Who sent a request that carries a credential (an API token or a session cookie). */
  async function identify(req: FastifyRequest, base: Omit<RequestContext, 'actor'>): Promise<void> {
    const auth = req.headers.authorization;
    if (auth) {
      const [scheme, value] = auth.split(' ', 2);
      if (scheme?.toLowerCase() !== 'bearer' || !value) throw new AppError('invalid_authorization', 401, 'Use "Authorization: Bearer <api token>".');
      const found = await tokenActor(value.trim());
      if (!found) throw new AppError('invalid_token', 401, 'The API token is invalid, expired or revoked.');
      req.ctx = { ...base, actor: found.actor, tenantId: found.tenantId, tenantState: found.tenantState };
      return;
    }
    const session = await sessions.resolve(req.cookies[SESSION_COOKIE]!);
    if (!session) return; // an expired or forged cookie is the same as none
    req.session = session;
    req.ctx = {
      ...base,
      tenantId: session.tenantId ?? undefined,
      tenantState: session.tenantState ?? undefined,
      actor: { type: 'user', userId: session.userId, tenantId: session.tenantId ?? undefined, role: session.role ?? undefined, platformRoles: session.platformRoles, sessionId: session.id },
    };
  }

  /** What a signed-in browser's request must satisfy: same origin and CSRF token for writes, enrolment, consents. */
  function checkSessionRequest(req: FastifyRequest, session: ActiveSession): void {
    const config = req.routeOptions.config;
    if (!SAFE_METHODS.has(req.method)) {
      const origin = req.headers.origin;
      if (origin && origin !== 'null' && new URL(origin).host !== req.headers.host) {
        throw new AppError('cross_origin_refused', 403, 'Cross-origin requests with a session cookie are refused.');
      }
      const token = req.headers[CSRF_HEADER];
      if (typeof token !== 'string' || !safeEqual(token, csrfTokenFor(signingKey, session.id))) {
        throw new AppError('csrf_failed', 403, `Missing or wrong ${CSRF_HEADER} header; get the token from GET /api/v1/auth/session.`);
      }
    }
    if (session.mustEnrollSecondFactor && !config.enrollmentExempt && !config.consentExempt) {
      throw new AppError('second_factor_enrollment_required', 403, 'Your organization requires two-factor authentication; set it up before continuing.');
    }
    if (session.pendingConsents > 0 && !config.consentExempt) {
      throw new AppError('consent_required', 403, 'Review and accept the current terms before continuing (GET /api/v1/consent).');
    }
  }

  // Both hooks are on every request, so they are callback-style: a request without a
  // credential (or without a session) passes them without a promise.
  app.addHook('onRequest', (req, _reply, done) => {
    const base = { requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'] };
    req.ctx = { ...base, actor: { type: 'anonymous' } };
    const credential = req.headers.authorization !== undefined || req.cookies[SESSION_COOKIE] !== undefined;
    if (!credential || req.routeOptions.config?.tokenAuthenticated) return done();
    identify(req, base).then(() => done(), done);
  });

  app.addHook('preHandler', (req, _reply, done) => {
    if (!req.session) return done();
    try {
      checkSessionRequest(req, req.session);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });

  // Denied attempts are evidence too (ASVS 16.3.2): audit every 403 and
  // authenticated 401, in a transaction of their own.
  app.addHook('onError', async (req: FastifyRequest, _reply: FastifyReply, err: Error) => {
    const denied = err instanceof Forbidden || (err instanceof AppError && (err.status === 403 || (err.status === 401 && req.ctx?.actor.type !== 'anonymous')));
    if (!denied || !req.ctx) return;
    const tenantId = req.ctx.tenantId;
    const record = (tx: Parameters<AuditPort['record']>[0]) =>
      audit.record(tx, req.ctx, {
        action: 'access.denied',
        outcome: 'denied',
        details: { code: (err as AppError).code, method: req.method, route: req.routeOptions.url ?? 'unmatched', ...(err instanceof Forbidden ? { permission: err.permission } : {}) },
      });
    await (tenantId ? db.withTenant(tenantId, record) : db.withPlatform(record)).catch((e) => req.log.error({ err: e }, 'could not audit a denied request'));
  });
}
