import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// The transfer bases a tenant (the controller) declares for sending personal
// data to a subprocessor outside its region's jurisdiction: standard
// contractual clauses, an adequacy decision, binding corporate rules, or the
// data subjects' consent. Without one, a feature that uses such a
// subprocessor cannot be turned on for the tenant.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table privacy_transfer_bases (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      subprocessor text not null check (length(subprocessor) between 1 and 200),
      basis text not null check (basis in ('scc', 'adequacy', 'bcr', 'consent')),
      note text not null default '' check (length(note) <= 2000),
      created_by uuid,
      created_at timestamptz not null default now(),
      unique (tenant_id, subprocessor)
    )`.execute(db);
  await tenantOwned(db, 'privacy_transfer_bases');
}
