import { sql, type Kysely } from 'kysely';

// The erasure of a data subject, step by step: a rerun after a crash reads
// which steps are done and continues. A platform table (an erasure may span
// tenants); it names the subject only by a keyed pseudonym, and its plan (the
// ids and object prefixes still to be processed) is cleared when it is done.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table privacy_erasures (
      id uuid primary key,
      subject_ref text not null,
      scope_tenant_id uuid references tenants(id),
      state text not null default 'running' check (state in ('running', 'done', 'error')),
      steps_done text[] not null default '{}',
      plan jsonb,
      report jsonb,
      requested_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      completed_at timestamptz
    )`.execute(db);
  await sql`create index privacy_erasures_subject on privacy_erasures (subject_ref, created_at desc)`.execute(db);
  await sql`create unique index privacy_erasures_one_running on privacy_erasures (subject_ref, coalesce(scope_tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)) where state <> 'done'`.execute(db);
}
