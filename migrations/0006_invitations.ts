import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

export async function up(db: Kysely<any>): Promise<void> {
  // An invitation belongs to the tenant that sent it. The link carries a
  // 256-bit token; only its SHA-256 is stored. It is found by that hash before
  // the tenant is known (a platform-scope read), then changed in tenant scope.
  await sql`
    create table invitations (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      email text not null check (length(email) <= 254),
      email_normalized text not null check (length(email_normalized) <= 254),
      role text not null check (role in ('owner', 'admin', 'editor', 'viewer')),
      -- the language of the invitation mail, and of the account it creates
      language text not null default 'en' check (language in ('en', 'sv', 'fi', 'de')),
      -- null when an operator invited from the command line
      invited_by uuid references users(id) on delete set null,
      token_hash bytea not null unique,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now(),
      check (accepted_at is null or revoked_at is null)
    )`.execute(db);
  // At most one open invitation per address and tenant; an expired one stays
  // open until it is resent or revoked.
  await sql`create unique index invitations_open on invitations (tenant_id, email_normalized) where accepted_at is null and revoked_at is null`.execute(db);
  await sql`create index invitations_tenant on invitations (tenant_id, created_at desc)`.execute(db);
  await tenantOwned(db, 'invitations');

  // People are platform-wide, so proof of their mailbox is too. A token is
  // bound to the address it was sent to: after an email change it no longer
  // verifies anything.
  await sql`
    create table email_verifications (
      token_hash bytea primary key,
      user_id uuid not null references users(id) on delete cascade,
      email_normalized text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    )`.execute(db);
  await sql`create index email_verifications_user on email_verifications (user_id)`.execute(db);
}
