// Shared by migrations: makes a table tenant-owned under FORCE ROW LEVEL
// SECURITY. Not a migration itself (the provider skips files without `up`).
import { sql, type Kysely } from 'kysely';

export async function tenantOwned(db: Kysely<any>, table: string, column = 'tenant_id'): Promise<void> {
  const t = sql.table(table);
  const visible = sql.raw(tenantVisible(column));
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`alter table ${t} force row level security`.execute(db);
  await sql`create policy tenant_isolation on ${t} using (${visible}) with check (${visible})`.execute(db);
}

/**
 * The condition that a row of this tenant column is visible: every row in the
 * platform scope, the rows of app.tenant_id in the tenant scope, none
 * otherwise — what haven_tenant_visible() (migration 0001) says. The settings
 * are read in uncorrelated sub-selects, which PostgreSQL evaluates once per
 * statement (InitPlans), so each row costs one comparison. Called as a
 * function, the condition is inlined into three current_setting() calls for
 * every row, and the planner guesses it keeps 1% of them, which misleads its
 * joins and counts. Migration 0021 rewrote the policies made before this.
 */
export function tenantVisible(column: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(column)) throw new Error(`not a plain column name: ${column}`);
  return `(select coalesce(current_setting('app.scope', true), '') = 'platform')`
    + ` or ${column} = (select case when coalesce(current_setting('app.scope', true), '') = 'tenant'`
    + ` then nullif(current_setting('app.tenant_id', true), '')::uuid end)`;
}
