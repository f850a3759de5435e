import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table tenants
      add column security_level text not null default 'standard' check (security_level in ('standard', 'high')),
      add column settings jsonb not null default '{}'::jsonb`.execute(db);

  // People are platform-wide (one login across the tenants they belong to);
  // what they may do in a tenant is in memberships.
  await sql`
    create table users (
      id uuid primary key,
      username text not null,
      username_normalized text not null unique,
      email text not null,
      email_normalized text not null unique,
      email_verified_at timestamptz,
      display_name text not null default '' check (length(display_name) <= 200),
      preferred_language text not null default 'en' check (preferred_language in ('en', 'sv', 'fi', 'de')),
      password_hash text,
      password_changed_at timestamptz,
      status text not null default 'active' check (status in ('active', 'disabled')),
      platform_roles text[] not null default '{}' check (platform_roles <@ array['operator', 'support', 'reseller']),
      reseller_tenants uuid[] not null default '{}',
      locked_until timestamptz,
      totp_secret_sealed text,
      totp_enabled_at timestamptz,
      totp_last_step bigint,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table memberships (
      tenant_id uuid not null references tenants(id),
      user_id uuid not null references users(id),
      role text not null check (role in ('owner', 'admin', 'editor', 'viewer')),
      -- a tenant admin disables a person in their tenant only; accounts are disabled platform-wide by operators
      status text not null default 'active' check (status in ('active', 'disabled')),
      created_at timestamptz not null default now(),
      primary key (tenant_id, user_id)
    )`.execute(db);
  await sql`create index memberships_user on memberships (user_id)`.execute(db);
  await tenantOwned(db, 'memberships');

  // Sessions are found by the hash of their cookie value before the tenant is
  // known; that lookup is an explicit platform-scope read.
  await sql`
    create table sessions (
      id uuid primary key,
      token_hash bytea not null unique,
      user_id uuid not null references users(id),
      -- null for platform staff working outside any tenant
      tenant_id uuid references tenants(id),
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      expires_at timestamptz not null,
      idle_timeout_seconds int not null,
      mfa_at timestamptz,
      reauth_at timestamptz,
      ip_pseudonym text,
      user_agent_summary text,
      revoked_at timestamptz,
      revoked_reason text
    )`.execute(db);
  await sql`create index sessions_user on sessions (user_id) where revoked_at is null`.execute(db);
  await tenantOwned(db, 'sessions');

  await sql`
    create table api_tokens (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      user_id uuid not null references users(id),
      name text not null check (length(name) between 1 and 100),
      token_hash bytea not null unique,
      scopes text[] not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  await sql`create index api_tokens_user on api_tokens (tenant_id, user_id)`.execute(db);
  await tenantOwned(db, 'api_tokens');

  await sql`
    create table password_resets (
      token_hash bytea primary key,
      user_id uuid not null references users(id),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    )`.execute(db);

  await sql`
    create table recovery_codes (
      user_id uuid not null references users(id),
      code_hash bytea not null,
      used_at timestamptz,
      primary key (user_id, code_hash)
    )`.execute(db);

  // Consent documents of the platform (tenant_id null) and of each tenant.
  await sql`
    create table consent_documents (
      id uuid primary key,
      tenant_id uuid references tenants(id),
      kind text not null check (kind in ('terms', 'privacy_notice', 'dpa')),
      version int not null check (version > 0),
      title text not null,
      body text not null,
      audience text not null default 'all' check (audience in ('all', 'owners')),
      legal_basis text not null default 'contract' check (legal_basis in ('consent', 'contract', 'legal_obligation')),
      published_at timestamptz not null default now(),
      unique nulls not distinct (tenant_id, kind, version)
    )`.execute(db);
  await sql`alter table consent_documents enable row level security`.execute(db);
  await sql`alter table consent_documents force row level security`.execute(db);
  await sql`create policy tenant_isolation on consent_documents
    using (tenant_id is null or haven_tenant_visible(tenant_id))
    with check (tenant_id is null and coalesce(current_setting('app.scope', true), '') = 'platform' or haven_tenant_visible(tenant_id))`.execute(db);

  // Append-only: the app role may insert and read, never change or remove.
  await sql`
    create table consent_records (
      id uuid primary key,
      -- the tenant the person acted in; null for platform staff outside tenants
      tenant_id uuid references tenants(id),
      user_id uuid not null references users(id),
      document_id uuid not null references consent_documents(id),
      document_kind text not null,
      document_version int not null,
      decision text not null check (decision in ('accepted', 'declined', 'withdrawn')),
      method text not null check (method in ('form', 'sso', 'api')),
      ip_pseudonym text,
      user_agent_summary text,
      recorded_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index consent_records_user on consent_records (user_id, document_id, recorded_at desc)`.execute(db);
  await tenantOwned(db, 'consent_records');
}
