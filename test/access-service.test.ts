// The bulk access check: many ids, one answer, other tenants' ids dropped.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

describe('access service', () => {
  let haven: TestHaven;
  let a: { tenantId: string; users: string[] };
  let b: { tenantId: string; users: string[] };
  const ctxFor = (tenantId: string, role: 'viewer' | 'admin'): RequestContext => ({ tenantId, actor: { type: 'user', userId: '00000000-0000-4000-8000-000000000001', tenantId, role, platformRoles: [] } });

  before(async () => {
    haven = await startTestHaven({ haven: { http: false, workers: false } });
    const mk = async (name: string) => {
      const { tenant } = await haven.modules.setup({ tenantName: name, adminEmail: `owner@${name.toLowerCase()}.test`, adminPassword: 'correct horse battery staple' });
      const users = (await haven.platform.db.withTenant(tenant.id, (tx) => tx.selectFrom('memberships').select('user_id').execute())).map((r) => r.user_id);
      return { tenantId: tenant.id, users };
    };
    a = await mk('Alpha');
    b = await mk('Beta');
  });
  after(() => haven.stop());

  test('filters many ids at once to those of the actor\'s tenant', async () => {
    const { access } = haven.modules.identity;
    const ids = [...a.users, ...b.users, 'not-a-uuid', '00000000-0000-4000-8000-00000000dead'];
    assert.deepEqual(await access.filter(ctxFor(a.tenantId, 'admin'), 'users:read', 'user', ids), a.users);
    assert.deepEqual(await access.filter(ctxFor(b.tenantId, 'admin'), 'users:read', 'user', ids), b.users);
  });

  test('assertAll answers not found for a foreign id, forbidden without the permission', async () => {
    const { access } = haven.modules.identity;
    await access.assertAll(ctxFor(a.tenantId, 'admin'), 'users:write', 'user', a.users);
    await assert.rejects(access.assertAll(ctxFor(a.tenantId, 'admin'), 'users:write', 'user', [...a.users, b.users[0]!]), (e: { status?: number }) => e.status === 404);
    await assert.rejects(access.assertAll(ctxFor(a.tenantId, 'viewer'), 'users:write', 'user', a.users), (e: { status?: number }) => e.status === 403);
  });
});
