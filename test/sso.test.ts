// Single sign-on end to end: a real Haven, and a real OpenID Connect provider
// (oidc-provider) on a loopback port that the test drives like a browser
// would. Tampered, expired and wrongly addressed ID tokens are made by
// rewriting the IdP's token response — re-signed with the IdP's own key, or
// with a flipped signature byte — as a compromised or misconfigured IdP (or a
// man in the middle) would; every refusal must also be in the audit trail.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { datamap } from '../src/modules/identity/sso/datamap.ts';
import { domainAllowed, emailVerified } from '../src/modules/identity/sso/presets.ts';
import { mappedRole } from '../src/modules/identity/sso/provisioning.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';
const PLATFORM_TENANT = '00000000-0000-0000-0000-000000000000';

// ---- the test's identity provider -------------------------------------------

interface IdpAccount { email: string; email_verified: boolean; name?: string; groups?: string[] }

/** The slice of oidc-provider (which ships no types) this test uses. */
interface KoaContext { path: string; status: number; body: any; oidc: any }
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
}

interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, IdpAccount>;
  /** The account the next login signs in as; null makes the person cancel at the IdP. */
  nextLogin: string | null;
  /** Rewrites the ID token of the next token responses. */
  rewriteIdToken?: (idToken: string) => string;
  signingKey: KeyObject;
  close(): Promise<void>;
}

async function startIdp(redirectUri: string): Promise<TestIdp> {
  const moduleName = 'oidc-provider';
  const { Provider } = (await import(moduleName)) as { Provider: new (issuer: string, config: object) => OidcProvider };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const idp: TestIdp = {
    issuer,
    clientId: 'haven-test-client',
    clientSecret: randomBytes(24).toString('base64url'),
    accounts: new Map(),
    nextLogin: null,
    signingKey: privateKey,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: idp.clientId, client_secret: idp.clientSecret, redirect_uris: [redirectUri],
      response_types: ['code'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'idp-key-1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
    async findAccount(_ctx: unknown, sub: string) {
      const account = idp.accounts.get(sub);
      return account && { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    // A first-party client: consent is implied, so no consent screen.
    async loadExistingGrant(ctx: KoaContext) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && idp.rewriteIdToken) ctx.body = { ...ctx.body, id_token: idp.rewriteIdToken(ctx.body.id_token) };
  });
  const serve = provider.callback();
  // The login "page": signs in as nextLogin at once, or reports a cancelled sign-in.
  handle = (req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith('/interaction/')) return serve(req, res);
    const result = idp.nextLogin ? { login: { accountId: idp.nextLogin } } : { error: 'access_denied', error_description: 'The person cancelled.' };
    provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false }).catch((err: Error) => res.writeHead(500).end(err.message));
  };
  return idp;
}

