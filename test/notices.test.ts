// Maintenance notices: operators publish and withdraw them (audited in the
// platform chain), everybody — signed in or not — reads the current ones,
// and nobody else may manage them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PLATFORM_TENANT_ID } from '../src/modules/audit/events.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, type Org, PASSWORD } from './helpers/library.ts';

describe('maintenance notices', () => {
  let haven: TestHaven;
  let org: Org;
  let operator: ApiClient;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Notice Org');
    await createOrg(haven, 'Ops Org');
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'owner@ops-org.test'`);
    operator = new ApiClient(haven.url);
    await operator.signIn('owner@ops-org.test', PASSWORD);
  });
  after(() => haven.stop());

  test('an operator publishes a notice; everybody reads it, the sign-in page included', async () => {
    const created = await operator.post('/api/v1/platform/notices', {
      message: { en: 'Maintenance on Sunday 02:00–04:00 UTC', sv: 'Underhåll på söndag 02:00–04:00 UTC' }, severity: 'warning',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.severity, 'warning');
    assert.equal(created.body.message.sv, 'Underhåll på söndag 02:00–04:00 UTC');

    const anonymous = new ApiClient(haven.url);
    const viewer = await org.as('viewer');
    for (const reader of [anonymous, viewer, org.owner]) {
      const current = await reader.get('/api/v1/notices');
      assert.equal(current.status, 200);
      assert.ok(current.body.items.some((n: any) => n.id === created.body.id && n.message.en.startsWith('Maintenance')));
    }

    await haven.modules.audit.seal();
    const events = await haven.modules.audit.search(PLATFORM_TENANT_ID, { action: 'platform.notice.create' });
    assert.ok(events.items.some((e: any) => e.target?.id === created.body.id || e.targetId === created.body.id), JSON.stringify(events.items));
  });

  test('future and past notices are listed for operators but not shown', async () => {
    const soon = new Date(Date.now() + 3600_000);
    const future = await operator.post('/api/v1/platform/notices', { message: { en: 'Upgrade next hour' }, startsAt: soon.toISOString(), endsAt: new Date(soon.getTime() + 3600_000).toISOString() });
    assert.equal(future.status, 201, JSON.stringify(future.body));
    const current = await org.owner.get('/api/v1/notices');
    assert.ok(!current.body.items.some((n: any) => n.id === future.body.id));
    const all = await operator.get('/api/v1/platform/notices');
    assert.equal(all.status, 200);
    assert.ok(all.body.items.some((n: any) => n.id === future.body.id));
  });

  test('bad input is refused with the error envelope', async () => {
    expectError(await operator.post('/api/v1/platform/notices', { message: { sv: 'bara svenska' } }), 400, 'invalid_request');
    expectError(await operator.post('/api/v1/platform/notices', { message: { en: 'x' }, severity: 'panic' }), 400, 'invalid_request');
    const start = new Date(Date.now() + 7200_000);
    expectError(await operator.post('/api/v1/platform/notices', { message: { en: 'backwards' }, startsAt: start.toISOString(), endsAt: new Date(start.getTime() - 1000).toISOString() }), 400, 'invalid_request');
  });

  test('only operators manage notices', async () => {
    const anonymous = new ApiClient(haven.url);
    expectError(await anonymous.post('/api/v1/platform/notices', { message: { en: 'hi' } }), 401, 'unauthenticated');
    expectError(await anonymous.get('/api/v1/platform/notices'), 401, 'unauthenticated');
    expectError(await org.owner.post('/api/v1/platform/notices', { message: { en: 'from a tenant owner' } }), 403, 'forbidden');
    expectError(await org.owner.get('/api/v1/platform/notices'), 403, 'forbidden');
    const some = (await operator.get('/api/v1/platform/notices')).body.items[0];
    expectError(await org.owner.delete(`/api/v1/platform/notices/${some.id}`), 403, 'forbidden');
  });

  test('withdrawing a notice removes it at once, audited; an unknown id is 404', async () => {
    const created = await operator.post('/api/v1/platform/notices', { message: { en: 'Short-lived' } });
    assert.equal((await operator.delete(`/api/v1/platform/notices/${created.body.id}`)).status, 204);
    assert.ok(!(await org.owner.get('/api/v1/notices')).body.items.some((n: any) => n.id === created.body.id));
    expectError(await operator.delete(`/api/v1/platform/notices/${created.body.id}`), 404, 'notice_not_found');
    await haven.modules.audit.seal();
    const events = await haven.modules.audit.search(PLATFORM_TENANT_ID, { action: 'platform.notice.delete' });
    assert.equal(events.items.length, 1);
  });
});
