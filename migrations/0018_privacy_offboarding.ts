import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Tenant offboarding: a tenant whose contract ended is read-only for a grace
// period with its full export ready, then destroyed. The offboarding row is
// keyed by offboarded_tenant (not tenant_id) on purpose: destroying "every
// row with the tenant's tenant_id" must leave the record and its signed
// certificate of deletion behind. It has no foreign key for the same reason.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table tenants drop constraint if exists tenants_status_check`.execute(db);
  await sql`alter table tenants add constraint tenants_status_check check (status in ('active', 'offboarding', 'ended'))`.execute(db);

  await sql`
    create table tenant_offboardings (
      offboarded_tenant uuid primary key,
      region text not null,
      requested_at timestamptz not null,
      requested_via text not null check (requested_via in ('cli', 'api')),
      grace_ends_at timestamptz not null,
      include_media boolean not null default false,
      export_key text,
      export_key_wrapped text,
      export_bytes bigint,
      export_sha256 text,
      export_ready_at timestamptz,
      download_token_hash bytea,
      download_expires_at timestamptz,
      downloaded_at timestamptz,
      destroy_started_at timestamptz,
      counts_before jsonb,
      destroyed_at timestamptz,
      certificate jsonb,
      certificate_signature text
    )`.execute(db);
  await sql`create index tenant_offboardings_due on tenant_offboardings (grace_ends_at) where destroyed_at is null`.execute(db);
  await tenantOwned(db, 'tenant_offboardings', 'offboarded_tenant');
}
