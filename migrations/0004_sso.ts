import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Single sign-on with OpenID Connect, configured per tenant.
export async function up(db: Kysely<any>): Promise<void> {
  // The client secret is sealed with the tenant key, so crypto-shredding a
  // tenant also makes its IdP credentials unreadable.
  await sql`
    create table sso_providers (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      name text not null check (length(name) between 1 and 100),
      preset text not null check (preset in ('entra', 'google', 'generic')),
      issuer text not null check (issuer ~ '^https?://' and length(issuer) <= 500),
      client_id text not null check (length(client_id) between 1 and 500),
      client_secret_sealed text not null,
      allowed_domains text[] not null default '{}',
      -- owners are made by owners, never by an identity provider
      default_role text not null default 'viewer' check (default_role in ('admin', 'editor', 'viewer')),
      -- {"claim": "groups", "values": {"<claim value>": "<role>"}} or null
      role_mapping jsonb,
      enabled boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, name)
    )`.execute(db);
  await tenantOwned(db, 'sso_providers');

  // One row per sign-in attempt, looked up by the hash of its state before any
  // session exists (an explicit platform-scope read, like sessions). Used once.
  await sql`
    create table sso_login_states (
      state_hash bytea primary key,
      tenant_id uuid not null references tenants(id),
      provider_id uuid not null references sso_providers(id) on delete cascade,
      nonce text not null,
      code_verifier_sealed text not null,
      redirect_after text not null check (redirect_after like '/%' and length(redirect_after) <= 1000),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    )`.execute(db);
  await sql`create index sso_login_states_expiry on sso_login_states (tenant_id, expires_at)`.execute(db);
  await tenantOwned(db, 'sso_login_states');

  // The IdP's stable subject identifier, linked to a Haven user. Deleting the
  // provider removes its links, never the people.
  await sql`
    create table user_identities (
      provider_id uuid not null references sso_providers(id) on delete cascade,
      subject text not null check (length(subject) between 1 and 255),
      user_id uuid not null references users(id),
      tenant_id uuid not null references tenants(id),
      created_at timestamptz not null default now(),
      primary key (provider_id, subject)
    )`.execute(db);
  await sql`create index user_identities_user on user_identities (user_id)`.execute(db);
  await tenantOwned(db, 'user_identities');
}
