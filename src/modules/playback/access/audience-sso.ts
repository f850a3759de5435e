// Viewers who are not people of the organization sign in through one of its
// OpenID Connect providers to watch videos opened to "sso" audiences. They
// get no Haven account and no session: an audience_accounts row (provider,
// subject, email) and a signed audience cookie that decide() reads. The
// attempt (state, nonce, PKCE verifier, video) travels in an encrypted,
// HttpOnly cookie bound to the callback path, so nothing is stored until the
// IdP has vouched for the viewer. Identity's relying party does the protocol.
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import { errorEnvelope, errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { type Claims, emailVerified } from '../../identity/sso/presets.ts';
import { secretPurpose } from '../../identity/sso/providers.ts';
import { createRelyingParty, type IdpClient, newAttemptChecks } from '../../identity/sso/relying-party.ts';
import { safeRedirect } from '../../identity/sso/sign-in.ts';
import { providerById, type SsoProviderRow } from '../../identity/sso/store.ts';
import { AUDIENCE_COOKIE, AUDIENCE_TTL_MS, type CookieSigner, deriveKey } from './cookies.ts';
import { notFoundVideo, storedPolicy } from './decide.ts';
import * as store from './store.ts';

export const AUDIENCE_CALLBACK_PATH = 'api/v1/audience/sso/callback';
const ATTEMPT_COOKIE = 'haven_audience_sso';
const ATTEMPT_TTL_MS = 10 * 60_000;

interface Attempt { state: string; nonce: string; verifier: string; videoId: string; tenantId: string; providerId: string; redirect: string; exp: number }

const stateInvalid = () => new AppError('sso_state_invalid', 400, 'This sign-in attempt is unknown, expired or already used; start the sign-in again.');

export function createAudienceSso(deps: { platform: Platform; audit: AuditService; cookies: CookieSigner }) {
  const { platform: { db, keyring, clock, log, config }, audit, cookies } = deps;
  const rp = createRelyingParty({ env: config.env });
  const sealKey = deriveKey(deps.platform.signingKey, 'audience sso attempt');

  function seal(a: Attempt): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(a), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  function open(value: string | undefined): Attempt | undefined {
    if (!value || value.length > 4000) return undefined;
    try {
      const raw = Buffer.from(value, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Attempt;
    } catch {
      return undefined;
    }
  }

  async function idpClient(tenantId: string, providerId: string): Promise<{ provider: SsoProviderRow; client: IdpClient }> {
    return db.withTenant(tenantId, async (tx) => {
      const provider = await providerById(tx, tenantId, providerId);
      if (!provider?.enabled) throw new AppError('sso_provider_not_found', 404, 'No enabled single sign-on provider with that id exists for this video.');
      const secret = await keyring.openForTenant(tx, tenantId, provider.client_secret_sealed, secretPurpose(provider.id));
      return { provider, client: { id: provider.id, issuer: provider.issuer, clientId: provider.client_id, clientSecret: secret.toString('utf8'), version: provider.updated_at.getTime() } };
    });
  }

  const self = {
    /** The IdP's authorization URL and the sealed attempt for the browser's cookie. */
    async start(videoId: string, providerId: string, redirectUri: string, redirect: string | undefined): Promise<{ url: URL; attempt: string }> {
      const after = safeRedirect(redirect ?? `/watch/${videoId}`);
      const video = await db.withPlatform((tx) => store.videoWithPolicy(tx, videoId));
      const gate = video && storedPolicy(video.policy).audiences.find((a) => a.type === 'sso');
      // Only videos open to SSO audiences have this sign-in; to others it does not exist.
      if (!video || !gate || gate.type !== 'sso') throw notFoundVideo();
      if (gate.providerIds && !gate.providerIds.includes(providerId)) throw new AppError('sso_provider_not_found', 404, 'No enabled single sign-on provider with that id exists for this video.');
      const { client } = await idpClient(video.tenant_id, providerId);
      const checks = await newAttemptChecks();
      const a: Attempt = {
        state: checks.state, nonce: checks.nonce, verifier: checks.codeVerifier,
        videoId, tenantId: video.tenant_id, providerId, redirect: after, exp: clock.now().getTime() + ATTEMPT_TTL_MS,
      };
      const url = await rp.authorizationUrl(client, redirectUri, { state: a.state, nonce: a.nonce, codeVerifier: a.verifier }, {});
      return { url, attempt: seal(a) };
    },

    /** Completes the sign-in: the audience account and the audience cookie, and where to send the browser. */
    async callback(callbackUrl: URL, attemptCookie: string | undefined, ctx: RequestContext): Promise<{ cookie: string; expires: Date; redirect: string }> {
      const a = open(attemptCookie);
      const state = callbackUrl.searchParams.get('state');
      if (!a || !state || a.state !== state || a.exp <= clock.now().getTime()) throw stateInvalid();
      const tenantCtx = { ...ctx, tenantId: a.tenantId };
      try {
        const { provider, client } = await idpClient(a.tenantId, a.providerId);
        const claims: Claims = await rp.complete(client, callbackUrl, { state: a.state, nonce: a.nonce, codeVerifier: a.verifier }, ['email']);
        const subject = typeof claims.sub === 'string' ? claims.sub : '';
        if (!subject || subject.length > 255) throw new AppError('sso_token_invalid', 401, 'The identity provider\'s answer names no one; sign-in refused.');
        // Only an address the IdP vouches for may open a domain-restricted video.
        const email = typeof claims.email === 'string' && claims.email.length <= 320 && emailVerified(provider.preset, claims) ? claims.email.toLowerCase() : null;
        const now = clock.now();
        const account = await db.withTenant(a.tenantId, async (tx) => {
          const saved = await store.upsertAudienceAccount(tx, { id: randomUUID(), tenant_id: a.tenantId, provider_id: provider.id, subject, email }, now);
          await audit.record(tx, tenantCtx, {
            action: 'playback.audience.signin', target: { type: 'video', id: a.videoId },
            details: { provider: provider.id, audience_account: saved.id, new_account: saved.created, email_verified: email !== null },
          });
          return saved;
        });
        const expires = new Date(now.getTime() + AUDIENCE_TTL_MS);
        return { cookie: cookies.audience({ accountId: account.id, tenantId: a.tenantId, sessionId: randomUUID(), expiresAt: expires }), expires, redirect: a.redirect };
      } catch (err) {
        const code = err instanceof AppError ? err.code : 'internal_error';
        if (!(err instanceof AppError)) log.error({ err, tenantId: a.tenantId }, 'audience sign-in failed unexpectedly');
        await audit.recordNow(tenantCtx, {
          action: 'playback.audience.signin_failed', outcome: 'failed', tenantId: a.tenantId, target: { type: 'video', id: a.videoId },
          details: { provider: a.providerId, code, ...(err instanceof AppError && 'reason' in err ? { reason: String((err as { reason: unknown }).reason) } : {}) },
        }).catch((e) => log.error({ err: e }, 'could not audit a failed audience sign-in'));
        throw err;
      }
    },
  };

  return {
    ...self,
    registerRoutes(app: HttpServer): void {
      const callbackUri = () => {
        const base = config.publicUrl ?? app.listeningOrigin;
        return new URL(AUDIENCE_CALLBACK_PATH, base.endsWith('/') ? base : `${base}/`);
      };
      const attemptCookie = () => ({ path: callbackUri().pathname, httpOnly: true, secure: true, sameSite: 'lax' as const });
      const openToAll = { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 120, timeWindow: 60_000 } } as const;

      app.get('/api/v1/videos/:id/audience/sso/:providerId', {
        schema: {
          tags: ['playback'],
          summary: 'Sign in to watch a video through one of its organization\'s identity providers: redirects (302) to the provider',
          params: idParam.extend({ providerId: z.uuid('must be a valid id') }),
          querystring: z.object({ redirect: z.string().max(1000).optional().describe('A path on this site to return to (default: the watch page)') }),
          response: { ...errorResponses, 502: errorEnvelope },
        },
        config: openToAll,
      }, async (req, reply) => {
        const { url, attempt } = await self.start(req.params.id, req.params.providerId, callbackUri().href, req.query.redirect);
        reply.setCookie(ATTEMPT_COOKIE, attempt, { ...attemptCookie(), maxAge: ATTEMPT_TTL_MS / 1000 });
        return reply.redirect(url.href, 302);
      });

      app.get(`/${AUDIENCE_CALLBACK_PATH}`, {
        schema: {
          tags: ['playback'],
          summary: 'Where the identity provider sends a viewer back (register this URL at the provider): sets the audience cookie and redirects (302) to the video',
          querystring: z.object({ code: z.string().max(4096).optional(), state: z.string().max(512).optional(), iss: z.string().max(500).optional(), error: z.string().max(200).optional() }).loose(),
          response: { ...errorResponses, 502: errorEnvelope },
        },
        config: openToAll,
      }, async (req, reply) => {
        const current = callbackUri();
        const q = req.url.indexOf('?');
        current.search = q >= 0 ? req.url.slice(q) : '';
        const cookie = req.cookies[ATTEMPT_COOKIE];
        reply.clearCookie(ATTEMPT_COOKIE, attemptCookie());
        const result = await self.callback(current, cookie, req.ctx);
        reply.setCookie(AUDIENCE_COOKIE, result.cookie, { path: '/', httpOnly: true, secure: true, sameSite: 'lax', expires: result.expires });
        return reply.redirect(result.redirect, 302);
      });
    },
  };
}
