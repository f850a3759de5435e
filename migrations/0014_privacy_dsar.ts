import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Data-subject requests (access, erasure, rectification, restriction), their
// export archives, the restriction flags other modules read, and each
// tenant's DSAR settings. A request with tenant_id null was filed by a
// platform operator across tenants: only platform scope sees it (the RLS
// policy compares tenant_id with the transaction's tenant, and null matches
// no tenant). See docs/privacy/dsar.md.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table privacy_requests (
      id uuid primary key,
      tenant_id uuid references tenants(id),
      type text not null check (type in ('access', 'erasure', 'rectification', 'restriction')),
      channel text not null check (channel in ('self', 'tenant_admin', 'operator', 'public')),
      -- the subject's own address, normalized: the identifier the request is about
      subject_email text not null check (length(subject_email) between 3 and 320),
      -- who filed it (null for the unauthenticated channel)
      requested_by uuid,
      state text not null check (state in ('identity_unverified', 'pending', 'approved', 'in_processing', 'complete', 'denied', 'error')),
      -- what the subject asks to have corrected, or the admin's note
      note text default '' check (length(note) <= 4000),
      language text not null default 'en',
      received_at timestamptz not null default now(),
      due_at timestamptz not null,
      -- one-time code of the unauthenticated channel (sha-256 of code and request id), valid 10 minutes
      code_hash bytea,
      code_expires_at timestamptz,
      code_attempts int not null default 0,
      verified_at timestamptz,
      decided_by uuid,
      decided_at timestamptz,
      decision_reason text check (length(decision_reason) <= 2000),
      started_at timestamptz,
      completed_at timestamptz,
      reminders_sent int not null default 0,
      last_reminded_at timestamptz,
      overdue_at timestamptz,
      result jsonb,
      error text check (length(error) <= 2000),
      updated_at timestamptz not null default now()
    )`.execute(db);
  // One open request per subject, type and tenant (null tenant: the operator's platform-wide one).
  await sql`
    create unique index privacy_requests_open on privacy_requests
      (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), type, subject_email)
      where state in ('identity_unverified', 'pending', 'approved', 'in_processing')`.execute(db);
  await sql`create index privacy_requests_tenant on privacy_requests (tenant_id, state, received_at desc)`.execute(db);
  await sql`create index privacy_requests_due on privacy_requests (due_at) where state in ('pending', 'approved', 'in_processing')`.execute(db);
  await sql`create index privacy_requests_requester on privacy_requests (requested_by, received_at desc)`.execute(db);
  await sql`create index privacy_requests_subject on privacy_requests (subject_email)`.execute(db);
  await tenantOwned(db, 'privacy_requests');

  await sql`
    create table privacy_exports (
      id uuid primary key,
      tenant_id uuid references tenants(id),
      request_id uuid not null references privacy_requests(id),
      region text not null,
      object_key text not null,
      -- the archive's data key, wrapped by the tenant key (or, tenant_id null, sealed by the platform key)
      data_key_wrapped text not null,
      size_bytes bigint not null,
      -- sha-256 of the one-time download token; replaced when a new link is made
      token_hash bytea unique,
      link_created_at timestamptz,
      downloaded_at timestamptz,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      deleted_at timestamptz
    )`.execute(db);
  await sql`create index privacy_exports_request on privacy_exports (request_id)`.execute(db);
  await sql`create index privacy_exports_expiry on privacy_exports (expires_at) where deleted_at is null`.execute(db);
  await tenantOwned(db, 'privacy_exports');

  // Art. 18: the subject's data may be stored but not otherwise processed.
  await sql`
    create table privacy_restrictions (
      tenant_id uuid not null references tenants(id),
      subject_kind text not null check (subject_kind in ('user', 'audience')),
      subject_id text not null,
      request_id uuid references privacy_requests(id),
      created_at timestamptz not null default now(),
      lifted_at timestamptz,
      primary key (tenant_id, subject_kind, subject_id)
    )`.execute(db);
  await tenantOwned(db, 'privacy_restrictions');

  await sql`
    create table privacy_dsar_settings (
      tenant_id uuid primary key references tenants(id),
      require_approval boolean not null default false,
      -- media originals up to this many bytes in total go into an access archive; 0 = links only
      export_media_limit_bytes bigint not null default 0 check (export_media_limit_bytes >= 0),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await tenantOwned(db, 'privacy_dsar_settings');

  // The subject lookups of export and erasure (subject/rows.ts) go by person,
  // across tenants; the owning modules index these columns by tenant only, or not at all.
  await sql`create index privacy_audit_actor_id on audit_events (actor_id) where actor_id is not null`.execute(db);
  await sql`create index privacy_audit_target_user on audit_events (target_id) where target_type = 'user'`.execute(db);
  await sql`create index privacy_analytics_viewer_user on analytics_sessions (viewer_user_id) where viewer_user_id is not null`.execute(db);
  await sql`create index privacy_analytics_viewer_audience on analytics_sessions (viewer_audience_id) where viewer_audience_id is not null`.execute(db);
  await sql`create index privacy_audience_email on audience_accounts (lower(email)) where email is not null`.execute(db);
  await sql`create index privacy_invitations_email on invitations (email_normalized)`.execute(db);
}
