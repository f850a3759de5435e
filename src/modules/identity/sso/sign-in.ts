// Signing in through a tenant's identity provider: start (remember the
// attempt, send the browser to the IdP) and callback (the attempt is used
// once, the code is exchanged, the ID token validated, the person provisioned
// and a session created exactly as a password sign-in creates one). Every
// refusal is audited with its reason, in the tenant's chain when known.
import type { Tx } from '../../../platform/db/database.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { RequestContext } from '../actor.ts';
import type { AuditPort } from '../audit-port.ts';
import { hashSecret, safeEqual } from '../secrets.ts';
import type { SessionService } from '../sessions.ts';
import { effectiveSettings } from '../settings.ts';
import type { TenantService } from '../tenants.ts';
import { authorizationHints, type Preset } from './presets.ts';
import { secretPurpose } from './providers.ts';
import { provision } from './provisioning.ts';
import { providerNotFound, SsoRefusal, stateInvalid } from './refusals.ts';
import { type AttemptChecks, type IdpClient, newAttemptChecks, type RelyingParty } from './relying-party.ts';
import { insertLoginState, listProviders, lockLoginState, type LoginStateRow, markLoginStateUsed, providerById, type SsoProviderRow, sweepLoginStates } from './store.ts';

/** How long a started sign-in may take at the IdP. */
export const ATTEMPT_TTL_MS = 10 * 60_000;
const VERIFIER_PURPOSE = 'sso.code_verifier';

export interface SsoSignInDeps {
  platform: Platform;
  audit: AuditPort;
  sessions: SessionService;
  tenants: TenantService;
  rp: RelyingParty;
}

export interface SsoSession { token: string; expiresAt: Date; redirectAfter: string }

export const invalidRedirect = () => new AppError('invalid_redirect', 400, 'The redirect must be a path on this site, such as /library.');

/**
 * Where to go after signing in: a path on this site only (no scheme, host,
 * protocol-relative //, backslashes or control characters that browsers
 * would turn into another origin).
 */
export function safeRedirect(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '/';
  if (raw.length > 1000 || !raw.startsWith('/') || raw.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(raw)) throw invalidRedirect();
  const base = 'http://haven.invalid';
  const url = new URL(raw, base);
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments can collapse into // ("/.//evil.example").
  if (url.origin !== base || !path.startsWith('/') || path.startsWith('//')) throw invalidRedirect();
  return path;
}

/** Claims Haven reads; when the ID token lacks one, UserInfo is asked. */
const wantedClaims = (p: SsoProviderRow) => (p.role_mapping ? ['email', p.role_mapping.claim] : ['email']);

