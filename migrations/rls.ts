// Shared by migrations: makes a table tenant-owned under FORCE ROW LEVEL
// SECURITY. Not a migration itself (the provider skips files without `up`).
import { sql, type Kysely } from 'kysely';

export async function tenantOwned(db: Kysely<any>, table: string, column = 'tenant_id'): Promise<void> {
  const t = sql.table(table);
  const c = sql.ref(column);
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`alter table ${t} force row level security`.execute(db);
  await sql`create policy tenant_isolation on ${t} using (haven_tenant_visible(${c})) with check (haven_tenant_visible(${c}))`.execute(db);
}
