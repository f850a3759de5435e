import { sql, type Kysely } from 'kysely';
import { tenantVisible } from './rls.ts';

// Row-level policies that read their settings once per statement instead of
// once per row. haven_tenant_visible(tenant_id) is inlined by the planner
// into three current_setting() calls evaluated on every row, estimated to
// keep 1% of them: at 100,000 videos that was 8–23% of the CPU time of a
// search for a word found in 17% of them, and the estimates led to plans orders of
// magnitude off (a nested loop over every collection membership for each
// match). Every policy that calls it gets the same condition in the
// form of migrations/rls.ts (the settings in sub-selects, evaluated once as
// InitPlans); the trash policy (migration 0016) reads app.trash the same way.
// The meaning of every policy stays exactly what it was. Policies that are
// already in the new form (a fresh database, where rls.ts made them so) are
// left alone.
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ table: string; name: string; using: string | null; check: string | null }>`
    select c.oid::regclass::text as table, p.polname as name,
           pg_get_expr(p.polqual, p.polrelid) as using, pg_get_expr(p.polwithcheck, p.polrelid) as check
    from pg_policy p join pg_class c on c.oid = p.polrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema()
    order by 1, 2`.execute(db);
  for (const policy of rows) {
    const using = policy.using && rewrite(policy.using);
    const check = policy.check && rewrite(policy.check);
    if (using === policy.using && check === policy.check) continue;
    const clauses = [using ? `using (${using})` : '', check ? `with check (${check})` : ''].join(' ');
    await sql`alter policy ${sql.id(policy.name)} on ${sql.raw(policy.table)} ${sql.raw(clauses)}`.execute(db);
  }
}

/** The policy expression with each per-row settings read replaced by its once-per-statement form. */
function rewrite(expression: string): string {
  return expression
    .replace(/haven_tenant_visible\(([a-z_][a-z0-9_]*)\)/g, (_, column: string) => `(${tenantVisible(column)})`)
    .replace(/(?<!select )haven_trash_visible\(\)/gi, '(select haven_trash_visible())');
}
