// Tenant media limits over HTTP and the CLI: admins read the limits in force
// and the storage in use; only platform operators change them (everyone else
// is told the tenant does not exist), every change is audited with its diff,
// and a lowered limit refuses the next upload.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addMember } from '../src/modules/identity/users.ts';
import { expectNoA11yViolations, hasHorizontalScroll, launchBrowser, openPage, screenshot, assertSameOrigin } from './helpers/browser.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { runHavenCommand } from './helpers/cli.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { type Owner, PASSWORD, signedInOwner, tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { createUpload, expectEnvelope } from './fixtures/media-http.ts';

const GiB = 1024 ** 3;
const DEFAULTS = { storage: 500 * GiB, file: 20 * GiB, duration: 4 * 3600 };

describe('tenant media quotas', () => {
  let haven: TestHaven;
  let owner: Owner;
  let operator: ApiClient;
  let dir: string;
  let env: Record<string, string>;
  const quotasPath = () => `/api/v1/platform/tenants/${owner.tenantId}/quotas`;
  const member = async (email: string, role: 'admin' | 'editor') => {
    await haven.platform.db.withTenant(owner.tenantId, (tx) => addMember(tx, owner.tenantId, { email, password: PASSWORD, role, emailVerified: true }));
    const api = new ApiClient(haven.url);
    await api.signIn(email, PASSWORD);
    return api;
  };
  const auditOf = async (tenantId: string) => (await haven.platform.db.ownerPool.query(
    `select tenant_id, actor_type, actor_via, actor_id, target_type, target_id, diff from audit_events where action = 'tenant.quotas.update' and tenant_id = $1 order by id`, [tenantId])).rows;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-quotas-'));
    const keys = sharedKeys();
    haven = await startTestHaven({ config: keys });
    owner = await signedInOwner(haven, 'Quota Org', 'owner@quota.test');
    // An operator is a member of another organization with the platform role.
    await haven.modules.setup({ tenantName: 'Ops Org', adminEmail: 'ops@ops.test', adminPassword: PASSWORD });
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'ops@ops.test'`);
    operator = new ApiClient(haven.url);
    await operator.signIn('ops@ops.test', PASSWORD);
    // The CLI runs beside the server on the same installation: same database, same root keys.
    env = { DATABASE_URL: haven.database.url, HAVEN_DATA_DIR: join(dir, 'cli'), HAVEN_MASTER_KEY: keys.masterKey!, HAVEN_SIGNING_KEY: keys.signingKey!, HAVEN_PSEUDONYM_KEY: keys.pseudonymKey! };
  });
  after(async () => {
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('owners and admins read the limits in force, each with its source; editors and strangers do not', async () => {
    const res = await owner.api.get('/api/v1/tenant/quotas');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.storageBytes, { value: DEFAULTS.storage, source: 'default', default: DEFAULTS.storage });
    assert.deepEqual(res.body.maxFileBytes, { value: DEFAULTS.file, source: 'default', default: DEFAULTS.file });
    assert.deepEqual(res.body.maxDurationSeconds, { value: DEFAULTS.duration, source: 'default', default: DEFAULTS.duration });
    assert.deepEqual(res.body.usage, { storedBytes: 0, uploadingBytes: 0 });
    assert.equal(res.body.updatedAt, null);

    const admin = await member('admin@quota.test', 'admin');
    assert.equal((await admin.get('/api/v1/tenant/quotas')).status, 200);
    expectError(await (await member('editor@quota.test', 'editor')).get('/api/v1/tenant/quotas'), 403, 'forbidden');
    expectError(await new ApiClient(haven.url).get('/api/v1/tenant/quotas'), 401, 'unauthenticated');

    // Changing them: not the tenant's own owner or admin, only a platform operator; the others learn nothing.
    for (const api of [owner.api, admin]) expectError(await api.call('PUT', quotasPath(), { storageBytes: 10 * GiB }), 404, 'tenant_not_found');
    expectError(await operator.call('PUT', '/api/v1/platform/tenants/00000000-0000-4000-8000-000000000000/quotas', { storageBytes: 10 * GiB }), 404, 'tenant_not_found');
    assert.equal((await owner.api.get('/api/v1/tenant/quotas')).body.storageBytes.source, 'default', 'nothing changed');
    assert.deepEqual(await auditOf(owner.tenantId), []);
  });

  test('operators set and reset limits; bad values are refused with the field named; every change is audited with its diff', async () => {
    for (const [body, field] of [
      [{ storageBytes: 0 }, /storageBytes/], [{ maxFileBytes: -5 }, /maxFileBytes/], [{ storageBytes: 1.5 }, /storageBytes/],
      [{ maxDurationSeconds: 24 * 3600 + 1 }, /maxDurationSeconds/], [{ storageBytes: '10' }, /storageBytes/], [{ bandwidth: 1 }, /bandwidth|unrecognized/i],
    ] as const) {
      const res = await operator.call('PUT', quotasPath(), body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(JSON.stringify(res.body.error), field);
    }
    expectError(await operator.call('PUT', quotasPath(), {}), 400, 'invalid_quota');
    expectError(await operator.call('PUT', `/api/v1/platform/tenants/not-a-uuid/quotas`, { storageBytes: 1 }), 400, 'invalid_request');

    const set = await operator.call('PUT', quotasPath(), { storageBytes: 10 * GiB, maxDurationSeconds: 600 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.storageBytes, { value: 10 * GiB, source: 'tenant', default: DEFAULTS.storage });
    assert.deepEqual(set.body.maxFileBytes, { value: DEFAULTS.file, source: 'default', default: DEFAULTS.file });
    assert.deepEqual(set.body.maxDurationSeconds, { value: 600, source: 'tenant', default: DEFAULTS.duration });
    assert.ok(set.body.updatedAt);
    assert.deepEqual((await owner.api.get('/api/v1/tenant/quotas')).body.maxDurationSeconds.value, 600, 'the tenant sees the operator\'s limit');

    // null returns one limit to the default; the others stay.
    const reset = await operator.call('PUT', quotasPath(), { maxDurationSeconds: null });
    assert.deepEqual(reset.body.maxDurationSeconds, { value: DEFAULTS.duration, source: 'default', default: DEFAULTS.duration });
    assert.equal(reset.body.storageBytes.source, 'tenant');
    await operator.call('PUT', quotasPath(), { storageBytes: null });

    const events = await auditOf(owner.tenantId);
    assert.equal(events.length, 3, 'one event per change, none for the refused ones');
    const operatorId = (await haven.platform.db.ownerPool.query(`select id from users where email_normalized = 'ops@ops.test'`)).rows[0].id;
    for (const e of events) {
      assert.equal(e.actor_type, 'user');
      assert.equal(e.actor_id, operatorId);
      assert.deepEqual([e.target_type, e.target_id], ['tenant', owner.tenantId]);
    }
    assert.deepEqual(events[0].diff, { storageBytes: { from: null, to: 10 * GiB }, maxDurationSeconds: { from: null, to: 600 } });
    assert.deepEqual(events[1].diff, { maxDurationSeconds: { from: 600, to: null } }, 'only what changed is in the diff');
    assert.deepEqual(events[2].diff, { storageBytes: { from: 10 * GiB, to: null } });
    assert.equal((await owner.api.get('/api/v1/tenant/quotas')).body.storageBytes.source, 'default');
  });

  test('usage counts an upload in progress by its declared length, then the stored objects of the finished video', async () => {
    const clip = readFileSync(makeClip(dir, 'tiny', { width: 160, height: 120, seconds: 1 }));
    const pending = await createUpload(owner.api, clip.length, { filename: 'tiny.mov' });
    assert.equal(pending.res.status, 201);
    assert.deepEqual((await owner.api.get('/api/v1/tenant/quotas')).body.usage, { storedBytes: 0, uploadingBytes: clip.length });
    await owner.api.call('DELETE', pending.path, undefined, { 'tus-resumable': '1.0.0' });

    const { videoId } = await tusUpload(haven.url, owner.api, clip, { filename: 'tiny.mov' });
    await waitForStatus(owner.api, videoId, 'ready');
    const usage = (await owner.api.get('/api/v1/tenant/quotas')).body.usage;
    const stored = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select('stored_bytes').where('id', '=', videoId).executeTakeFirstOrThrow());
    assert.equal(usage.uploadingBytes, 0);
    assert.ok(Number(stored.stored_bytes) >= clip.length, 'the encrypted original alone is as large as the clip');
    assert.equal(usage.storedBytes, Number(stored.stored_bytes));
  });

  test('a limit an operator lowers refuses the next upload; reset, it is accepted again', async () => {
    const clip = readFileSync(makeClip(dir, 'small', { width: 160, height: 120, seconds: 1 }));
    await operator.call('PUT', quotasPath(), { maxFileBytes: clip.length - 1 });
    const tooLarge = await createUpload(owner.api, clip.length);
    expectEnvelope(tooLarge.res, 413, 'file_too_large');
    assert.equal(tooLarge.videoId, '', 'no video was created');

    const used = (await owner.api.get('/api/v1/tenant/quotas')).body.usage.storedBytes as number;
    await operator.call('PUT', quotasPath(), { maxFileBytes: null, storageBytes: used + clip.length - 1 });
    expectEnvelope((await createUpload(owner.api, clip.length)).res, 413, 'storage_quota_exceeded');

    await operator.call('PUT', quotasPath(), { storageBytes: null });
    const accepted = await createUpload(owner.api, clip.length);
    assert.equal(accepted.res.status, 201, JSON.stringify(accepted.res.body));
    await owner.api.call('DELETE', accepted.path, undefined, { 'tus-resumable': '1.0.0' });
  });

  test('haven tenant quotas prints the limits in force, changes them, and refuses bad values with exit 2', async () => {
    const slug = (await owner.api.get('/api/v1/tenant')).body.slug as string;
    const cli = (...args: string[]) => runHavenCommand(['tenant', 'quotas', ...args], env);
    const shown = await cli('--tenant', slug);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`limits of ${slug}:`));
    assert.match(shown.stdout, new RegExp(`storage-bytes\\s+${DEFAULTS.storage}\\s+platform default`));
    assert.match(shown.stdout, new RegExp(`max-duration-seconds\\s+${DEFAULTS.duration}\\s+platform default`));
    assert.match(shown.stdout, /stored-bytes\s+[1-9]\d*\n/);

    const changed = await cli('--tenant', slug, '--storage-bytes', String(2 * GiB), '--max-duration-seconds', '900');
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stdout, new RegExp(`updated ${slug}:`));
    assert.match(changed.stdout, new RegExp(`storage-bytes\\s+${2 * GiB}\\s+set for this tenant`));
    assert.match(changed.stdout, /max-duration-seconds\s+900\s+set for this tenant/);
    assert.match(changed.stdout, new RegExp(`max-file-bytes\\s+${DEFAULTS.file}\\s+platform default`));
    const seen = (await owner.api.get('/api/v1/tenant/quotas')).body;
    assert.deepEqual([seen.storageBytes.value, seen.maxDurationSeconds.source], [2 * GiB, 'tenant']);

    const reset = await cli('--tenant', slug, '--storage-bytes', 'default', '--max-duration-seconds', 'default');
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stdout, new RegExp(`storage-bytes\\s+${DEFAULTS.storage}\\s+platform default`));
    const events = await auditOf(owner.tenantId);
    assert.deepEqual(events.slice(-2).map((e) => [e.actor_type, e.actor_via]), [['system', 'job:operator'], ['system', 'job:operator']]);

    for (const [args, pattern] of [
      [['--storage-bytes', 'lots'], /--storage-bytes must be a whole number or "default"/],
      [['--max-duration-seconds', '90000'], /--max-duration-seconds/],
      [['--max-file-bytes', '0'], /--max-file-bytes/],
    ] as const) {
      const r = await cli('--tenant', slug, ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
    const nowhere = await cli('--tenant', 'nowhere');
    assert.equal(nowhere.status, 2, nowhere.stderr);
    assert.match(nowhere.stderr, /No tenant has the slug "nowhere"/);
    assert.equal((await auditOf(owner.tenantId)).length, events.length, 'refused commands changed nothing');
  });

  test('the admin settings page shows the limits, who set them and the usage, read-only', async () => {
    await operator.call('PUT', quotasPath(), { storageBytes: 2_000_000_000 });
    const browser = await launchBrowser();
    try {
      const { page, requests } = await openPage(browser, haven, { signedInAs: { email: 'owner@quota.test', password: PASSWORD }, path: '/admin/settings' });
      const quotas = page.getByTestId('quotas');
      await quotas.waitFor();
      const storage = await page.getByTestId('quota-storage').textContent();
      assert.match(storage!, /of 2 GB used/);
      assert.match(await quotas.textContent() ?? '', /Set for this organization/);
      assert.equal(await page.getByTestId('quota-max-file').textContent(), '21.5 GB');
      assert.equal(await page.getByTestId('quota-max-duration').textContent(), '4 hours');
      assert.match(await page.getByTestId('quotas-note').textContent() ?? '', /platform operator sets these limits/);
      assert.equal(await page.getByRole('meter', { name: 'Storage' }).count(), 1);
      assert.equal(await quotas.locator('input, select, button').count(), 0, 'read-only for tenant admins');
      await expectNoA11yViolations(page, 'admin settings quotas');
      assertSameOrigin(requests, haven.url);
      await page.setViewportSize({ width: 360, height: 800 });
      assert.equal(await hasHorizontalScroll(page), false);
      await screenshot(page, 'admin-settings-quotas');
    } finally {
      await browser.close();
      await operator.call('PUT', quotasPath(), { storageBytes: null });
    }
  });
});
