import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

export async function up(db: Kysely<any>): Promise<void> {
  // People are platform-wide (one login across the tenants they belong to);
  // what they may do is per tenant, in memberships.
  await sql`
    create table users (
      id uuid primary key,
      email text not null,
      email_normalized text not null unique,
      email_verified_at timestamptz,
      display_name text not null default '' check (length(display_name) <= 200),
      password_hash text,
      status text not null default 'active' check (status in ('active', 'disabled')),
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table memberships (
      tenant_id uuid not null references tenants(id),
      user_id uuid not null references users(id),
      role text not null check (role in ('owner', 'admin', 'editor', 'viewer')),
      created_at timestamptz not null default now(),
      primary key (tenant_id, user_id)
    )`.execute(db);
  await sql`create index memberships_user on memberships (user_id)`.execute(db);
  await tenantOwned(db, 'memberships');
}
