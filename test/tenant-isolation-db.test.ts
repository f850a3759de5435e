// Row-level security is the backbone of tenant isolation: a query that forgets
// its tenant filter still sees only the current tenant's rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

describe('row-level security', () => {
  let haven: TestHaven;
  let a: string;
  let b: string;
  before(async () => {
    haven = await startTestHaven();
    a = (await haven.modules.tenants.create({ name: 'Tenant A' })).id;
    b = (await haven.modules.tenants.create({ name: 'Tenant B' })).id;
  });
  after(() => haven.stop());

  test('a query without a tenant filter returns only the current tenant', async () => {
    const rows = await haven.platform.db.withTenant(a, (tx) => tx.selectFrom('tenant_keys').select('tenant_id').execute());
    assert.ok(rows.length >= 1);
    assert.ok(rows.every((r) => r.tenant_id === a));
    const tenants = await haven.platform.db.withTenant(b, (tx) => tx.selectFrom('tenants').select('id').execute());
    assert.deepEqual(tenants.map((t) => t.id), [b]);
  });

  test('without a tenant set, tenant-owned tables look empty', async () => {
    const rows = await haven.platform.db.app.selectFrom('tenants').select('id').execute();
    assert.equal(rows.length, 0);
  });

  test('writing a row for another tenant is refused', async () => {
    await assert.rejects(
      haven.platform.db.withTenant(a, (tx) => tx.insertInto('tenant_keys').values({ tenant_id: b, version: 99, wrapped_key: Buffer.alloc(1) }).execute()),
      /row-level security/,
    );
    const updated = await haven.platform.db.withTenant(a, (tx) => tx.updateTable('tenants').set({ name: 'hijacked' }).where('id', '=', b).executeTakeFirst());
    assert.equal(Number(updated.numUpdatedRows), 0);
  });

  test('platform scope sees every tenant (explicitly)', async () => {
    const rows = await haven.platform.db.withPlatform((tx) => tx.selectFrom('tenants').select('id').execute());
    assert.ok(rows.some((r) => r.id === a) && rows.some((r) => r.id === b));
  });

  test('the app role owns no table and cannot bypass RLS', async () => {
    const { rows } = await sql<{ rolbypassrls: boolean; rolsuper: boolean; owns: number }>`
      select r.rolbypassrls, r.rolsuper,
             (select count(*)::int from pg_tables t where t.schemaname = 'public' and t.tableowner = current_user) as owns
      from pg_roles r where r.rolname = current_user`.execute(haven.platform.db.app);
    assert.deepEqual(rows[0], { rolbypassrls: false, rolsuper: false, owns: 0 });
  });

  test('every tenant-owned table forces row-level security', async () => {
    const { rows } = await haven.platform.db.ownerPool.query(`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r'
        and exists (select 1 from information_schema.columns col where col.table_name = c.relname and col.table_schema = 'public' and col.column_name = 'tenant_id')`);
    assert.ok(rows.length > 0);
    for (const r of rows) assert.ok(r.relrowsecurity && r.relforcerowsecurity, `${r.relname} must FORCE ROW LEVEL SECURITY`);
  });

  test('migrations are safe when two nodes run them at once', async () => {
    const { migrateToLatest } = await import('../src/platform/db/migrate.ts');
    const results = await Promise.all([migrateToLatest(haven.platform.db.ownerPool), migrateToLatest(haven.platform.db.ownerPool)]);
    assert.deepEqual(results.map((r) => r.applied.length), [0, 0]);
  });
});
