// Access policies against a real Haven: the management routes and their
// audit events, unlisted links, the password unlock and its throttle, the
// decision the delivery part asks for, and the one-round-trip grant check.
// Videos are inserted as rows marked ready (the policy does not look at
// bytes); one is left processing to show video_not_ready.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import type { AccessDecision, GrantBasis, ViewerRequest } from '../src/modules/playback/contracts.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

const PASSWORD = 'open sesame 42';

// ---- a real OpenID provider (oidc-provider) on loopback, as in sso.test.ts ----

interface KoaContext { path: string; status: number; body: any; oidc: any }
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
}
interface TestIdp { issuer: string; clientId: string; clientSecret: string; accounts: Map<string, Record<string, unknown>>; nextLogin: string | null; close(): Promise<void> }

async function startIdp(redirectUri: string): Promise<TestIdp> {
  const moduleName = 'oidc-provider';
  const { Provider } = (await import(moduleName)) as { Provider: new (issuer: string, config: object) => OidcProvider };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: TestIdp = {
    issuer, clientId: 'haven-audience-client', clientSecret: randomBytes(24).toString('base64url'), accounts: new Map(), nextLogin: null,
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
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
    async findAccount(_ctx: unknown, sub: string) {
      const account = idp.accounts.get(sub);
      return account && { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    async loadExistingGrant(ctx: KoaContext) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
  });
  const serve = provider.callback();
  handle = (req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith('/interaction/')) return serve(req, res);
    const result = idp.nextLogin ? { login: { accountId: idp.nextLogin } } : { error: 'access_denied' };
    provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false }).catch((err: Error) => res.writeHead(500).end(err.message));
  };
  return idp;
}

