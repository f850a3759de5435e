import { sql, type Kysely } from 'kysely';

// Maintenance notices: platform operators announce planned work or an
// incident to everybody (the sign-in page included). Platform-wide, so not
// tenant-owned; the text is the operator's announcement, in each language
// the UI speaks (English required, the others fall back to it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table platform_notices (
      id uuid primary key,
      message jsonb not null check (jsonb_typeof(message) = 'object' and message ? 'en'),
      severity text not null check (severity in ('info', 'warning')),
      starts_at timestamptz not null,
      ends_at timestamptz,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      check (ends_at is null or ends_at > starts_at)
    )`.execute(db);
  await sql`create index platform_notices_current on platform_notices (starts_at, ends_at)`.execute(db);
}
