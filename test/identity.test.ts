// Identity end to end over HTTP against real PostgreSQL: sign-in, sessions,
// CSRF, the consent gate, passwords and resets, TOTP, API tokens, admins.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';

describe('identity', () => {
  let haven: TestHaven;
  let tenantId: string;
  let owner: ApiClient;
  const client = () => { const c = new ApiClient(haven.url); c.ip = randomIp(); return c; };

  before(async () => {
    haven = await startTestHaven({ env: { HAVEN_TRUST_PROXY: '127.0.0.1', HAVEN_LOGIN_FAILURES_PER_ACCOUNT: '5', HAVEN_LOGIN_FAILURES_PER_ADDRESS: '8' } });
    const { tenant } = await haven.modules.setup({ tenantName: 'Acme', adminEmail: 'owner@acme.test', adminPassword: PASSWORD });
    tenantId = tenant.id;
    owner = client();
    owner.ip = '10.0.0.1';
    await owner.signIn('owner@acme.test', PASSWORD);
  });
  after(() => haven.stop());

  /** Adds a member through the admin API and gives them a password through the reset flow. */
  async function member(email: string, role: string, password = PASSWORD): Promise<{ id: string; api: ApiClient }> {
    const added = await owner.post('/api/v1/users', { email, role });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const token = await resetTokenFor(email);
    const anon = client();
    anon.ip = randomIp();
    assert.equal((await anon.post('/api/v1/auth/password-reset/confirm', { token, password })).status, 204);
    const api = client();
    api.ip = randomIp();
    await api.signIn(email, password);
    return { id: added.body.id, api };
  }

  /** Asks for a reset and reads the link from the mail outbox (no SMTP configured here). */
  async function resetTokenFor(email: string): Promise<string> {
    const outbox = join(haven.dataDir, 'mail-outbox');
    const before = new Set(safeList(outbox));
    const asker = client();
    asker.ip = randomIp();
    const res = await asker.post('/api/v1/auth/password-reset', { email });
    assert.equal(res.status, 202);
    for (let i = 0; i < 50; i++) {
      const fresh = safeList(outbox).filter((f) => !before.has(f));
      for (const f of fresh) {
        const raw = readFileSync(join(outbox, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const m = /token=(rst_[A-Za-z0-9_-]+)/.exec(raw);
        if (m && raw.toLowerCase().includes(email.split('@')[0]!)) return m[1]!;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no reset mail for ${email}`);
  }

  test('sign-in sets a hardened session cookie and the consent gate holds until accepted', async () => {
    const api = client();
    const res = await api.login('owner@acme.test', PASSWORD);
    assert.equal(res.status, 200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('haven_session='))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /Secure/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.ok(api.cookie!.length > 40, '256-bit random value');
    assert.equal(res.body.tenant.id, tenantId);

    // A freshly published tenant document re-prompts everyone.
    const published = await owner.post('/api/v1/consent/documents', { kind: 'terms', title: 'Acme terms', body: 'Be excellent.' });
    assert.equal(published.status, 201);
    expectError(await owner.get('/api/v1/users'), 403, 'consent_required');
    const pending = await owner.get('/api/v1/consent');
    assert.equal(pending.body.complete, false);
    const doc = pending.body.items.find((d: any) => d.scope === 'tenant');
    assert.equal(doc.title, 'Acme terms');
    expectError(await owner.post(`/api/v1/consent/${doc.id}`, { decision: 'withdrawn' }), 409, 'not_withdrawable');
    assert.equal((await owner.post(`/api/v1/consent/${doc.id}`, { decision: 'accepted' })).status, 200);
    assert.equal((await owner.get('/api/v1/users')).status, 200);
    const history = await owner.get('/api/v1/consent/history');
    assert.ok(history.body.items.some((r: any) => r.document_id === doc.id && r.decision === 'accepted' && r.method === 'form'));
  });

  test('consent records are append-only for the application', async () => {
    await assert.rejects(haven.platform.db.withPlatform((tx) => tx.updateTable('consent_records').set({ decision: 'declined' }).execute()), /permission denied/);
    await assert.rejects(haven.platform.db.withPlatform((tx) => tx.deleteFrom('consent_records').execute()), /permission denied/);
  });

  test('unknown email and wrong password answer identically', async () => {
    const a = client(); a.ip = '10.9.0.1';
    const b = client(); b.ip = '10.9.0.2';
    const t0 = performance.now();
    const unknown = await a.login('nobody@acme.test', 'wrong password 123');
    const t1 = performance.now();
    const wrong = await b.login('owner@acme.test', 'wrong password 123');
    const t2 = performance.now();
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, wrong.body);
    assert.equal(unknown.body.error.code, 'invalid_credentials');
    // Both paths run argon2: the unknown-email path must not be markedly faster.
    assert.ok(t1 - t0 > (t2 - t1) / 4, `unknown ${t1 - t0} ms vs known ${t2 - t1} ms`);
    const r1 = await client().post('/api/v1/auth/password-reset', { email: 'nobody@acme.test' });
    const r2 = await client().post('/api/v1/auth/password-reset', { email: 'owner@acme.test' });
    assert.equal(r1.status, 202);
    assert.deepEqual(r1.body, r2.body);
  });

  test('cookie-authenticated writes need the CSRF token and a same-origin Origin', async () => {
    const csrf = owner.csrf;
    owner.csrf = undefined;
    expectError(await owner.patch('/api/v1/account', { displayName: 'X' }), 403, 'csrf_failed');
    owner.csrf = 'forged';
    expectError(await owner.patch('/api/v1/account', { displayName: 'X' }), 403, 'csrf_failed');
    owner.csrf = csrf;
    expectError(await owner.call('PATCH', '/api/v1/account', { displayName: 'X' }, { origin: 'https://evil.example' }), 403, 'cross_origin_refused');
    assert.equal((await owner.patch('/api/v1/account', { displayName: 'Olivia Owner', language: 'sv' })).status, 200);
  });

  test('forged and expired cookies are treated as signed out', async () => {
    const forged = client();
    forged.cookie = 'haven_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expectError(await forged.get('/api/v1/users'), 401, 'unauthenticated');
    const { api } = await member('idle@acme.test', 'viewer');
    assert.equal((await api.get('/api/v1/account')).status, 200);
    await haven.platform.db.withPlatform((tx) => tx.updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 2 * 3600_000) }).where('revoked_at', 'is', null).where('user_id', '=', haven.platform.db.app.selectFrom('users').select('id').where('email_normalized', '=', 'idle@acme.test')).execute());
    expectError(await api.get('/api/v1/account'), 401, 'unauthenticated');
  });

  test('password rules: length, common passwords, own identifiers', async () => {
    const { api } = await member('rules@acme.test', 'viewer');
    expectError(await api.post('/api/v1/account/password', { currentPassword: PASSWORD, newPassword: 'short' }), 400, 'password_too_short');
    expectError(await api.post('/api/v1/account/password', { currentPassword: PASSWORD, newPassword: 'passwordpassword' }), 400, 'password_common');
    expectError(await api.post('/api/v1/account/password', { currentPassword: PASSWORD, newPassword: 'rules-is-my-name-here' }), 400, 'password_contains_identity');
    expectError(await api.post('/api/v1/account/password', { currentPassword: 'not my password!', newPassword: 'a brand new passphrase' }), 401, 'invalid_credentials');
  });

  test('changing the password ends other sessions', async () => {
    const { api } = await member('changer@acme.test', 'viewer');
    const other = client();
    other.ip = '10.3.0.1';
    await other.signIn('changer@acme.test', PASSWORD);
    assert.equal((await api.post('/api/v1/account/password', { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' })).status, 204);
    assert.equal((await api.get('/api/v1/account')).status, 200);
    expectError(await other.get('/api/v1/account'), 401, 'unauthenticated');
  });

  test('email change needs a recent re-authentication', async () => {
    const { api } = await member('mover@acme.test', 'viewer');
    await haven.platform.db.withPlatform((tx) => tx.updateTable('sessions').set({ reauth_at: new Date(Date.now() - 3600_000) }).where('revoked_at', 'is', null).execute());
    expectError(await api.post('/api/v1/account/email', { email: 'moved@acme.test' }), 401, 'reauthentication_required');
    expectError(await api.post('/api/v1/auth/reauthenticate', { password: 'wrong wrong wrong' }), 401, 'invalid_credentials');
    assert.equal((await api.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 204);
    assert.equal((await api.post('/api/v1/account/email', { email: 'moved@acme.test' })).status, 204);
    assert.equal((await api.get('/api/v1/account')).body.email, 'moved@acme.test');
  });

  test('reset tokens are single-use and expire', async () => {
    await member('resetter@acme.test', 'viewer');
    const token = await resetTokenFor('resetter@acme.test');
    assert.equal((await client().post('/api/v1/auth/password-reset/confirm', { token, password: 'first new passphrase' })).status, 204);
    expectError(await client().post('/api/v1/auth/password-reset/confirm', { token, password: 'second new passphrase' }), 400, 'invalid_reset_token');
    const late = await resetTokenFor('resetter@acme.test');
    await haven.platform.db.withPlatform((tx) => tx.updateTable('password_resets').set({ expires_at: new Date(Date.now() - 1000) }).where('used_at', 'is', null).execute());
    expectError(await client().post('/api/v1/auth/password-reset/confirm', { token: late, password: 'second new passphrase' }), 400, 'invalid_reset_token');
  });

  test('TOTP: enrolment, codes used once, recovery codes, and resets do not bypass it', async () => {
    const { api } = await member('totp@acme.test', 'editor');
    const begun = await api.post('/api/v1/account/totp');
    assert.equal(begun.status, 200, JSON.stringify(begun.body));
    assert.match(begun.body.uri, /^otpauth:\/\/totp\//);
    const secret = begun.body.secret as string;
    expectError(await api.post('/api/v1/account/totp/confirm', { code: '000000' }), 400, 'invalid_second_factor');
    const confirmed = await api.post('/api/v1/account/totp/confirm', { code: await generate({ secret }) });
    assert.equal(confirmed.status, 200);
    assert.equal(confirmed.body.recoveryCodes.length, 10);

    const fresh = client();
    fresh.ip = '10.4.0.1';
    expectError(await fresh.login('totp@acme.test', PASSWORD), 401, 'second_factor_required');
    // The confirmation code's step is spent; wait for the next step's code.
    const now = Date.now();
    const next = await generate({ secret, epoch: Math.floor(now / 1000) + 30 });
    const current = await generate({ secret });
    expectError(await fresh.login('totp@acme.test', PASSWORD, { totp: current }), 401, 'invalid_second_factor');
    expectError(await fresh.login('totp@acme.test', PASSWORD, { totp: 'abc' }), 401, 'invalid_second_factor');
    assert.equal((await fresh.login('totp@acme.test', PASSWORD, { totp: next })).status, 200, 'next step within ±1 window');
    expectError(await client().login('totp@acme.test', PASSWORD, { totp: next }), 401, 'invalid_second_factor');

    const recovery = confirmed.body.recoveryCodes[0];
    assert.equal((await client().login('totp@acme.test', PASSWORD, { totp: recovery })).status, 200);
    expectError(await client().login('totp@acme.test', PASSWORD, { totp: recovery }), 401, 'invalid_second_factor');

    const token = await resetTokenFor('totp@acme.test');
    expectError(await client().post('/api/v1/auth/password-reset/confirm', { token, password: 'another new passphrase' }), 401, 'second_factor_required');
  });

  test('a tenant requiring 2FA lets members do nothing but enrol', async () => {
    const { api } = await member('must2fa@acme.test', 'viewer');
    assert.equal((await owner.patch('/api/v1/tenant', { settings: { twoFactor: 'all' } })).status, 200);
    try {
      const session = await api.get('/api/v1/auth/session');
      assert.equal(session.body.secondFactorEnrollmentRequired, true);
      expectError(await api.get('/api/v1/account/tokens'), 403, 'second_factor_enrollment_required');
      assert.equal((await api.post('/api/v1/account/totp')).status, 200);
      // The owner is now held to the same rule.
      expectError(await owner.get('/api/v1/users'), 403, 'second_factor_enrollment_required');
    } finally {
      await haven.platform.db.ownerPool.query(`update tenants set settings = settings || '{"twoFactor":"optional"}' where id = $1`, [tenantId]);
    }
  });

  test('API tokens: scoped, shown once, stored hashed, revocable, last use recorded', async () => {
    const { api } = await member('integrator@acme.test', 'admin');
    const created = await api.post('/api/v1/account/tokens', { name: 'ci', scopes: ['users:read'], expiresInDays: 30 });
    assert.equal(created.status, 201);
    const token = created.body.token as string;
    assert.match(token, /^hvn_/);
    const stored = await haven.platform.db.ownerPool.query('select token_hash from api_tokens where id = $1', [created.body.id]);
    assert.ok(!stored.rows[0].token_hash.toString().includes(token));

    const bot = client();
    bot.token = token;
    assert.equal((await bot.get('/api/v1/users')).status, 200);
    expectError(await bot.post('/api/v1/users', { email: 'x@acme.test', role: 'viewer' }), 403, 'forbidden');
    const list = await api.get('/api/v1/account/tokens');
    assert.ok(list.body.items[0].last_used_at);
    assert.equal(JSON.stringify(list.body).includes(token), false);

    assert.equal((await api.delete(`/api/v1/account/tokens/${created.body.id}`)).status, 204);
    expectError(await bot.get('/api/v1/users'), 401, 'invalid_token');
    const viewer = await member('viewer-token@acme.test', 'viewer');
    expectError(await viewer.api.post('/api/v1/account/tokens', { name: 'x', scopes: ['users:write'] }), 403, 'scope_not_allowed');
  });

  test('admins manage people; a role change ends that person\'s sessions; the last owner stays', async () => {
    const { id, api } = await member('promoted@acme.test', 'viewer');
    expectError(await api.get('/api/v1/users'), 403, 'forbidden');
    const denied = await haven.platform.db.ownerPool.query(`select count(*)::int as n from audit_events where action = 'access.denied' and actor_id = $1`, [id]);
    assert.ok(denied.rows[0].n >= 1, 'denied attempts are audited');

    const changed = await owner.patch(`/api/v1/users/${id}`, { role: 'editor' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.role, 'editor');
    expectError(await api.get('/api/v1/account'), 401, 'unauthenticated');

    const me = (await owner.get('/api/v1/auth/session')).body.user.id;
    expectError(await owner.patch(`/api/v1/users/${me}`, { role: 'admin' }), 409, 'last_owner');
    assert.equal((await owner.patch(`/api/v1/users/${id}`, { status: 'disabled' })).body.status, 'disabled');
    const again = client();
    again.ip = '10.5.0.1';
    expectError(await again.login('promoted@acme.test', PASSWORD), 403, 'no_membership');
    expectError(await owner.get('/api/v1/users/00000000-0000-4000-8000-000000000000'), 404, 'user_not_found');
    expectError(await owner.get('/api/v1/users/not-a-uuid'), 400, 'invalid_request');
  });

  test('hostile identifiers are refused with clear errors', async () => {
    for (const email of ['аdmin@acme.test' /* Cyrillic а */, 'x'.repeat(300) + '@acme.test', 'no-at-sign', 'a@b']) {
      const res = await owner.post('/api/v1/users', { email, role: 'viewer' });
      assert.equal(res.status, 400, email);
      assert.equal(res.body.error.code, 'invalid_request');
    }
    const res = await owner.post('/api/v1/users', { email: 'Owner@ACME.test', role: 'viewer' });
    expectError(res, 409, 'already_member');
    expectError(await owner.post('/api/v1/users', { email: 'fine@acme.test', username: 'bad name!', role: 'viewer' }), 400, 'invalid_request');
    expectError(await owner.post('/api/v1/users', { email: 'fine@acme.test', role: 'emperor' }), 400, 'invalid_request');
  });

  test('brute force: an address is refused before hashing; an account locks and its owner is told', async () => {
    const attacker = client();
    attacker.ip = '10.66.0.1';
    for (let i = 0; i < 8; i++) await attacker.login(`spray${i}@acme.test`, 'wrong password 123');
    const started = performance.now();
    expectError(await attacker.login('owner@acme.test', PASSWORD), 429, 'too_many_attempts');
    assert.ok(performance.now() - started < 200, 'refused without an argon2 run');

    await member('target@acme.test', 'viewer');
    for (let i = 0; i < 5; i++) {
      const c = client();
      c.ip = `10.77.0.${i}`;
      await c.login('target@acme.test', 'wrong password 123');
    }
    const legit = client();
    legit.ip = '10.88.0.1';
    expectError(await legit.login('target@acme.test', PASSWORD), 429, 'too_many_attempts');
    const outbox = readdirSync(join(haven.dataDir, 'mail-outbox')).map((f) => readFileSync(join(haven.dataDir, 'mail-outbox', f), 'utf8'));
    assert.ok(outbox.some((m) => /locked/i.test(m)), 'lock notice mailed');
    const failed = await haven.platform.db.ownerPool.query(`select count(*)::int as n from audit_events where action in ('auth.login.failed', 'auth.login.throttled')`);
    assert.ok(failed.rows[0].n >= 13);
  });

  test('concurrent attempts cannot slip past the address limit while earlier ones hash', async () => {
    const ip = randomIp();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => {
      const c = client();
      c.ip = ip;
      return c.login(`burst${i}@acme.test`, 'wrong password 123');
    }));
    const hashed = results.filter((r) => r.status === 401).length;
    assert.equal(hashed, 8, `exactly the limit reached argon2 (${results.map((r) => r.status).join(',')})`);
    assert.equal(results.filter((r) => r.status === 429).length, 12);
  });

  test('sessions: list mine, end one, sign out', async () => {
    const { api } = await member('sessions@acme.test', 'viewer');
    const second = client();
    second.ip = '10.6.0.1';
    await second.signIn('sessions@acme.test', PASSWORD);
    const list = await api.get('/api/v1/account/sessions');
    assert.equal(list.body.items.length, 2);
    const other = list.body.items.find((s: any) => !s.current);
    assert.equal((await api.delete(`/api/v1/account/sessions/${other.id}`)).status, 204);
    expectError(await second.get('/api/v1/account'), 401, 'unauthenticated');
    assert.equal((await api.post('/api/v1/auth/logout')).status, 204);
    expectError(await api.get('/api/v1/account'), 401, 'unauthenticated');
  });
});

function randomIp(): string {
  return `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
}