const jwtPart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Changes claims and signs again with the IdP's own key: a validly signed token that says something else. */
function resign(idToken: string, key: KeyObject, change: (claims: Record<string, any>) => void): string {
  const [header, payload] = idToken.split('.') as [string, string];
  assert.equal(jwtPart(header).alg, 'RS256');
  const claims = jwtPart(payload);
  change(claims);
  const signed = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), key).toString('base64url')}`;
}

function flipSignatureByte(idToken: string): string {
  const [header, payload, signature] = idToken.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

// ---- the tests ---------------------------------------------------------------

describe('single sign-on with OpenID Connect', () => {
  let haven: TestHaven;
  let idp: TestIdp;
  let owner: ApiClient;
  let tenantId: string;
  let providerId: string;
  const callbackUri = () => `${haven.url}/api/v1/auth/sso/callback`;

  before(async () => {
    haven = await startTestHaven();
    const { tenant } = await haven.modules.setup({ tenantName: 'Acme', adminEmail: 'owner@acme.test', adminPassword: PASSWORD });
    tenantId = tenant.id;
    owner = new ApiClient(haven.url);
    await owner.signIn('owner@acme.test', PASSWORD);
    idp = await startIdp(callbackUri());
    const created = await owner.post('/api/v1/sso/providers', {
      name: 'Acme IdP', preset: 'generic', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret,
      allowedDomains: ['example.test', 'acme.test'],
      roleMapping: { claim: 'groups', values: { 'video-team': 'editor', 'it-admins': 'admin' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    providerId = created.body.id;
  });
  after(async () => {
    await idp?.close();
    await haven?.stop();
  });

  interface Flow { res: Response; callbackUrl: string; stateCookie: string }

  /** Start → IdP (login interaction) → back at Haven's callback, as a browser with its own cookie jar. */
  async function ssoSignIn(login: string | null, opts: { redirect?: string; stopBeforeCallback?: boolean } = {}): Promise<Flow> {
    idp.nextLogin = login;
    const start = await fetch(`${haven.url}/api/v1/auth/sso/acme/${providerId}/start?redirect=${encodeURIComponent(opts.redirect ?? '/library')}`, { redirect: 'manual' });
    assert.equal(start.status, 302, await start.text());
    const stateCookie = start.headers.getSetCookie().find((c) => c.startsWith('haven_sso_state='))!;
    assert.match(stateCookie, /HttpOnly/i);
    assert.match(stateCookie, /Path=\/api\/v1\/auth\/sso\/callback/);
    let location = start.headers.get('location')!;
    const authorize = new URL(location);
    assert.equal(authorize.origin, idp.issuer);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorize.searchParams.get('nonce') && authorize.searchParams.get('state'));
    assert.equal(authorize.searchParams.get('redirect_uri'), callbackUri());

    const jar = new Map<string, string>();
    for (let hop = 0; location.startsWith(idp.issuer); hop++) {
      assert.ok(hop < 10, 'too many redirects at the IdP');
      const res = await fetch(location, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const pair = c.split(';')[0]!;
        const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
        if (value) jar.set(name, value);
        else jar.delete(name);
      }
      assert.ok(res.status === 302 || res.status === 303, `IdP answered ${res.status}: ${await res.text()}`);
      location = new URL(res.headers.get('location')!, location).href;
    }
    assert.ok(location.startsWith(`${callbackUri()}?`), location);
    const cookie = stateCookie.split(';')[0]!;
    if (opts.stopBeforeCallback) return { res: new Response(null), callbackUrl: location, stateCookie: cookie };
    return { res: await callback(location, cookie), callbackUrl: location, stateCookie: cookie };
  }

  const callback = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  async function asError(res: Response) {
    return { status: res.status, body: await res.json(), headers: res.headers };
  }

  /** The session a successful callback set, as an API client with its CSRF token. */
  async function sessionFrom(res: Response): Promise<ApiClient> {
    assert.equal(res.status, 302, await res.clone().text());
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('haven_session='));
    assert.ok(cookie, 'the callback sets the session cookie');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    const api = new ApiClient(haven.url);
    api.cookie = cookie.split(';')[0];
    const session = await api.get('/api/v1/auth/session');
    assert.equal(session.status, 200, JSON.stringify(session.body));
    api.csrf = session.body.csrfToken;
    return api;
  }

  async function acceptConsents(api: ApiClient): Promise<void> {
    for (const d of (await api.get('/api/v1/consent')).body.items) {
      if (d.decision !== 'accepted') assert.equal((await api.post(`/api/v1/consent/${d.id}`, { decision: 'accepted' })).status, 200);
    }
  }

  const query = async (text: string, params: unknown[] = []) => (await haven.platform.db.ownerPool.query(text, params)).rows;

  async function lastAudit(action: string): Promise<{ tenant_id: string; outcome: string; details: any; target_type: string | null }> {
    const rows = await query('select tenant_id, outcome, details, target_type from audit_events where action = $1 order by id desc limit 1', [action]);
    assert.ok(rows[0], `an ${action} audit event`);
    return rows[0];
  }

  async function expectRefusal(res: Response, status: number, code: string, reason: string, chain = tenantId): Promise<void> {
    const parsed = await asError(res);
    expectError(parsed, status, code);
    assert.ok(!parsed.headers.getSetCookie().some((c) => /^haven_session=[^;]/.test(c)), 'no session on a refusal');
    const audited = await lastAudit('auth.sso.failed');
    assert.equal(audited.details.reason, reason);
    assert.equal(audited.details.code, code);
    assert.equal(audited.tenant_id, chain);
    assert.notEqual(audited.outcome, 'success');
  }

  test('tenant admins configure providers; presets fill the issuer; the secret never comes back', async () => {
    const directoryId = randomUUID();
    const entra = await owner.post('/api/v1/sso/providers', { name: 'Contoso Entra', preset: 'entra', directoryId, clientId: 'entra-app', clientSecret: 'entra-secret-value-1' });
    assert.equal(entra.status, 201, JSON.stringify(entra.body));
    assert.equal(entra.body.issuer, `https://login.microsoftonline.com/${directoryId}/v2.0`);
    assert.equal(entra.body.directoryId, directoryId);
    assert.equal(entra.body.defaultRole, 'viewer');
    assert.equal(entra.body.redirectUri, callbackUri());
    expectError(await owner.post('/api/v1/sso/providers', { name: 'No directory', preset: 'entra', clientId: 'x', clientSecret: 'y' }), 400, 'invalid_sso_provider');
    const moved = randomUUID();
    assert.equal((await owner.patch(`/api/v1/sso/providers/${entra.body.id}`, { directoryId: moved })).body.issuer, `https://login.microsoftonline.com/${moved}/v2.0`);
    expectError(await owner.patch(`/api/v1/sso/providers/${entra.body.id}`, { issuer: 'https://login.example.com' }), 400, 'invalid_sso_provider');

    const google = await owner.post('/api/v1/sso/providers', { name: 'Google', preset: 'google', clientId: 'g.apps.googleusercontent.com', clientSecret: 'google-secret-value-2', allowedDomains: ['example.test'] });
    assert.equal(google.status, 201);
    assert.equal(google.body.issuer, 'https://accounts.google.com');
    expectError(await owner.post('/api/v1/sso/providers', { name: 'Google 2', preset: 'google', issuer: 'https://evil.example', clientId: 'x', clientSecret: 'y' }), 400, 'invalid_sso_provider');
    // A remote IdP is trusted over TLS only.
    expectError(await owner.post('/api/v1/sso/providers', { name: 'Plain', preset: 'generic', issuer: 'http://idp.example.com', clientId: 'x', clientSecret: 'y' }), 400, 'invalid_sso_provider');
    expectError(await owner.post('/api/v1/sso/providers', { name: 'Google', preset: 'google', clientId: 'x', clientSecret: 'y' }), 409, 'sso_provider_name_taken');

    const list = await owner.get('/api/v1/sso/providers');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((p: any) => p.name).sort(), ['Acme IdP', 'Contoso Entra', 'Google']);
    const text = JSON.stringify(list.body);
    for (const secret of [idp.clientSecret, 'entra-secret-value-1', 'google-secret-value-2']) assert.ok(!text.includes(secret), 'no secret in the listing');
    for (const row of await query('select client_secret_sealed from sso_providers')) {
      assert.ok(![idp.clientSecret, 'entra-secret-value-1', 'google-secret-value-2'].some((s) => row.client_secret_sealed.includes(s)), 'sealed at rest');
    }
    const created = await lastAudit('sso.provider.create');
    assert.ok(!JSON.stringify(created).includes('google-secret-value-2'));

    // Disabled: gone from the sign-in buttons, cannot be started.
    const disabled = await owner.patch(`/api/v1/sso/providers/${google.body.id}`, { enabled: false, clientSecret: 'google-secret-value-3' });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.enabled, false);
    assert.equal((await lastAudit('sso.provider.update')).details.client_secret_replaced, true);
    const buttons: any = await fetch(`${haven.url}/api/v1/auth/sso/acme/providers`).then((r) => r.json());
    assert.deepEqual(buttons.items.map((p: any) => p.name).sort(), ['Acme IdP', 'Contoso Entra']);
    assert.ok(!JSON.stringify(buttons).includes('client'), 'only names and ids are public');
    expectError(await asError(await fetch(`${haven.url}/api/v1/auth/sso/acme/${google.body.id}/start`, { redirect: 'manual' })), 404, 'sso_provider_not_found');
    expectError(await asError(await fetch(`${haven.url}/api/v1/auth/sso/nobody-here/providers`)), 404, 'tenant_not_found');

    assert.equal((await owner.delete(`/api/v1/sso/providers/${google.body.id}`)).status, 204);
    expectError(await owner.get(`/api/v1/sso/providers/${google.body.id}`), 404, 'sso_provider_not_found');
    assert.equal((await lastAudit('sso.provider.delete')).target_type, 'sso_provider');

    // Anonymous and other tenants: 401 and 404.
    expectError(await new ApiClient(haven.url).get('/api/v1/sso/providers'), 401, 'unauthenticated');
    await haven.modules.setup({ tenantName: 'Beta', adminEmail: 'owner@beta.test', adminPassword: PASSWORD });
    const beta = new ApiClient(haven.url);
    await beta.signIn('owner@beta.test', PASSWORD);
    expectError(await beta.get(`/api/v1/sso/providers/${entra.body.id}`), 404, 'sso_provider_not_found');
    expectError(await beta.patch(`/api/v1/sso/providers/${entra.body.id}`, { enabled: false }), 404, 'sso_provider_not_found');
    assert.deepEqual((await beta.get('/api/v1/sso/providers')).body.items, []);
    // Another organization's provider cannot be started under this one's name.
    expectError(await asError(await fetch(`${haven.url}/api/v1/auth/sso/beta/${entra.body.id}/start`, { redirect: 'manual' })), 404, 'sso_provider_not_found');

    const openapi: any = await fetch(`${haven.url}/api/v1/openapi.json`).then((r) => r.json());
    for (const path of ['/api/v1/sso/providers', '/api/v1/sso/providers/{id}', '/api/v1/auth/sso/{tenantSlug}/providers', '/api/v1/auth/sso/{tenantSlug}/{providerId}/start', '/api/v1/auth/sso/callback']) {
      assert.ok(openapi.paths[path], `${path} is documented`);
    }
  });

  test('a first sign-in provisions the person just in time with the mapped role; the session works', async () => {
    idp.accounts.set('alice-sub', { email: 'Alice@Example.test', email_verified: true, name: 'Alice Example', groups: ['staff', 'video-team'] });
    const { res } = await ssoSignIn('alice-sub', { redirect: '/library?tab=new' });
    assert.equal(res.headers.get('location'), '/library?tab=new');
    assert.ok(res.headers.getSetCookie().some((c) => /^haven_sso_state=;/.test(c)), 'the attempt cookie is cleared');
    const alice = await sessionFrom(res);
    const session = await alice.get('/api/v1/auth/session');
    assert.equal(session.body.user.email, 'Alice@Example.test');
    assert.equal(session.body.user.displayName, 'Alice Example');
    assert.deepEqual(session.body.tenant, { id: tenantId, slug: 'acme', name: 'Acme', role: 'editor' });

    const [user] = await query('select id, password_hash, email_verified_at from users where email_normalized = $1', ['alice@example.test']);
    assert.equal(user.password_hash, null);
    assert.ok(user.email_verified_at, 'the IdP verified the address');
    assert.deepEqual(await query('select user_id, tenant_id from user_identities where provider_id = $1 and subject = $2', [providerId, 'alice-sub']), [{ user_id: user.id, tenant_id: tenantId }]);
    const succeeded = await lastAudit('auth.sso.succeeded');
    assert.equal(succeeded.details.via, 'new_account');
    assert.equal(succeeded.details.provider, providerId);
    assert.equal(succeeded.tenant_id, tenantId);
    assert.equal((await lastAudit('user.add')).details.via, 'sso');

    // Signing in again is the same person, recognized by the link.
    const again = await sessionFrom((await ssoSignIn('alice-sub')).res);
    assert.equal((await again.get('/api/v1/auth/session')).body.user.id, user.id);
    assert.equal((await lastAudit('auth.sso.succeeded')).details.via, 'linked_identity');
    assert.equal((await query('select count(*)::int as n from users where email_normalized = $1', ['alice@example.test']))[0].n, 1);

    // An editor does not manage sign-in providers.
    await acceptConsents(alice);
    expectError(await alice.get('/api/v1/sso/providers'), 403, 'forbidden');
    expectError(await alice.post('/api/v1/sso/providers', { name: 'Mine', preset: 'google', clientId: 'x', clientSecret: 'y' }), 403, 'forbidden');
  });

  test('an existing account with the same verified email is linked, keeping its role', async () => {
    const added = await owner.post('/api/v1/users', { email: 'bob@example.test', role: 'viewer' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    idp.accounts.set('bob-sub', { email: 'bob@example.test', email_verified: true, groups: ['it-admins'] });
    const bob = await sessionFrom((await ssoSignIn('bob-sub')).res);
    const session = (await bob.get('/api/v1/auth/session')).body;
    assert.equal(session.user.id, added.body.id);
    assert.equal(session.tenant.role, 'viewer', 'role mapping is for new members only');
    assert.equal((await lastAudit('auth.sso.identity_linked')).details.via, 'verified_email');
  });

  test('an email the IdP does not vouch for is neither linked nor used for a new account', async () => {
    const added = await owner.post('/api/v1/users', { email: 'carol@example.test', role: 'viewer' });
    assert.equal(added.status, 201);
    idp.accounts.set('carol-sub', { email: 'carol@example.test', email_verified: false });
    await expectRefusal((await ssoSignIn('carol-sub')).res, 403, 'sso_email_not_verified', 'email_not_verified');
    assert.deepEqual(await query('select * from user_identities where subject = $1', ['carol-sub']), []);

    idp.accounts.set('dan-sub', { email: 'dan@example.test', email_verified: false });
    await expectRefusal((await ssoSignIn('dan-sub')).res, 403, 'sso_email_not_verified', 'email_not_verified');
    assert.deepEqual(await query('select id from users where email_normalized = $1', ['dan@example.test']), []);
  });

  test('email domains outside the provider\'s or the organization\'s allow-list are refused', async () => {
    idp.accounts.set('eve-sub', { email: 'eve@elsewhere.test', email_verified: true });
    await expectRefusal((await ssoSignIn('eve-sub')).res, 403, 'sso_domain_not_allowed', 'domain_not_allowed');
    assert.deepEqual(await query('select id from users where email_normalized = $1', ['eve@elsewhere.test']), []);

    // The organization's own allow-list applies too, even to people linked before.
    assert.equal((await owner.patch('/api/v1/tenant', { settings: { allowedEmailDomains: ['acme.test'] } })).status, 200);
    try {
      await expectRefusal((await ssoSignIn('alice-sub')).res, 403, 'sso_domain_not_allowed', 'domain_not_allowed');
    } finally {
      assert.equal((await owner.patch('/api/v1/tenant', { settings: { allowedEmailDomains: [] } })).status, 200);
    }
  });

  test('accounts the organization\'s IdP must not take over are not linked by email', async () => {
    // The tenant's owner: an admin's IdP asserting the owner's address must not become the owner.
    idp.accounts.set('fake-owner', { email: 'owner@acme.test', email_verified: true });
    await expectRefusal((await ssoSignIn('fake-owner')).res, 409, 'sso_account_not_linkable', 'owner_account');
    // Someone who also belongs to another organization.
    await haven.modules.setup({ tenantName: 'Gamma', adminEmail: 'gina@example.test', adminPassword: PASSWORD });
    idp.accounts.set('gina-sub', { email: 'gina@example.test', email_verified: true });
    await expectRefusal((await ssoSignIn('gina-sub')).res, 409, 'sso_account_not_linkable', 'member_elsewhere');
  });

  test('an ID token for another audience is refused', async () => {
    idp.accounts.set('hank-sub', { email: 'hank@example.test', email_verified: true });
    // Control: re-signing with the IdP's key and unchanged claims is accepted, so the refusals below are about the claim.
    idp.rewriteIdToken = (t) => resign(t, idp.signingKey, () => undefined);
    try {
      await sessionFrom((await ssoSignIn('hank-sub')).res);
      idp.rewriteIdToken = (t) => resign(t, idp.signingKey, (c) => { c.aud = 'some-other-client'; });
      await expectRefusal((await ssoSignIn('hank-sub')).res, 401, 'sso_token_invalid', 'audience_mismatch');
    } finally {
      idp.rewriteIdToken = undefined;
    }
  });

  test('an expired ID token is refused', async () => {
    idp.rewriteIdToken = (t) => resign(t, idp.signingKey, (c) => {
      const now = Math.floor(Date.now() / 1000);
      c.iat = now - 7200;
      c.exp = now - 3600;
    });
    try {
      await expectRefusal((await ssoSignIn('hank-sub')).res, 401, 'sso_token_invalid', 'expired');
    } finally {
      idp.rewriteIdToken = undefined;
    }
  });

  test('an ID token with a tampered signature is refused', async () => {
    idp.rewriteIdToken = flipSignatureByte;
    try {
      await expectRefusal((await ssoSignIn('hank-sub')).res, 401, 'sso_token_invalid', 'signature_invalid');
    } finally {
      idp.rewriteIdToken = undefined;
    }
    // And a changed claim under the original signature.
    idp.rewriteIdToken = (t) => {
      const [h, p, s] = t.split('.') as [string, string, string];
      const claims = jwtPart(p);
      claims.email = 'owner@acme.test';
      return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    };
    try {
      await expectRefusal((await ssoSignIn('hank-sub')).res, 401, 'sso_token_invalid', 'signature_invalid');
    } finally {
      idp.rewriteIdToken = undefined;
    }
  });

  test('a state is used once, only by the browser that started it, and only in time', async () => {
    const first = await ssoSignIn('hank-sub');
    await sessionFrom(first.res);
    // Replayed callback (same URL, same cookie): refused before the IdP is asked again.
    await expectRefusal(await callback(first.callbackUrl, first.stateCookie), 400, 'sso_state_invalid', 'state_replayed');

    // A callback link opened in another browser (no attempt cookie) does not sign anyone in…
    const planted = await ssoSignIn('hank-sub', { stopBeforeCallback: true });
    await expectRefusal(await callback(planted.callbackUrl), 400, 'sso_state_invalid', 'state_not_bound');
    await expectRefusal(await callback(planted.callbackUrl, 'haven_sso_state=someone-elses-state'), 400, 'sso_state_invalid', 'state_not_bound');
    // …and does not burn the attempt for the browser that started it.
    await sessionFrom(await callback(planted.callbackUrl, planted.stateCookie));

    const late = await ssoSignIn('hank-sub', { stopBeforeCallback: true });
    await query(`update sso_login_states set expires_at = now() - interval '1 second' where used_at is null`);
    await expectRefusal(await callback(late.callbackUrl, late.stateCookie), 400, 'sso_state_invalid', 'state_expired');

    // Unknown states are audited in the platform's chain (no tenant is known).
    await expectRefusal(await callback(`${callbackUri()}?code=abc&state=made-up`, 'haven_sso_state=made-up'), 400, 'sso_state_invalid', 'state_unknown', PLATFORM_TENANT);
    await expectRefusal(await callback(`${callbackUri()}?code=abc`), 400, 'sso_state_invalid', 'state_missing', PLATFORM_TENANT);
  });

  test('a sign-in cancelled at the IdP is refused and audited', async () => {
    await expectRefusal((await ssoSignIn(null)).res, 401, 'sso_denied', 'idp_access_denied');
  });

  test('only paths on this site are accepted as the page to return to', async () => {
    const before = (await query('select count(*)::int as n from sso_login_states'))[0].n;
    for (const redirect of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/.//evil.example', '/\t/evil.example', 'javascript:alert(1)', 'library']) {
      const res = await fetch(`${haven.url}/api/v1/auth/sso/acme/${providerId}/start?redirect=${encodeURIComponent(redirect)}`, { redirect: 'manual' });
      expectError(await asError(res), 400, 'invalid_redirect');
    }
    assert.equal((await query('select count(*)::int as n from sso_login_states'))[0].n, before, 'no attempt was recorded');
  });

  test('every column of the single sign-on tables is in the data map', async () => {
    const rows = await query(`select table_name, column_name from information_schema.columns where table_schema = 'public' and table_name = any($1)`, [Object.keys(datamap)]);
    assert.ok(rows.length > 0);
    for (const { table_name, column_name } of rows) assert.ok(datamap[table_name]?.[column_name], `${table_name}.${column_name} is not declared in sso/datamap.ts`);
    for (const [table, columns] of Object.entries(datamap)) {
      for (const column of Object.keys(columns)) assert.ok(rows.some((r) => r.table_name === table && r.column_name === column), `${table}.${column} is declared but does not exist`);
    }
  });
});