describe('playback access', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  let ownerId: string;

  const anonymous = (ip = '198.51.100.7'): RequestContext => ({ actor: { type: 'anonymous' }, ip });
  const viewer = (over: Partial<ViewerRequest> = {}): ViewerRequest => ({ ctx: anonymous(), cookies: {}, now: new Date(), ...over });
  const decide = (videoId: string, over: Partial<ViewerRequest> = {}) => haven.modules.playback.access.decide(videoId, viewer(over));
  const granted = (d: AccessDecision): GrantBasis => {
    assert.equal(d.allowed, true, JSON.stringify(d));
    return (d as Extract<AccessDecision, { allowed: true }>).basis;
  };
  const denial = (d: AccessDecision, status: number, code: string) => {
    assert.equal(d.allowed, false, `expected ${code}, was allowed`);
    const x = d as Extract<AccessDecision, { allowed: false }>;
    assert.equal(x.code, code, JSON.stringify(x));
    assert.equal(x.status, status);
    return x;
  };
  const published = (title: string, o: Org = org) => insertVideo(haven, o, { title, publishedState: 'published' });
  const auditRows = async (tenantId: string, action: string, videoId: string) =>
    (await haven.platform.db.ownerPool.query(
      'select outcome, actor_type, ip_pseudonym, details from audit_events where tenant_id = $1 and action = $2 and target_id = $3 order by id',
      [tenantId, action, videoId],
    )).rows;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Access Org');
    other = await createOrg(haven, 'Other Org');
    ownerId = (await org.owner.get('/api/v1/auth/session')).body.user.id;
  });
  after(() => haven.stop());

  describe('policy routes', () => {
    test('a video without a policy is for members; editors change it, viewers only read it', async () => {
      const id = await published('Policy');
      const initial = await org.owner.get(`/api/v1/videos/${id}/access`);
      assert.equal(initial.status, 200, JSON.stringify(initial.body));
      assert.deepEqual(initial.body, { audiences: [{ type: 'members' }], conditions: {}, version: 0, hasPassword: false, updatedAt: null });

      const viewerClient = await org.as('viewer');
      assert.equal((await viewerClient.get(`/api/v1/videos/${id}/access`)).status, 200);
      expectError(await viewerClient.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'public' }] }), 403, 'forbidden');

      const editor = await org.as('editor');
      const put = await editor.call('PUT', `/api/v1/videos/${id}/access`, {
        audiences: [{ type: 'public' }], conditions: { ipAllow: ['198.51.100.0/24'], referrers: ['*.example.com'], bindToIp: true },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.version, 1);
      assert.deepEqual(put.body.conditions, { ipAllow: ['198.51.100.0/24'], referrers: ['*.example.com'], bindToIp: true });
      const [event] = await auditRows(org.tenantId, 'video.access.update', id);
      assert.deepEqual(event.details.changed, ['audiences', 'conditions.bindToIp', 'conditions.ipAllow', 'conditions.referrers']);
      assert.equal(event.details.version, 1);
    });

    test('bad policies are refused with a code and a sentence', async () => {
      const id = await published('Bad policy');
      const put = (body: unknown) => org.owner.call('PUT', `/api/v1/videos/${id}/access`, body);
      expectError(await put({ audiences: [] }), 400, 'invalid_request');
      expectError(await put({ audiences: [{ type: 'public' }], conditions: { ipAllow: ['10.0.0.0/40'] } }), 400, 'invalid_request');
      expectError(await put({ audiences: [{ type: 'public' }], conditions: { availableFrom: '2030-02-01T00:00:00Z', availableUntil: '2030-01-01T00:00:00Z' } }), 400, 'invalid_request');
      expectError(await put({ audiences: [{ type: 'password' }] }), 400, 'password_missing');
      expectError(await put({ audiences: [{ type: 'password' }], password: 'short' }), 400, 'invalid_request');
      assert.equal((await org.owner.get(`/api/v1/videos/${id}/access`)).body.version, 0, 'nothing was stored');
    });

    test('the password is write-only, hashed, and never in the audit trail', async () => {
      const id = await published('Password');
      const put = await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'password' }], password: PASSWORD });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.hasPassword, true);
      assert.ok(!JSON.stringify(put.body).includes(PASSWORD));
      const { rows } = await haven.platform.db.ownerPool.query('select password_hash, password_version from video_access_policies where video_id = $1', [id]);
      assert.match(rows[0].password_hash, /^\$argon2id\$/);
      assert.equal(rows[0].password_version, 1);
      const events = await auditRows(org.tenantId, 'video.access.update', id);
      assert.deepEqual(events[0].details.changed, ['audiences', 'password']);
      assert.ok(!JSON.stringify(events).includes(PASSWORD));
      // Keeping the password while changing the rest needs no password in the body.
      const again = await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'password' }, { type: 'link' }] });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.hasPassword, true);
      assert.equal(again.body.version, 2);
    });
  });

  describe('decide', () => {
    test('unknown ids, videos not ready, and denials audited with their reason', async () => {
      denial(await decide('00000000-0000-4000-8000-000000000000'), 404, 'video_not_found');
      denial(await decide('not-a-uuid'), 404, 'video_not_found');

      const processing = await insertVideo(haven, org, { title: 'Processing', status: 'processing', publishedState: 'published' });
      await org.owner.call('PUT', `/api/v1/videos/${processing}/access`, { audiences: [{ type: 'public' }] });
      denial(await decide(processing), 409, 'video_not_ready');

      const membersOnly = await published('Members only');
      const d = denial(await decide(membersOnly), 401, 'signin_required');
      assert.equal(d.needs, 'signin');
      const events = await auditRows(org.tenantId, 'playback.denied', membersOnly);
      assert.equal(events.length, 1);
      assert.equal(events[0].outcome, 'denied');
      assert.equal(events[0].actor_type, 'anonymous');
      assert.equal(events[0].details.code, 'signin_required');
    });

    test('members of the tenant are admitted; someone of another tenant finds no video', async () => {
      const id = await published('For members');
      const member: RequestContext = { actor: { type: 'user', userId: ownerId, tenantId: org.tenantId, role: 'viewer', platformRoles: [], sessionId: 's1' }, tenantId: org.tenantId, ip: '198.51.100.7' };
      const basis = granted(await decide(id, { ctx: member }));
      assert.deepEqual(basis.viewer, { kind: 'member', id: ownerId, sessionId: 's1' });
      assert.equal(basis.tenantId, org.tenantId);
      assert.equal(basis.region, org.region);
      assert.equal(basis.policyVersion, 0);
      assert.equal(basis.bindIp, false);
      const outsider: RequestContext = { actor: { type: 'user', userId: ownerId, tenantId: other.tenantId, role: 'owner', platformRoles: [] }, tenantId: other.tenantId };
      denial(await decide(id, { ctx: outsider }), 404, 'video_not_found');
    });

    test('a draft plays only for staff', async () => {
      const id = await insertVideo(haven, org, { title: 'Draft', publishedState: 'draft' });
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'public' }] });
      denial(await decide(id), 401, 'signin_required');
      const staff: RequestContext = { actor: { type: 'user', userId: ownerId, tenantId: org.tenantId, role: 'editor', platformRoles: [] }, tenantId: org.tenantId };
      granted(await decide(id, { ctx: staff }));
    });

    test('ip ranges, referrers and bindToIp', async () => {
      const id = await published('Conditions');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, {
        audiences: [{ type: 'public' }], conditions: { ipAllow: ['198.51.100.0/24', '2001:db8::/32'], referrers: ['example.com'], bindToIp: true },
      });
      const basis = granted(await decide(id, { referer: 'https://example.com/page' }));
      assert.equal(basis.bindIp, true);
      assert.equal(basis.viewer.kind, 'anonymous');
      denial(await decide(id, { ctx: anonymous('203.0.113.9'), referer: 'https://example.com/page' }), 403, 'ip_not_allowed');
      granted(await decide(id, { ctx: anonymous('2001:db8::7'), referer: 'https://example.com/' }));
      denial(await decide(id), 403, 'referrer_not_allowed');
      denial(await decide(id, { referer: 'https://evil.test/' }), 403, 'referrer_not_allowed');
      assert.deepEqual(await haven.modules.playback.access.frameAncestors(id), ['example.com:*']);
    });

    test('frame ancestors follow the audience when no referrers are set', async () => {
      const open = await published('Embeddable');
      await org.owner.call('PUT', `/api/v1/videos/${open}/access`, { audiences: [{ type: 'link' }] });
      assert.deepEqual(await haven.modules.playback.access.frameAncestors(open), ['*']);
      const internal = await published('Internal');
      assert.deepEqual(await haven.modules.playback.access.frameAncestors(internal), ["'self'"]);
      assert.deepEqual(await haven.modules.playback.access.frameAncestors('00000000-0000-4000-8000-000000000000'), ["'none'"]);
    });
  });

  describe('links and stillValid', () => {
    test('a link admits until revoked; revoking ends the grant', async () => {
      const id = await published('Unlisted');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'link' }] });
      const created = await org.owner.post(`/api/v1/videos/${id}/links`, { label: 'Press' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.url, `/watch/${id}?link=${created.body.secret}`);
      assert.ok(created.body.secret.length >= 32);
      const listed = await org.owner.get(`/api/v1/videos/${id}/links`);
      assert.deepEqual(listed.body.items.map((l: any) => [l.id, l.label, l.state]), [[created.body.id, 'Press', 'active']]);
      assert.ok(!JSON.stringify(listed.body).includes(created.body.secret), 'the secret is shown once');
      const { rows } = await haven.platform.db.ownerPool.query('select encode(secret_hash, \'hex\') as h from video_links where id = $1', [created.body.id]);
      assert.equal(rows[0].h.length, 64);

      const d = denial(await decide(id), 403, 'link_required');
      assert.equal(d.needs, 'link');
      denial(await decide(id, { linkSecret: 'wrong-secret' }), 403, 'link_required');
      const basis = granted(await decide(id, { linkSecret: created.body.secret }));
      assert.equal(basis.linkId, created.body.id);
      assert.equal(basis.policyVersion, 1);
      const access = haven.modules.playback.access;
      assert.equal(await access.stillValid(basis, new Date()), true);

      const viewerClient = await org.as('viewer');
      expectError(await viewerClient.delete(`/api/v1/videos/${id}/links/${created.body.id}`), 403, 'forbidden');
      assert.equal((await org.owner.delete(`/api/v1/videos/${id}/links/${created.body.id}`)).status, 204);
      assert.equal(await access.stillValid(basis, new Date()), false);
      denial(await decide(id, { linkSecret: created.body.secret }), 403, 'link_revoked');
      const events = await auditRows(org.tenantId, 'video.link.revoke', id);
      assert.equal(events[0].details.link_id, created.body.id);
      assert.equal((await auditRows(org.tenantId, 'video.link.create', id)).length, 1);
      expectError(await org.owner.delete(`/api/v1/videos/${id}/links/00000000-0000-4000-8000-000000000000`), 404, 'link_not_found');
    });

    test('an expired link', async () => {
      const id = await published('Short-lived');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'link' }] });
      expectError(await org.owner.post(`/api/v1/videos/${id}/links`, { expiresAt: '2001-01-01T00:00:00Z' }), 400, 'invalid_expiry');
      const expiresAt = new Date(Date.now() + 60_000);
      const created = await org.owner.post(`/api/v1/videos/${id}/links`, { expiresAt: expiresAt.toISOString() });
      const basis = granted(await decide(id, { linkSecret: created.body.secret }));
      const later = new Date(expiresAt.getTime() + 1000);
      assert.equal(await haven.modules.playback.access.stillValid(basis, later), false);
      denial(await decide(id, { linkSecret: created.body.secret, now: later }), 403, 'link_expired');
    });

    test('a policy change ends grants of the old version; staff outlast the window', async () => {
      const id = await published('Changing');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'public' }], conditions: { availableUntil: '2099-01-01T00:00:00Z' } });
      const access = haven.modules.playback.access;
      const basis = granted(await decide(id));
      assert.equal(await access.stillValid(basis, new Date()), true);
      assert.equal(await access.stillValid(basis, new Date('2099-01-02T00:00:00Z')), false, 'outside the window');
      const staff = granted(await decide(id, { ctx: { actor: { type: 'user', userId: ownerId, tenantId: org.tenantId, role: 'owner', platformRoles: [] }, tenantId: org.tenantId } }));
      assert.equal(await access.stillValid(staff, new Date('2099-01-02T00:00:00Z')), true, 'staff may preview outside the window');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'public' }], conditions: { bindToIp: true } });
      assert.equal(await access.stillValid(basis, new Date()), false);
      assert.equal(await access.stillValid({ ...basis, policyVersion: 2 }, new Date()), true);
      assert.equal(await access.stillValid({ ...basis, tenantId: other.tenantId, policyVersion: 2 }, new Date()), false, 'another tenant');
    });
  });

  describe('password unlock', () => {
    test('unlock sets a cookie that admits; a new password invalidates it', async () => {
      const id = await published('Locked');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'password' }], password: PASSWORD });
      denial(await decide(id), 401, 'password_required');

      const anon = new ApiClient(haven.url);
      expectError(await anon.post(`/api/v1/videos/${id}/unlock`, { password: 'not it at all' }), 401, 'password_incorrect');
      const failed = await auditRows(org.tenantId, 'playback.unlock.failed', id);
      assert.equal(failed.length, 1);
      assert.equal(failed[0].outcome, 'failed');

      const ok = await anon.post(`/api/v1/videos/${id}/unlock`, { password: PASSWORD });
      assert.equal(ok.status, 204, JSON.stringify(ok.body));
      const setCookie = ok.headers.getSetCookie().find((c) => c.startsWith(`haven_unlock_${id}=`))!;
      assert.ok(setCookie, 'unlock cookie set');
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Lax/i);
      assert.match(setCookie, /Path=\//);
      const value = setCookie.split(';')[0]!.split('=')[1]!;
      const cookies = { [`haven_unlock_${id}`]: value };
      granted(await decide(id, { cookies }));
      denial(await decide(id, { cookies: { [`haven_unlock_${id}`]: `${value.slice(0, -2)}xx` } }), 401, 'password_required');
      const other = await published('Another locked');
      await org.owner.call('PUT', `/api/v1/videos/${other}/access`, { audiences: [{ type: 'password' }], password: PASSWORD });
      denial(await decide(other, { cookies: { [`haven_unlock_${other}`]: value } }), 401, 'password_required');

      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'password' }], password: 'a brand new one' });
      denial(await decide(id, { cookies }), 401, 'password_required');
    });

    test('unlock exists only for videos with a password, in any tenant', async () => {
      const id = await published('No password', other);
      expectError(await org.owner.post(`/api/v1/videos/${id}/unlock`, { password: PASSWORD }), 404, 'video_not_found');
    });

    test('wrong passwords are throttled per address and video; a spoofed X-Forwarded-For changes nothing', async () => {
      const id = await published('Throttled');
      await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'password' }], password: PASSWORD });
      const guesser = new ApiClient(haven.url);
      let last;
      for (let i = 0; i < 11; i += 1) {
        guesser.ip = `203.0.113.${i + 1}`; // forged: Haven trusts no proxy here
        last = await guesser.post(`/api/v1/videos/${id}/unlock`, { password: `guess number ${i}` });
        if (last.status !== 401) break;
      }
      expectError(last!, 429, 'too_many_attempts');
      assert.ok(Number(last!.headers.get('retry-after')) > 0, 'Retry-After');
      // Even the right password waits now.
      expectError(await guesser.post(`/api/v1/videos/${id}/unlock`, { password: PASSWORD }), 429, 'too_many_attempts');
      const failures = await auditRows(org.tenantId, 'playback.unlock.failed', id);
      assert.equal(failures.length, 10);
      assert.equal(new Set(failures.map((f) => f.ip_pseudonym)).size, 1, 'every attempt came from the one real address');
    });
  });

  describe('audience single sign-on', () => {
    let idp: TestIdp;
    let providerId: string;
    before(async () => {
      idp = await startIdp(`${haven.url}/api/v1/audience/sso/callback`);
      idp.accounts.set('partner-1', { email: 'pat@partner.test', email_verified: true });
      idp.accounts.set('stranger-1', { email: 'sam@elsewhere.test', email_verified: true });
      const created = await org.owner.post('/api/v1/sso/providers', { name: 'Partners', preset: 'generic', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      providerId = created.body.id;
    });
    after(() => idp?.close());

    /** Start → IdP → callback, as a browser; returns the audience cookie (name=value). */
    async function signInAsAudience(videoId: string, login: string): Promise<{ cookie?: string; res: Response }> {
      idp.nextLogin = login;
      const start = await fetch(`${haven.url}/api/v1/videos/${videoId}/audience/sso/${providerId}`, { redirect: 'manual' });
      assert.equal(start.status, 302, await start.text());
      const attempt = start.headers.getSetCookie().find((c) => c.startsWith('haven_audience_sso='))!;
      assert.match(attempt, /HttpOnly/i);
      let location = start.headers.get('location')!;
      const authorize = new URL(location);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorize.searchParams.get('nonce') && authorize.searchParams.get('state'));
      const jar = new Map<string, string>();
      for (let hop = 0; location.startsWith(idp.issuer); hop++) {
        assert.ok(hop < 10, 'too many redirects at the IdP');
        const res = await fetch(location, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const c of res.headers.getSetCookie()) {
          const pair = c.split(';')[0]!;
          const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
          if (value) jar.set(name, value); else jar.delete(name);
        }
        location = new URL(res.headers.get('location')!, location).href;
      }
      const res = await fetch(location, { redirect: 'manual', headers: { cookie: attempt.split(';')[0]! } });
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('haven_audience='))?.split(';')[0];
      return { cookie, res };
    }
    const audienceCookies = (cookie: string) => ({ haven_audience: cookie.slice('haven_audience='.length) });

    test('a viewer signs in through the provider and is admitted; the domain rule holds', async () => {
      const id = await published('Partner briefing');
      const put = await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'sso', emailDomains: ['partner.test'] }] });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const prompt = denial(await decide(id), 401, 'sso_required');
      assert.deepEqual(prompt.details, { providers: [{ id: providerId, name: 'Partners', startUrl: `/api/v1/videos/${id}/audience/sso/${providerId}` }] });

      const { cookie, res } = await signInAsAudience(id, 'partner-1');
      assert.equal(res.status, 302, await res.text());
      assert.equal(res.headers.get('location'), `/watch/${id}`);
      assert.ok(cookie, 'audience cookie set');
      const basis = granted(await decide(id, { cookies: audienceCookies(cookie) }));
      assert.equal(basis.viewer.kind, 'audience');
      const { rows } = await haven.platform.db.ownerPool.query('select id, email, subject from audience_accounts where tenant_id = $1', [org.tenantId]);
      assert.deepEqual(rows.map((r) => [r.id, r.email, r.subject]), [[basis.viewer.id, 'pat@partner.test', 'partner-1']]);
      assert.equal((await auditRows(org.tenantId, 'playback.audience.signin', id)).length, 1);

      const stranger = await signInAsAudience(id, 'stranger-1');
      denial(await decide(id, { cookies: audienceCookies(stranger.cookie!) }), 403, 'email_domain_not_allowed');
      // A forged cookie is no sign-in.
      denial(await decide(id, { cookies: { haven_audience: `${cookie.slice(15, -3)}abc` } }), 401, 'sso_required');
    });

    test('only videos open to SSO audiences have the sign-in; a callback without its attempt cookie is refused', async () => {
      const membersOnly = await published('Members');
      expectError(await org.owner.get(`/api/v1/videos/${membersOnly}/audience/sso/${providerId}`), 404, 'video_not_found');
      const noState = await fetch(`${haven.url}/api/v1/audience/sso/callback?code=x&state=y`, { redirect: 'manual' });
      assert.equal(noState.status, 400);
      assert.equal(((await noState.json()) as any).error.code, 'sso_state_invalid');
    });
  });

  describe('isolation', () => {
    test('another tenant\'s ids answer 404 on every management route', async () => {
      const theirs = await published('Theirs', other);
      const link = (await other.owner.post(`/api/v1/videos/${theirs}/links`, {})).body.id;
      expectError(await org.owner.get(`/api/v1/videos/${theirs}/access`), 404, 'video_not_found');
      expectError(await org.owner.call('PUT', `/api/v1/videos/${theirs}/access`, { audiences: [{ type: 'public' }] }), 404, 'video_not_found');
      expectError(await org.owner.get(`/api/v1/videos/${theirs}/links`), 404, 'video_not_found');
      expectError(await org.owner.post(`/api/v1/videos/${theirs}/links`, {}), 404, 'video_not_found');
      expectError(await org.owner.delete(`/api/v1/videos/${theirs}/links/${link}`), 404, 'video_not_found');
      const mine = await published('Mine');
      expectError(await org.owner.delete(`/api/v1/videos/${mine}/links/${link}`), 404, 'link_not_found');
      assert.equal((await other.owner.get(`/api/v1/videos/${theirs}/access`)).body.version, 0);
      assert.equal((await other.owner.get(`/api/v1/videos/${theirs}/links`)).body.items[0].state, 'active');
    });
  });
});
