// Single sign-on over HTTP: tenant admins manage providers; anyone may list a
// tenant's sign-in buttons, start a sign-in and come back from the IdP.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorEnvelope, errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { SESSION_COOKIE } from '../sessions.ts';
import type { SsoService } from '../sso/index.ts';
import { presets } from '../sso/presets.ts';
import { newProviderSchema, providerChangeSchema, roleMappingSchema, type SsoProviderView } from '../sso/providers.ts';
import { ATTEMPT_TTL_MS } from '../sso/sign-in.ts';
import { ssoRoles } from '../sso/store.ts';
import type { SessionReplies } from './auth.ts';

export const SSO_STATE_COOKIE = 'haven_sso_state';
const CALLBACK_PATH = 'api/v1/auth/sso/callback';

const providerView = z.object({
  id: z.uuid(), name: z.string(), preset: z.enum(presets), issuer: z.string(), directoryId: z.string().nullable(), clientId: z.string(),
  allowedDomains: z.array(z.string()), defaultRole: z.enum(ssoRoles), roleMapping: roleMappingSchema.nullable(), enabled: z.boolean(),
  createdAt: z.date(), updatedAt: z.date(),
  redirectUri: z.string().describe('The redirect URI to register at the identity provider'),
});

// A sign-in may begin while another session (with pending consents, say) is open.
const openToAll = { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 120, timeWindow: 60_000 } } as const;

/**
 * publicUrl is Haven's external URL (config.publicUrl); without it the
 * listening address is used, which is right for a local installation only.
 */
export function registerSsoRoutes(app: HttpServer, sso: SsoService, replies: SessionReplies, publicUrl?: string): void {
  const { cookieOptions } = replies;
  const callbackUri = () => {
    const base = publicUrl ?? app.listeningOrigin;
    return new URL(CALLBACK_PATH, base.endsWith('/') ? base : `${base}/`);
  };
  const withRedirectUri = (v: SsoProviderView) => ({ ...v, redirectUri: callbackUri().href });
  // Binds an attempt to the browser that started it; sent only to the callback.
  const stateCookie = () => ({ path: callbackUri().pathname, httpOnly: true, secure: cookieOptions.secure, sameSite: 'lax' as const });

  app.get('/api/v1/sso/providers', {
    schema: { tags: ['sso'], summary: 'This organization\'s single sign-on providers (secrets are never returned)', response: { 200: z.object({ items: z.array(providerView) }), ...errorResponses } },
  }, async (req) => ({ items: (await sso.providers.list(req.ctx)).map(withRedirectUri) }));

  app.post('/api/v1/sso/providers', {
    schema: {
      tags: ['sso'],
      summary: 'Add an OpenID Connect provider (preset entra needs directoryId, generic needs issuer, google neither)',
      body: newProviderSchema,
      response: { 201: providerView, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(withRedirectUri(await sso.providers.create(req.ctx, req.body))));

  app.get('/api/v1/sso/providers/:id', {
    schema: { tags: ['sso'], summary: 'One single sign-on provider', params: idParam, response: { 200: providerView, ...errorResponses } },
  }, async (req) => withRedirectUri(await sso.providers.get(req.ctx, req.params.id)));

  app.patch('/api/v1/sso/providers/:id', {
    schema: { tags: ['sso'], summary: 'Change a single sign-on provider', params: idParam, body: providerChangeSchema, response: { 200: providerView, ...errorResponses } },
  }, async (req) => withRedirectUri(await sso.providers.update(req.ctx, req.params.id, req.body)));

  app.delete('/api/v1/sso/providers/:id', {
    schema: { tags: ['sso'], summary: 'Remove a single sign-on provider and its account links (people stay)', params: idParam, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await sso.providers.remove(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/auth/sso/:tenantSlug/providers', {
    schema: {
      tags: ['auth'],
      summary: 'The sign-in buttons of an organization',
      params: z.object({ tenantSlug: z.string().max(63) }),
      response: { 200: z.object({ items: z.array(z.object({ id: z.uuid(), name: z.string(), preset: z.enum(presets), startUrl: z.string() })) }), ...errorResponses },
    },
    config: openToAll,
  }, async (req) => {
    const items = await sso.publicProviders(req.params.tenantSlug);
    return { items: items.map((p) => ({ ...p, startUrl: `/api/v1/auth/sso/${encodeURIComponent(req.params.tenantSlug)}/${p.id}/start` })) };
  });

  app.get('/api/v1/auth/sso/:tenantSlug/:providerId/start', {
    schema: {
      tags: ['auth'],
      summary: 'Start signing in with a provider: redirects (302) to the identity provider',
      params: z.object({ tenantSlug: z.string().max(63), providerId: z.uuid('must be a valid id') }),
      querystring: z.object({ redirect: z.string().max(1000).optional().describe('A path on this site to return to, e.g. /library') }),
      response: { ...errorResponses, 502: errorEnvelope },
    },
    config: openToAll,
  }, async (req, reply) => {
    const { authorizationUrl, state } = await sso.start(
      { tenantSlug: req.params.tenantSlug, providerId: req.params.providerId, redirectAfter: req.query.redirect, redirectUri: callbackUri().href },
      req.ctx,
    );
    reply.setCookie(SSO_STATE_COOKIE, state, { ...stateCookie(), maxAge: ATTEMPT_TTL_MS / 1000 });
    return reply.redirect(authorizationUrl.href, 302);
  });

  app.get(`/${CALLBACK_PATH}`, {
    schema: {
      tags: ['auth'],
      summary: 'Where the identity provider sends the browser back: sets the session cookie and redirects (302) to the page asked for at start',
      querystring: z.object({
        code: z.string().max(4096).optional(), state: z.string().max(512).optional(), iss: z.string().max(500).optional(),
        error: z.string().max(200).optional(), error_description: z.string().max(2000).optional(),
      }).loose(),
      response: { ...errorResponses, 502: errorEnvelope },
    },
    config: openToAll,
  }, async (req, reply) => {
    const current = callbackUri();
    const q = req.url.indexOf('?');
    current.search = q >= 0 ? req.url.slice(q) : '';
    const browserState = req.cookies[SSO_STATE_COOKIE];
    // One attempt per cookie, whatever the outcome.
    reply.clearCookie(SSO_STATE_COOKIE, stateCookie());
    const result = await sso.callback(current, browserState, req.ctx);
    reply.setCookie(SESSION_COOKIE, result.token, { ...cookieOptions, expires: result.expiresAt });
    return reply.redirect(result.redirectAfter, 302);
  });
}
