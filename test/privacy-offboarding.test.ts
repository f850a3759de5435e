// Offboarding: an operator ends a tenant's contract; the tenant turns
// read-only for its members (writes refused, reads fine), its full export is
// downloadable once by its owners, and after the grace period (time moved
// forward for real through destroyDue(now)) its key, objects and rows are
// destroyed and a signed certificate of deletion says so.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { unzipSync } from 'fflate';
import { encryptBuffer } from '../src/platform/crypto/stream.ts';
import { dataKeyPurpose } from '../src/modules/media/keys.ts';
import { verifyCertificate } from '../src/modules/privacy/offboarding/index.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { insertVideo } from './helpers/library.ts';
import { runHavenCommand } from './helpers/cli.ts';

const PASSWORD = 'correct horse battery staple';
const DAY = 86_400_000;

describe('offboarding', () => {
  let haven: TestHaven;
  let env: Record<string, string>;
  let owner: ApiClient;
  let operator: ApiClient;
  let other: ApiClient;
  let tenantId: string;
  let otherTenantId: string;
  let videoId: string;
  let graceEndsAt: Date;
  let downloadPath: string;
  const original = Buffer.from('the original upload, in plaintext');

  before(async () => {
    const keys = sharedKeys();
    haven = await startTestHaven({ config: keys, haven: { workers: false } });
    env = { DATABASE_URL: haven.database.url, HAVEN_DATA_DIR: haven.dataDir, HAVEN_MASTER_KEY: keys.masterKey!, HAVEN_SIGNING_KEY: keys.signingKey!, HAVEN_PSEUDONYM_KEY: keys.pseudonymKey! };
    tenantId = (await haven.modules.setup({ tenantName: 'Leaving Org', adminEmail: 'owner@leaving.test', adminPassword: PASSWORD })).tenant.id;
    otherTenantId = (await haven.modules.setup({ tenantName: 'Staying Org', adminEmail: 'owner@staying.test', adminPassword: PASSWORD })).tenant.id;
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'owner@staying.test'`);
    owner = new ApiClient(haven.url);
    await owner.signIn('owner@leaving.test', PASSWORD);
    operator = new ApiClient(haven.url);
    await operator.signIn('owner@staying.test', PASSWORD);
    other = operator;

    // A video with an encrypted original, as ingest leaves it.
    videoId = await insertVideo(haven, { tenantId, region: 'default' }, { title: 'Quarterly review' });
    const { db, keyring, storage } = haven.platform;
    const dataKey = await db.withTenant(tenantId, (tx) => keyring.newDataKey(tx, tenantId, dataKeyPurpose(videoId)));
    const key = `t/${tenantId}/v/${videoId}/original.hvn`;
    await storage.forRegion('default').put(key, encryptBuffer(dataKey.key, original));
    await storage.forRegion('default').put(`t/${tenantId}/v/${videoId}/hls/master.m3u8`, Buffer.from('#EXTM3U\n'));
    await db.withTenant(tenantId, (tx) => tx.updateTable('videos').set({ original_key: key, data_key_wrapped: dataKey.wrapped }).where('id', '=', videoId).execute());
    await storage.forRegion('default').put(`t/${otherTenantId}/keep.bin`, Buffer.from('not leaving'));
  });
  after(() => haven?.stop());

  test('only platform operators offboard; others are told no such tenant exists', async () => {
    expectError(await owner.post(`/api/v1/platform/tenants/${tenantId}/offboard`, {}), 404, 'tenant_not_found');
    const res = await operator.post(`/api/v1/platform/tenants/${tenantId}/offboard`, { graceDays: 2, includeMedia: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    graceEndsAt = new Date(res.body.graceEndsAt);
    assert.ok(Math.abs(graceEndsAt.getTime() - Date.now() - 2 * DAY) < 60_000);
    downloadPath = res.body.downloadPath;
    expectError(await operator.post(`/api/v1/platform/tenants/${tenantId}/offboard`, {}), 409, 'tenant_not_active');
  });

  test('the tenant is read-only for its members: writes refused, reads fine; other tenants unaffected', async () => {
    expectError(await owner.post('/api/v1/users', { email: 'new@leaving.test', role: 'viewer' }), 409, 'tenant_read_only');
    expectError(await owner.patch(`/api/v1/videos/${videoId}`, { title: 'renamed' }), 409, 'tenant_read_only');
    expectError(await owner.delete(`/api/v1/videos/${videoId}`), 409, 'tenant_read_only');
    assert.equal((await owner.get(`/api/v1/videos/${videoId}`)).body.title, 'Quarterly review');
    assert.equal((await owner.get('/api/v1/users')).status, 200);
    const status = await owner.get('/api/v1/tenant/offboarding');
    assert.equal(status.status, 200);
    assert.equal(status.body.exportReady, true);
    assert.equal((await other.post('/api/v1/users', { email: 'new@staying.test', role: 'viewer' })).status, 201);
    // Signing out still works.
    const second = new ApiClient(haven.url);
    await second.signIn('owner@leaving.test', PASSWORD);
    assert.equal((await second.post('/api/v1/auth/logout')).status < 300, true);
  });

  test('the export holds every table\'s rows, the object listing and the decrypted original; the link works once', async () => {
    const res = await fetch(new URL(downloadPath, haven.url), { headers: { cookie: owner.cookie! } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const json = (name: string) => JSON.parse(Buffer.from(files[name]!).toString('utf8'));
    assert.equal(json('tables/videos.json')[0].title, 'Quarterly review');
    assert.equal(json('tables/tenants.json')[0].id, tenantId);
    assert.ok(json('tables/memberships.json').length >= 1);
    assert.ok(json('tables/audit_events.json').some((e: any) => e.action === 'tenant.offboard'));
    const users = json('tables/users.json');
    assert.equal(users[0].email, 'owner@leaving.test');
    assert.equal(users[0].password_hash, '(withheld: a credential)');
    assert.ok(!files['tables/tenant_keys.json']);
    assert.deepEqual(json('objects.json').map((o: any) => o.key).sort(), [`t/${tenantId}/offboarding/export.zip.hvn`, `t/${tenantId}/v/${videoId}/hls/master.m3u8`, `t/${tenantId}/v/${videoId}/original.hvn`].filter((k) => !k.includes('offboarding')).sort());
    assert.deepEqual(Buffer.from(files[`media/${videoId}/original`]!), original);
    assert.equal(json('manifest.json').format, 'haven-tenant-export/1');
    // Encrypted at rest in the tenant's region.
    const stored = await haven.platform.storage.forRegion('default').get(`t/${tenantId}/offboarding/export.zip.hvn`);
    const raw: Buffer[] = [];
    for await (const c of stored) raw.push(c as Buffer);
    assert.ok(!Buffer.concat(raw).includes(Buffer.from('Quarterly review')));

    const again = await fetch(new URL(downloadPath, haven.url), { headers: { cookie: owner.cookie! } });
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'export_link_invalid');
    // Another tenant's owner cannot use a fresh link of this tenant.
    const link = await owner.post('/api/v1/tenant/offboarding/export-link');
    assert.equal(link.status, 200, JSON.stringify(link.body));
    const path = new URL(link.body.url).pathname + new URL(link.body.url).search;
    assert.equal((await fetch(new URL(path, haven.url), { headers: { cookie: other.cookie! } })).status, 404);
  });

  test('before the grace period ends nothing is destroyed; after it key, objects and rows go, and the certificate verifies', async () => {
    const { db, storage } = haven.platform;
    const offboarding = haven.modules.privacy.offboarding;
    assert.deepEqual(await offboarding.destroyDue(new Date(graceEndsAt.getTime() - 60_000)), []);
    assert.equal((await storage.forRegion('default').head(`t/${tenantId}/v/${videoId}/original.hvn`))?.size !== undefined, true);

    const [signed] = await offboarding.destroyDue(new Date(graceEndsAt.getTime() + 60_000));
    assert.ok(signed);
    const c = signed.certificate;
    assert.equal(c.tenant.id, tenantId);
    assert.equal(c.keys.destroyed >= 1, true);
    assert.ok(c.keys.destroyedAt);
    assert.equal(c.rows.destroyed.videos, 1);
    assert.ok((c.rows.destroyed.memberships ?? 0) >= 1);
    assert.deepEqual(c.rows.remaining, {});
    assert.equal(c.objects[0]!.destroyed, 3);
    assert.equal(c.objects[0]!.remaining, 0);
    assert.ok(c.auditChain.finalCheckpoint && c.auditChain.finalCheckpoint.chainSeq > 0);
    assert.ok(c.backups[0]!.goneBy > c.issuedAt);
    assert.ok(verifyCertificate(haven.platform.signingKey, signed));

    // Destroyed for real: key, objects, rows; the other tenant untouched.
    const key = await db.ownerPool.query('select wrapped_key, destroyed_at from tenant_keys where tenant_id = $1', [tenantId]);
    assert.ok(key.rows.every((r: { wrapped_key: unknown; destroyed_at: unknown }) => r.wrapped_key === null && r.destroyed_at));
    let left = 0;
    for await (const _ of storage.forRegion('default').list(`t/${tenantId}/`)) left++;
    assert.equal(left, 0);
    assert.ok(await storage.forRegion('default').head(`t/${otherTenantId}/keep.bin`));
    assert.equal((await db.ownerPool.query('select count(*)::int as n from videos where tenant_id = $1', [tenantId])).rows[0].n, 0);
    assert.equal((await db.ownerPool.query('select count(*)::int as n from memberships where tenant_id = $1', [tenantId])).rows[0].n, 0);
    // Its members are turned away; the platform chain records the certificate.
    assert.equal((await owner.get(`/api/v1/videos/${videoId}`)).status >= 400, true);
    const issued = await db.ownerPool.query(`select count(*)::int as n from audit_events where action = 'tenant.deletion_certificate.issue' and target_id = $1`, [tenantId]);
    assert.equal(issued.rows[0].n, 1);
    // Nothing of the tenant can be written any more.
    await assert.rejects(storage.forRegion('default').put(`t/${tenantId}/v/x/late.bin`, Buffer.from('late')));

    // A tampered certificate does not verify.
    const tampered = structuredClone(signed);
    tampered.certificate.rows.destroyed.videos = 0;
    assert.equal(verifyCertificate(haven.platform.signingKey, tampered), false);
    assert.deepEqual(await offboarding.destroyDue(new Date(graceEndsAt.getTime() + 2 * DAY)), []);
  });

  test('haven tenant certificate prints and verifies it; a tampered stored one fails', async () => {
    const r = await runHavenCommand(['tenant', 'certificate', '--tenant', tenantId], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /signature \(Ed25519\): VALID/);
    assert.match(r.stdout, /tenant leaving-org/);
    await haven.platform.db.ownerPool.query(`update tenant_offboardings set certificate = jsonb_set(certificate, '{keys,destroyed}', '0') where offboarded_tenant = $1`, [tenantId]);
    const bad = await runHavenCommand(['tenant', 'certificate', '--tenant', tenantId], env);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stdout, /signature \(Ed25519\): INVALID/);
  });
});