describe('identity provider presets', () => {
  test('Entra ID vouches for an email only with xms_edov; others with email_verified', () => {
    assert.equal(emailVerified('entra', { email: 'a@contoso.test' }), false);
    assert.equal(emailVerified('entra', { email: 'a@contoso.test', xms_edov: true }), true);
    assert.equal(emailVerified('generic', { email: 'a@x.test', xms_edov: true }), false);
    assert.equal(emailVerified('google', { email: 'a@x.test', email_verified: true }), true);
    assert.equal(emailVerified('google', { email: 'a@x.test', email_verified: 'true' }), false, 'only a JSON true counts');
  });

  test('Google needs the Workspace hosted domain, not just an address at the domain', () => {
    assert.equal(domainAllowed('google', 'a@corp.test', { hd: 'corp.test' }, ['corp.test']), true);
    assert.equal(domainAllowed('google', 'a@corp.test', {}, ['corp.test']), false, 'a consumer account with a verified corp address');
    assert.equal(domainAllowed('google', 'a@corp.test', { hd: 'other.test' }, ['corp.test']), false);
    assert.equal(domainAllowed('generic', 'a@corp.test', {}, ['corp.test']), true);
    assert.equal(domainAllowed('generic', 'a@corp.test.evil', {}, ['corp.test']), false);
    assert.equal(domainAllowed('google', 'a@anything.test', {}, []), true, 'no list allows any domain');
  });

  test('the highest mapped role wins; unmapped people get the default', () => {
    const provider = { default_role: 'viewer' as const, role_mapping: { claim: 'groups', values: { editors: 'editor' as const, admins: 'admin' as const } } };
    assert.equal(mappedRole(provider, { groups: ['admins', 'editors'] }), 'admin');
    assert.equal(mappedRole(provider, { groups: ['editors', 'other'] }), 'editor');
    assert.equal(mappedRole(provider, { groups: 'editors' }), 'editor');
    assert.equal(mappedRole(provider, { groups: ['toString', 'constructor'] }), 'viewer', 'no inherited keys');
    assert.equal(mappedRole(provider, {}), 'viewer');
    assert.equal(mappedRole({ ...provider, role_mapping: null }, { groups: ['admins'] }), 'viewer');
  });
});