export function createSsoSignIn(deps: SsoSignInDeps) {
  const { platform, audit, sessions, tenants, rp } = deps;
  const { db, keyring, clock, log } = platform;

  async function activeTenant(slug: string) {
    const tenant = await tenants.bySlug(slug);
    if (!tenant || tenant.status !== 'active') throw notFound('tenant');
    return tenant;
  }

  async function idpClient(tx: Tx, p: SsoProviderRow): Promise<IdpClient> {
    const secret = await keyring.openForTenant(tx, p.tenant_id, p.client_secret_sealed, secretPurpose(p.id));
    return { id: p.id, issuer: p.issuer, clientId: p.client_id, clientSecret: secret.toString('utf8'), version: p.updated_at.getTime() };
  }

  async function auditFailure(ctx: RequestContext, attempt: { tenantId?: string; providerId?: string }, err: unknown): Promise<void> {
    const reason = err instanceof SsoRefusal ? err.reason : err instanceof AppError ? err.code : 'internal_error';
    if (!(err instanceof SsoRefusal)) log.error({ err, tenantId: attempt.tenantId }, 'single sign-on failed unexpectedly');
    else log.info({ reason, tenantId: attempt.tenantId, providerId: attempt.providerId }, 'single sign-on refused');
    const record = (tx: Tx) =>
      audit.record(tx, { ...ctx, tenantId: attempt.tenantId }, {
        action: 'auth.sso.failed',
        outcome: err instanceof AppError && err.status === 403 ? 'denied' : 'failed',
        target: attempt.providerId ? { type: 'sso_provider', id: attempt.providerId } : undefined,
        details: { reason, code: err instanceof AppError ? err.code : 'internal_error' },
      });
    await (attempt.tenantId ? db.withTenant(attempt.tenantId, record) : db.withPlatform(record)).catch((e) => log.error({ err: e }, 'could not audit a failed single sign-on'));
  }

  /**
   * Takes the attempt named by the state, once. The browser must present the
   * state it was given at start (its cookie), so a callback link planted by
   * someone else cannot sign the victim in to the planter's account.
   */
  async function takeAttempt(state: string, browserState: string | undefined): Promise<{ row?: LoginStateRow; refusal?: SsoRefusal }> {
    const stateHash = hashSecret(state);
    return db.withPlatform(async (tx) => {
      const row = await lockLoginState(tx, stateHash);
      if (!row) return { refusal: stateInvalid('state_unknown') };
      if (!browserState || !safeEqual(browserState, state)) return { row, refusal: stateInvalid('state_not_bound') };
      if (row.used_at) return { row, refusal: stateInvalid('state_replayed') };
      const now = clock.now();
      await markLoginStateUsed(tx, stateHash, now);
      if (row.expires_at <= now) return { row, refusal: stateInvalid('state_expired') };
      return { row };
    });
  }

  async function signIn(attempt: LoginStateRow, state: string, callbackUrl: URL, ctx: RequestContext): Promise<SsoSession> {
    const tenantId = attempt.tenant_id;
    const { provider, client, codeVerifier } = await db.withTenant(tenantId, async (tx) => {
      const provider = await providerById(tx, tenantId, attempt.provider_id);
      if (!provider?.enabled) throw providerNotFound('provider_disabled');
      const codeVerifier = (await keyring.openForTenant(tx, tenantId, attempt.code_verifier_sealed, VERIFIER_PURPOSE)).toString('utf8');
      return { provider, client: await idpClient(tx, provider), codeVerifier };
    });
    const checks: AttemptChecks = { state, nonce: attempt.nonce, codeVerifier };
    const claims = await rp.complete(client, callbackUrl, checks, wantedClaims(provider));

    const membershipsOf = (userId: string) =>
      db.withPlatform((tx) => tx.selectFrom('memberships').select(['tenant_id', 'role']).where('user_id', '=', userId).execute());
    return db.withTenant(tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['status', 'settings', 'security_level']).where('id', '=', tenantId).executeTakeFirst();
      if (tenant?.status !== 'active') throw providerNotFound('tenant_inactive');
      const settings = effectiveSettings(tenant.settings, tenant.security_level);
      const subject = await provision(tx, { audit, ctx: { ...ctx, tenantId }, membershipsOf }, provider, settings, claims);
      // The IdP's own second factor counts as one (amr per RFC 8176).
      const mfa = Array.isArray(claims.amr) && claims.amr.includes('mfa');
      const session = await sessions.create(tx, {
        userId: subject.user.id, tenantId, idleMinutes: settings.sessionIdleMinutes, absoluteHours: settings.sessionAbsoluteHours,
        mfa, ip: ctx.ip, userAgent: ctx.userAgent,
      });
      await audit.record(tx, { ...ctx, tenantId, actor: { type: 'user', userId: subject.user.id, tenantId, role: subject.role, platformRoles: [], sessionId: session.id } }, {
        action: 'auth.sso.succeeded',
        target: { type: 'session', id: session.id },
        details: { method: 'sso', provider: provider.id, via: subject.via, new_membership: subject.membershipCreated, second_factor: mfa },
      });
      return { token: session.token, expiresAt: session.expiresAt, redirectAfter: attempt.redirect_after };
    });
  }

  return {
    /** Names and ids for the sign-in page's buttons; nothing else about the configuration. */
    async publicProviders(tenantSlug: string): Promise<{ id: string; name: string; preset: Preset }[]> {
      const tenant = await activeTenant(tenantSlug);
      const rows = await db.withTenant(tenant.id, (tx) => listProviders(tx, tenant.id));
      return rows.filter((r) => r.enabled).map((r) => ({ id: r.id, name: r.name, preset: r.preset }));
    },

    /** Remembers a new attempt and returns the IdP's authorization URL and the state to bind to the browser. */
    async start(input: { tenantSlug: string; providerId: string; redirectAfter?: string; redirectUri: string }, ctx: RequestContext): Promise<{ authorizationUrl: URL; state: string }> {
      const redirectAfter = safeRedirect(input.redirectAfter);
      const tenant = await activeTenant(input.tenantSlug);
      const { provider, client } = await db.withTenant(tenant.id, async (tx) => {
        const provider = await providerById(tx, tenant.id, input.providerId);
        if (!provider?.enabled) throw providerNotFound();
        return { provider, client: await idpClient(tx, provider) };
      });
      const checks: AttemptChecks = await newAttemptChecks();
      let authorizationUrl: URL;
      try {
        authorizationUrl = await rp.authorizationUrl(client, input.redirectUri, checks, authorizationHints(provider.preset, provider.allowed_domains));
      } catch (err) {
        await auditFailure({ ...ctx, tenantId: tenant.id }, { tenantId: tenant.id, providerId: provider.id }, err);
        throw err;
      }
      const now = clock.now();
      await db.withTenant(tenant.id, async (tx) => {
        await sweepLoginStates(tx, tenant.id, new Date(now.getTime() - 6 * ATTEMPT_TTL_MS));
        await insertLoginState(tx, {
          state_hash: hashSecret(checks.state),
          tenant_id: tenant.id,
          provider_id: provider.id,
          nonce: checks.nonce,
          code_verifier_sealed: await keyring.sealForTenant(tx, tenant.id, Buffer.from(checks.codeVerifier), VERIFIER_PURPOSE),
          redirect_after: redirectAfter,
          expires_at: new Date(now.getTime() + ATTEMPT_TTL_MS),
        });
      });
      return { authorizationUrl, state: checks.state };
    },

    /**
     * Completes a sign-in from the IdP's redirect. callbackUrl is the full
     * URL the IdP sent the browser to (Haven's public callback URL and the
     * query); browserState is the state the browser was given at start.
     */
    async callback(callbackUrl: URL, browserState: string | undefined, ctx: RequestContext): Promise<SsoSession> {
      const attempt: { tenantId?: string; providerId?: string } = {};
      try {
        const state = callbackUrl.searchParams.get('state');
        if (!state) throw stateInvalid('state_missing');
        const taken = await takeAttempt(state, browserState);
        attempt.tenantId = taken.row?.tenant_id;
        attempt.providerId = taken.row?.provider_id;
        if (taken.refusal) throw taken.refusal;
        return await signIn(taken.row!, state, callbackUrl, ctx);
      } catch (err) {
        await auditFailure(attempt.tenantId ? { ...ctx, tenantId: attempt.tenantId } : ctx, attempt, err);
        throw err;
      }
    },
  };
}

export type SsoSignIn = ReturnType<typeof createSsoSignIn>;
