// haven user and haven tenant as an operator runs them: the CLI's commands
// (run in this process, as test/helpers/cli.ts explains) against a test
// database, checked through a Haven serving that same database (sign-in,
// sessions, invitation links) and its audit trail.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { ApiClient, expectError } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { parseMail } from './helpers/mime.ts';
import { runHavenCommand } from './helpers/cli.ts';

const PASSWORD = 'correct horse battery staple';

describe('haven user and haven tenant', () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let haven: TestHaven;

  const haven$ = (...args: string[]) => runHavenCommand(args, env);
  /** Exit code 2 and one line naming the problem. */
  async function refused(args: string[], pattern: RegExp) {
    const r = await haven$(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^haven: /);
    assert.match(r.stderr, pattern);
  }
  async function ok(...args: string[]): Promise<string> {
    const r = await haven$(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  const platformEvents = async (action: string) =>
    (await haven.platform.db.ownerPool.query('select tenant_id, actor_type, actor_via from audit_events where action = $1', [action])).rows;
  const activeSessions = async (email: string) =>
    (await haven.platform.db.ownerPool.query('select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.email = $1 and s.revoked_at is null', [email])).rows[0].n;
  const api = () => Object.assign(new ApiClient(haven.url), { ip: `10.7.0.${Math.floor(Math.random() * 250)}` });

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'haven-user-cli-'));
    // The CLI and the serving Haven are one installation: same database, same root keys.
    const keys = sharedKeys();
    env = { DATABASE_URL: database.url, HAVEN_DATA_DIR: dataDir, HAVEN_MASTER_KEY: keys.masterKey!, HAVEN_SIGNING_KEY: keys.signingKey!, HAVEN_PSEUDONYM_KEY: keys.pseudonymKey! };
    await ok('setup', '--tenant', 'Acme', '--admin-email', 'owner@acme.test', '--admin-password', PASSWORD);
    haven = await startTestHaven({ database, config: keys, env: { HAVEN_TRUST_PROXY: '127.0.0.1' } });
  });
  after(async () => {
    await haven?.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('tenant set changes settings after validating all of them, and tenant list shows them', async () => {
    await refused(['tenant', 'set', '--tenant', 'acme', '--session-idle-minutes', '2'], /--session-idle-minutes/);
    await refused(['tenant', 'set', '--tenant', 'acme', '--two-factor', 'sometimes'], /--two-factor/);
    await refused(['tenant', 'set', '--tenant', 'acme', '--security-level', 'extreme'], /--security-level must be standard or high/);
    await refused(['tenant', 'set', '--tenant', 'acme', '--allowed-domains', 'acme.test,not a domain'], /--allowed-domains is not a domain name/);
    await refused(['tenant', 'set', '--tenant', 'acme'], /at least one setting/);
    await refused(['tenant', 'set', '--tenant', 'nowhere', '--name', 'X'], /No tenant has the slug "nowhere"/);

    const said = await ok('tenant', 'set', '--tenant', 'acme', '--name', 'Acme Corp', '--two-factor', 'admins', '--allowed-domains', 'acme.test, Acme.Example', '--session-idle-minutes', '30');
    assert.match(said, /updated acme: name "Acme Corp", security standard, 2fa admins, domains acme\.test,acme\.example, sessions idle 30 min \/ at most 12 h/);
    assert.match(await ok('tenant', 'list'), /acme\s+default\s+active security:standard 2fa:admins domains:acme\.test,acme\.example {2}Acme Corp\n/);

    // Settings not named stay as they were; "" allows any domain again.
    await ok('tenant', 'set', '--tenant', 'acme', '--two-factor', 'optional', '--allowed-domains', '');
    assert.match(await ok('tenant', 'list'), /security:standard 2fa:optional domains:any {2}Acme Corp/);
    const idle = await haven.platform.db.ownerPool.query(`select settings->>'sessionIdleMinutes' as idle from tenants where slug = 'acme'`);
    assert.equal(idle.rows[0].idle, '30');

    const events = await platformEvents('tenant.update');
    assert.equal(events.length, 2);
    assert.ok(events.every((e) => e.actor_type === 'system' && e.actor_via === 'job:operator'));
  });

  test('user create makes an account with a password, or emails an invitation; bad input exits 2', async () => {
    assert.match(await ok('user', 'create', '--tenant', 'acme', '--email', 'ed@acme.test', '--role', 'editor', '--password', PASSWORD), /created ed@acme\.test \(.+\) as editor in acme/);
    assert.equal((await api().login('ed@acme.test', PASSWORD)).status, 200);

    assert.match(await ok('user', 'create', '--tenant', 'acme', '--email', 'ines@acme.test', '--role', 'viewer', '--language', 'sv'), /invited ines@acme\.test as viewer to acme/);
    const outbox = join(dataDir, 'mail-outbox');
    const mail = parseMail(readFileSync(join(outbox, readdirSync(outbox).find((f) => f.endsWith('.eml'))!), 'utf8'));
    assert.equal(mail.headers.get('to'), 'ines@acme.test');
    assert.match(mail.headers.get('subject')!, /Haven har bjudit in dig till Acme/);
    const token = /\/invite#token=(inv_[A-Za-z0-9_-]+)/.exec(mail.text!)![1]!;
    const preview = await api().get(`/api/v1/invitations/lookup?token=${token}`);
    assert.equal(preview.body.role, 'viewer');

    const members = await ok('user', 'list', '--tenant', 'acme');
    assert.match(members, /owner@acme\.test\s+owner\s+active {2}2fa:off/);
    assert.match(members, /ed@acme\.test\s+editor\s+active {2}2fa:off/);
    assert.doesNotMatch(members, /ines@/, 'an invitation is not a member yet');

    await refused(['user', 'create', '--tenant', 'acme', '--email', 'x@acme.test', '--role', 'emperor'], /--role must be one of owner, admin, editor, viewer/);
    await refused(['user', 'create', '--tenant', 'acme', '--role', 'viewer'], /missing required option --email/);
    await refused(['user', 'create', '--tenant', 'acme', '--email', 'weak@acme.test', '--role', 'viewer', '--password', 'short'], /at least 12 characters/);
    await refused(['user', 'create', '--tenant', 'acme', '--email', 'ed@acme.test', '--role', 'viewer', '--password', PASSWORD], /already has an account/);
    await refused(['user', 'create', '--tenant', 'nowhere', '--email', 'x@acme.test', '--role', 'viewer'], /No tenant has the slug "nowhere"/);
    await refused(['user', 'create', '--tenant', 'acme', '--email', 'not-an-address', '--role', 'viewer'], /Invalid email/);
  });

  test('disable ends every session and sign-in until enable; reset-2fa removes the authenticator app', async () => {
    const ed = api();
    await ed.signIn('ed@acme.test', PASSWORD);
    assert.match(await ok('user', 'disable', '--email', 'ed@acme.test'), /disabled ed@acme\.test in every tenant; ended [1-9]\d* sessions?\n/);
    expectError(await ed.get('/api/v1/auth/session'), 401, 'unauthenticated');
    assert.equal(await activeSessions('ed@acme.test'), 0);
    expectError(await api().login('ed@acme.test', PASSWORD), 401, 'invalid_credentials');
    assert.match(await ok('user', 'list'), /ed@acme\.test\s+disabled/);

    await ok('user', 'enable', '--email', 'ed@acme.test');
    await ed.signIn('ed@acme.test', PASSWORD);
    const { secret } = (await ed.post('/api/v1/account/totp')).body;
    assert.equal((await ed.post('/api/v1/account/totp/confirm', { code: await generate({ secret }) })).status, 200);
    expectError(await api().login('ed@acme.test', PASSWORD), 401, 'second_factor_required');

    assert.match(await ok('user', 'reset-2fa', '--email', 'ed@acme.test'), /removed the authenticator app and recovery codes of ed@acme\.test; ended 1 session\n/);
    expectError(await ed.get('/api/v1/auth/session'), 401, 'unauthenticated');
    assert.equal((await api().login('ed@acme.test', PASSWORD)).status, 200, 'signs in with the password alone again');

    await refused(['user', 'disable', '--email', 'nobody@acme.test'], /No account uses the address nobody@acme\.test/);
    await refused(['user', 'disable'], /missing required option --email/);
    await refused(['user', 'explode', '--email', 'ed@acme.test'], /expected one of list, create, disable/);
    for (const action of ['user.disable', 'user.enable', 'user.totp.reset']) {
      const [event] = await platformEvents(action);
      assert.ok(event, `${action} is audited`);
      assert.equal(event.tenant_id, '00000000-0000-0000-0000-000000000000', 'in the platform chain');
      assert.equal(event.actor_type, 'system');
    }
  });

  test('platform roles are granted and revoked by the operator only', async () => {
    assert.match(await ok('user', 'grant-platform-role', '--email', 'ed@acme.test', '--role', 'support'), /now has platform roles: support/);
    assert.match(await ok('user', 'list'), /ed@acme\.test\s+active\s+2fa:off {2}platform:support {2}tenants:1/);
    assert.match(await ok('user', 'revoke-platform-role', '--email', 'ed@acme.test', '--role', 'support'), /now has platform roles: none/);
    await refused(['user', 'grant-platform-role', '--email', 'ed@acme.test', '--role', 'king'], /--role must be one of operator, support, reseller/);
    assert.equal((await platformEvents('user.platform_role.grant')).length, 1);
  });
});
