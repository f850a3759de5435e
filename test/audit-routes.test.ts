// The audit trail over HTTP: who may read which chain, filters and cursors,
// verification, and exports that are themselves audited.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';

describe('audit routes', () => {
  let haven: TestHaven;
  let admin: ApiClient;
  let viewer: ApiClient;
  let operator: ApiClient;

  before(async () => {
    // An empty database, so this start runs the migrations and records them.
    haven = await startTestHaven({ emptyDatabase: true });
    await haven.modules.setup({ tenantName: 'Audited', adminEmail: 'owner@audited.test', adminPassword: PASSWORD });
    await haven.modules.setup({ tenantName: 'Other', adminEmail: 'owner@other.test', adminPassword: PASSWORD });
    admin = new ApiClient(haven.url);
    await admin.signIn('owner@audited.test', PASSWORD);
    const added = await admin.post('/api/v1/users', { email: 'viewer@audited.test', role: 'viewer' });
    assert.equal(added.status, 201);
    await haven.platform.db.ownerPool.query(`update users set password_hash = (select password_hash from users where email_normalized = 'owner@audited.test') where email_normalized = 'viewer@audited.test'`);
    viewer = new ApiClient(haven.url);
    await viewer.signIn('viewer@audited.test', PASSWORD);
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'owner@other.test'`);
    operator = new ApiClient(haven.url);
    await operator.signIn('owner@other.test', PASSWORD);
    await haven.modules.audit.seal();
  });
  after(() => haven.stop());

  test('admins search their tenant\'s trail with filters and a cursor', async () => {
    const all = await admin.get('/api/v1/audit/events?limit=2');
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.items.length, 2);
    assert.ok(all.body.nextCursor);
    const tenants = new Set(all.body.items.map((e: any) => e.tenantId));
    assert.equal(tenants.size, 1);
    const next = await admin.get(`/api/v1/audit/events?limit=2&cursor=${encodeURIComponent(all.body.nextCursor)}`);
    assert.equal(next.status, 200);
    assert.ok(next.body.items.every((e: any) => !all.body.items.some((f: any) => f.id === e.id)), 'pages do not overlap');

    const logins = await admin.get('/api/v1/audit/events?action=auth.login&outcome=success');
    assert.ok(logins.body.items.length >= 1);
    assert.ok(logins.body.items.every((e: any) => e.action.startsWith('auth.login') && e.outcome === 'success'));
    const text = JSON.stringify((await admin.get('/api/v1/audit/events?limit=500')).body);
    assert.ok(!text.includes('viewer@audited.test') && !text.includes('owner@audited.test'), 'no raw emails in the trail');
  });

  test('bad filters and tampered cursors are clear 400s', async () => {
    expectError(await admin.get('/api/v1/audit/events?limit=abc'), 400, 'invalid_filter');
    expectError(await admin.get('/api/v1/audit/events?outcome=maybe'), 400, 'invalid_filter');
    expectError(await admin.get('/api/v1/audit/events?from=yesterday'), 400, 'invalid_filter');
    expectError(await admin.get('/api/v1/audit/events?action=DROP%20TABLE'), 400, 'invalid_filter');
    expectError(await admin.get('/api/v1/audit/events?from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z'), 400, 'range_too_large');
    expectError(await admin.get('/api/v1/audit/events?bogus=1'), 400, 'invalid_filter');
    const page = await admin.get('/api/v1/audit/events?limit=1');
    const cursor = page.body.nextCursor as string;
    const tampered = cursor.slice(0, -2) + (cursor.endsWith('A') ? 'BB' : 'AA');
    expectError(await admin.get(`/api/v1/audit/events?limit=1&cursor=${encodeURIComponent(tampered)}`), 400, 'invalid_cursor');
  });

  test('viewers cannot read the trail; their attempt is recorded', async () => {
    expectError(await viewer.get('/api/v1/audit/events'), 403, 'forbidden');
    expectError(await admin.get('/api/v1/audit/events?scope=platform'), 403, 'forbidden');
    await haven.modules.audit.seal();
    const denied = await admin.get('/api/v1/audit/events?action=access.denied');
    assert.ok(denied.body.items.some((e: any) => e.details?.permission === 'audit:read'));
  });

  test('verify reports an intact chain and the last checkpoint', async () => {
    await haven.modules.audit.checkpoint();
    const res = await admin.get('/api/v1/audit/verify');
    assert.equal(res.status, 200);
    assert.equal(res.body.ok, true);
    assert.ok(res.body.entries > 3);
    assert.ok(res.body.lastVerifiedCheckpoint);
    const platform = await operator.get('/api/v1/audit/verify?scope=platform');
    assert.equal(platform.status, 200, JSON.stringify(platform.body));
    assert.equal(platform.body.ok, true);
  });

  test('the platform\'s own events are in the platform chain; tenant creation in the tenant\'s', async () => {
    await haven.modules.audit.seal();
    const platform = await operator.get('/api/v1/audit/events?scope=platform&action=platform');
    assert.equal(platform.status, 200, JSON.stringify(platform.body));
    const actions = new Set(platform.body.items.map((e: any) => e.action));
    for (const a of ['platform.start', 'platform.migrate', 'platform.config.change']) assert.ok(actions.has(a), `${a} recorded (${[...actions].join(', ')})`);
    const tenant = await admin.get('/api/v1/audit/events?action=tenant.create');
    assert.equal(tenant.body.items.length, 1);
    const key = await admin.get('/api/v1/audit/events?action=key.tenant_key');
    assert.equal(key.body.items[0].action, 'key.tenant_key.create');
  });

  test('exports stream NDJSON and CSV, an empty range is a valid empty file, and exports are audited', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const nd = await admin.get(`/api/v1/audit/export?format=ndjson&from=${from}&to=${to}`);
    assert.equal(nd.status, 200);
    assert.match(nd.headers.get('content-type')!, /ndjson/);
    const lines = String(nd.body).trim().split('\n');
    assert.ok(lines.length > 3);
    for (const l of lines) assert.ok(JSON.parse(l).action);
    const csv = await admin.get(`/api/v1/audit/export?format=csv&from=${from}&to=${to}`);
    assert.equal(csv.status, 200);
    assert.match(String(csv.body).split('\r\n')[0]!, /action/);
    const empty = await admin.get('/api/v1/audit/export?format=ndjson&from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z');
    assert.equal(empty.status, 200);
    assert.equal(empty.body ?? '', '');
    await haven.modules.audit.seal();
    const exports = await admin.get('/api/v1/audit/events?action=audit.export');
    assert.ok(exports.body.items.length >= 3);
  });
});
