import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

export async function up(db: Kysely<any>): Promise<void> {
  // The tenant a transaction works for is set with set_config('app.tenant_id')
  // by Database.withTenant; platform work sets app.scope = 'platform'.
  await sql`
    create function haven_tenant_visible(t uuid) returns boolean language sql stable as $$
      select coalesce(current_setting('app.scope', true), '') = 'platform'
          or (coalesce(current_setting('app.scope', true), '') = 'tenant'
              and t = nullif(current_setting('app.tenant_id', true), '')::uuid)
    $$`.execute(db);

  await sql`
    create table tenants (
      id uuid primary key,
      slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
      name text not null check (length(name) between 1 and 200),
      region text not null,
      status text not null default 'active' check (status in ('active', 'ended')),
      created_at timestamptz not null default now()
    )`.execute(db);
  await tenantOwned(db, 'tenants', 'id');

  await sql`
    create table tenant_keys (
      tenant_id uuid not null references tenants(id),
      version int not null,
      wrapped_key bytea,
      created_at timestamptz not null default now(),
      destroyed_at timestamptz,
      primary key (tenant_id, version),
      check ((wrapped_key is null) = (destroyed_at is not null))
    )`.execute(db);
  await tenantOwned(db, 'tenant_keys');

  // Proves at start-up that this node holds the master key the database's
  // tenant keys were wrapped with (a keyed check value, not the key).
  await sql`
    create table keyring_check (
      id int primary key check (id = 1),
      master_key_check text not null,
      created_at timestamptz not null default now()
    )`.execute(db);

  // Fixed-window counters shared by every node (HTTP rate limits, login throttles).
  await sql`
    create table rate_limits (
      key text primary key,
      window_start timestamptz not null,
      count int not null
    )`.execute(db);
}
