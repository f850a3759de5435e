// Passkeys end to end over HTTP against real PostgreSQL, answered by a software
// authenticator that speaks WebAuthn (ES256, 'none' attestation): registering
// behind re-authentication, passwordless sign-in, the second factor after a
// password, replays, phishing origins, expiry, removal and a 2FA-for-all tenant.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { CHALLENGE_TTL_MS, relyingPartyFor } from '../src/modules/identity/passkeys.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { SoftwareAuthenticator } from './helpers/webauthn-authenticator.ts';

const PUBLIC_URL = 'https://haven.test';
const PASSWORD = 'correct horse battery staple';
const OWNER = 'owner@passkeys.test';

test('the relying party is the public URL\'s host and origin', () => {
  assert.deepEqual(relyingPartyFor('https://video.example.org/'), { id: 'video.example.org', name: 'Haven', origin: 'https://video.example.org' });
  assert.deepEqual(relyingPartyFor('http://localhost:8080'), { id: 'localhost', name: 'Haven', origin: 'http://localhost:8080' });
});

describe('passkeys', () => {
  let haven: TestHaven;
  let tenantId: string;
  let ownerId: string;
  let owner: ApiClient;
  const device = new SoftwareAuthenticator(PUBLIC_URL);
  let passkeyId: string;
  // Each browser comes from its own address, as people do: the per-route
  // sign-in limits count per address.
  let addresses = 0;
  const client = () => {
    const api = new ApiClient(haven.url);
    api.ip = `10.20.${Math.floor(++addresses / 250)}.${addresses % 250}`;
    return api;
  };

  before(async () => {
    haven = await startTestHaven({ config: { publicUrl: PUBLIC_URL }, env: { HAVEN_TRUST_PROXY: '127.0.0.1' } });
    tenantId = (await haven.modules.setup({ tenantName: 'Passkey Org', adminEmail: OWNER, adminPassword: PASSWORD })).tenant.id;
    owner = client();
    await owner.signIn(OWNER, PASSWORD);
    ownerId = (await owner.get('/api/v1/auth/session')).body.user.id;
  });
  after(() => haven.stop());

  /** Lets the person's last password confirmation fall out of the ten-minute window. */
  const staleReauth = (userId: string) =>
    haven.platform.db.withPlatform((tx) => tx.updateTable('sessions').set({ reauth_at: new Date(Date.now() - 11 * 60_000) }).where('user_id', '=', userId).execute());

  const audited = (action: string) =>
    haven.platform.db.withPlatform((tx) => tx.selectFrom('audit_events').select(['outcome', 'actor_id', 'target_id', 'details']).where('action', '=', action).orderBy('id').execute());

  /** A passwordless attempt from a fresh browser: the options, then whatever the device answers. */
  async function passwordless(answer: (options: any) => unknown = (o) => device.get(o)) {
    const browser = client();
    const options = await browser.post('/api/v1/auth/passkey/options');
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const credential = answer(options.body);
    return { browser, options: options.body, credential, res: await browser.post('/api/v1/auth/passkey/login', { credential }) };
  }

  test('registering a passkey needs a recent re-authentication', async () => {
    await staleReauth(ownerId);
    expectError(await owner.post('/api/v1/account/passkeys/options'), 401, 'reauthentication_required');
    assert.equal((await owner.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 204);

    const options = await owner.post('/api/v1/account/passkeys/options');
    assert.equal(options.status, 200, JSON.stringify(options.body));
    assert.equal(options.body.rp.id, 'haven.test');
    assert.equal(options.body.authenticatorSelection.residentKey, 'required', 'discoverable, so it also signs in alone');
    const credential = device.create(options.body);

    // The answer is held to the same rule as the options.
    await staleReauth(ownerId);
    expectError(await owner.post('/api/v1/account/passkeys', { name: 'Laptop', credential }), 401, 'reauthentication_required');
    assert.equal((await owner.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 204);

    const created = await owner.post('/api/v1/account/passkeys', { name: 'Laptop', credential });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.id, credential.id);
    assert.equal(created.body.name, 'Laptop');
    assert.deepEqual(created.body.transports, ['internal']);
    passkeyId = created.body.id;

    // One challenge, one registration.
    expectError(await owner.post('/api/v1/account/passkeys', { credential }), 400, 'passkey_challenge_invalid');
    const list = await owner.get('/api/v1/account/passkeys');
    assert.deepEqual(list.body.items.map((p: any) => p.id), [passkeyId]);

    const [registered] = await audited('account.passkey.register');
    assert.equal(registered?.outcome, 'success');
    assert.equal(registered?.actor_id, ownerId);
    assert.equal(registered?.target_id, passkeyId);
    assert.equal((await audited('account.passkey.registration_started')).length, 1);
  });

  test('a passkey alone signs in, and the session works', async () => {
    const { browser, options, res } = await passwordless();
    assert.equal(options.userVerification, 'required');
    assert.equal(options.rpId, 'haven.test');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.id, ownerId);
    assert.equal(res.body.tenant.id, tenantId);
    assert.equal(res.body.consentRequired, false);
    assert.ok(browser.cookie, 'a session cookie is set');

    browser.csrf = res.body.csrfToken;
    const list = await browser.get('/api/v1/account/passkeys');
    assert.equal(list.status, 200);
    assert.ok(list.body.items[0].lastUsedAt, 'use is recorded');
    const renamed = await browser.patch(`/api/v1/account/passkeys/${passkeyId}`, { name: 'Work laptop' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.name, 'Work laptop');

    const logins = await audited('auth.login.succeeded');
    assert.ok(logins.some((e) => (e.details as any)?.method === 'passkey' && e.actor_id === ownerId));
    assert.ok((await audited('auth.passkey.login_started')).length >= 1);
    assert.equal((await audited('account.passkey.rename')).length, 1);
  });

  test('after the password, the passkey is the second factor', async () => {
    const browser = client();
    const first = await browser.login(OWNER, PASSWORD);
    expectError(first, 401, 'second_factor_required');
    assert.deepEqual(first.body.error.details.methods, ['passkey']);
    const { passkeyOptions } = first.body.error.details;
    assert.deepEqual(passkeyOptions.allowCredentials.map((c: any) => c.id), [passkeyId]);
    assert.equal(browser.cookie, undefined, 'no session before the second factor');

    // A TOTP code is no way around a passkey-only account's second factor.
    expectError(await client().login(OWNER, PASSWORD, { totp: '123456' }), 401, 'second_factor_required');

    const credential = device.get(passkeyOptions);
    const done = await browser.post('/api/v1/auth/passkey/verify', { credential });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user.id, ownerId);
    assert.equal((await browser.get('/api/v1/auth/session')).status, 200);

    // The pending login is used up.
    expectError(await client().post('/api/v1/auth/passkey/verify', { credential }), 401, 'passkey_challenge_invalid');
    // A pending login's challenge is no passwordless sign-in.
    const again = await client().login(OWNER, PASSWORD);
    const stolen = device.get(again.body.error.details.passkeyOptions);
    expectError(await client().post('/api/v1/auth/passkey/login', { credential: stolen }), 401, 'passkey_challenge_invalid');

    const logins = await audited('auth.login.succeeded');
    assert.ok(logins.some((e) => (e.details as any)?.second_factor_method === 'passkey'));
    assert.ok((await audited('auth.passkey.second_factor.failed')).length >= 1);
  });

  test('a replayed answer is refused, and so is a signature counter that does not grow', async () => {
    const first = await passwordless();
    assert.equal(first.res.status, 200);
    expectError(await client().post('/api/v1/auth/passkey/login', { credential: first.credential }), 401, 'passkey_challenge_invalid');

    // A clone of the authenticator signs a fresh challenge with a counter already seen.
    const seen = device.credentials[0]!.signCount;
    const cloned = await passwordless((o) => device.get(o, { signCount: seen }));
    expectError(cloned.res, 401, 'passkey_counter_regressed');
    const [alarm] = await audited('auth.passkey.counter_regressed');
    assert.equal(alarm?.actor_id, ownerId);
    assert.equal(alarm?.target_id, passkeyId);
    assert.deepEqual(alarm?.details, { reason: 'counter_not_increased', counter: seen, stored_counter: seen });

    // The genuine authenticator, whose counter moves on, still signs in.
    assert.equal((await passwordless()).res.status, 200);
  });

  test('an answer from another origin or for another RP ID is refused', async () => {
    expectError((await passwordless((o) => device.get(o, { origin: 'https://haven.test.evil.example' }))).res, 401, 'passkey_not_verified');
    expectError((await passwordless((o) => device.get(o, { rpId: 'evil.example' }))).res, 401, 'passkey_not_verified');
    const failures = await audited('auth.passkey.login.failed');
    const reasons = failures.map((e) => (e.details as any)?.reason);
    assert.ok(reasons.includes('origin_mismatch') && reasons.includes('rp_id_mismatch'), JSON.stringify(reasons));

    // Registering from a phishing page fails the same way.
    assert.equal((await owner.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 204);
    const options = await owner.post('/api/v1/account/passkeys/options');
    const phished = new SoftwareAuthenticator('https://evil.example').create(options.body);
    expectError(await owner.post('/api/v1/account/passkeys', { credential: phished }), 400, 'passkey_not_verified');
    assert.equal((await owner.get('/api/v1/account/passkeys')).body.items.length, 1);
  });

  test('a challenge older than five minutes is refused', async () => {
    const browser = client();
    const options = (await browser.post('/api/v1/auth/passkey/options')).body;
    const row = await haven.platform.db.withPlatform((tx) => tx.selectFrom('webauthn_challenges').select(['created_at', 'expires_at', 'user_id', 'purpose']).where('challenge', '=', options.challenge).executeTakeFirstOrThrow());
    assert.equal(row.expires_at.getTime() - row.created_at.getTime(), CHALLENGE_TTL_MS);
    assert.equal(CHALLENGE_TTL_MS, 5 * 60_000);
    assert.equal(row.user_id, null);
    assert.equal(row.purpose, 'login');

    const sixMinutes = 6 * 60_000;
    await haven.platform.db.withPlatform((tx) => tx.updateTable('webauthn_challenges')
      .set({ created_at: new Date(row.created_at.getTime() - sixMinutes), expires_at: new Date(row.expires_at.getTime() - sixMinutes) })
      .where('challenge', '=', options.challenge).execute());
    expectError(await browser.post('/api/v1/auth/passkey/login', { credential: device.get(options) }), 401, 'passkey_challenge_invalid');
  });

  test('a tenant that requires a second factor of everyone accepts a passkey', async () => {
    const email = 'owner@strict.test';
    await haven.modules.setup({ tenantName: 'Strict Org', adminEmail: email, adminPassword: PASSWORD });
    const api = client();
    await api.signIn(email, PASSWORD);
    const patched = await api.patch('/api/v1/tenant', { settings: { twoFactor: 'all' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal((await api.get('/api/v1/auth/session')).body.secondFactorEnrollmentRequired, true);
    expectError(await api.get('/api/v1/users'), 403, 'second_factor_enrollment_required');

    // Enrolment is open to them, and a passkey is an enrolled factor.
    const phone = new SoftwareAuthenticator(PUBLIC_URL);
    const options = await api.post('/api/v1/account/passkeys/options');
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const created = await api.post('/api/v1/account/passkeys', { credential: phone.create(options.body) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.name, 'Passkey 1');
    assert.equal((await api.get('/api/v1/auth/session')).body.secondFactorEnrollmentRequired, false);
    assert.equal((await api.get('/api/v1/users')).status, 200);

    // Nobody manages another person's passkeys.
    expectError(await api.patch(`/api/v1/account/passkeys/${passkeyId}`, { name: 'Mine now' }), 404, 'passkey_not_found');
    expectError(await api.delete(`/api/v1/account/passkeys/${passkeyId}`), 404, 'passkey_not_found');
    // And a pending login accepts only the passkeys of the person whose password was right.
    const pending = await client().login(email, PASSWORD);
    const someoneElses = device.get({ ...pending.body.error.details.passkeyOptions, allowCredentials: undefined });
    expectError(await client().post('/api/v1/auth/passkey/verify', { credential: someoneElses }), 401, 'passkey_unknown');

    // With an authenticator app as well, both are offered and either finishes the sign-in.
    const { secret } = (await api.post('/api/v1/account/totp')).body;
    const confirmed = await api.post('/api/v1/account/totp/confirm', { code: await generate({ secret }) });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    const both = await client().login(email, PASSWORD);
    expectError(both, 401, 'second_factor_required');
    assert.deepEqual(both.body.error.details.methods, ['totp', 'passkey']);
    assert.equal((await client().post('/api/v1/auth/passkey/verify', { credential: phone.get(both.body.error.details.passkeyOptions) })).status, 200);
    assert.equal((await client().login(email, PASSWORD, { totp: confirmed.body.recoveryCodes[0] })).status, 200);
  });

  test('removing a passkey needs re-authentication and ends its use', async () => {
    await staleReauth(ownerId);
    expectError(await owner.delete(`/api/v1/account/passkeys/${passkeyId}`), 401, 'reauthentication_required');
    assert.equal((await owner.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 204);
    assert.equal((await owner.delete(`/api/v1/account/passkeys/${passkeyId}`)).status, 204);
    assert.deepEqual((await owner.get('/api/v1/account/passkeys')).body.items, []);
    expectError(await owner.delete(`/api/v1/account/passkeys/${passkeyId}`), 404, 'passkey_not_found');

    expectError((await passwordless()).res, 401, 'passkey_unknown');
    // With no second factor left, the password alone signs in again.
    assert.equal((await client().login(OWNER, PASSWORD)).status, 200);
    const [removed] = await audited('account.passkey.delete');
    assert.equal(removed?.target_id, passkeyId);
  });
});
