import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// The audit trail (see docs/decisions/0003-audit-chain-sealing.md).
//
// audit_events has no foreign key to tenants: the trail must outlive a
// tenant's offboarding for its retention period, and platform-level events use
// the reserved tenant id 00000000-0000-0000-0000-000000000000, which is not a
// tenant anyone can sign in to.

// The canonical form, version 1: the bytes an entry's hash covers, after
// prev_hash and the 8-byte big-endian chain_seq. The UTF-8 text
// "haven-audit-v1" followed, for each field below in this order, by a comma
// and the field as an SQL literal (quote_nullable: NULL, or the value in
// single quotes with quotes doubled, written E'...' with doubled backslashes
// when it holds a backslash). The time is integer milliseconds since the Unix
// epoch; json fields are PostgreSQL's canonical jsonb text. Each field is
// evaluated once, which keeps verification of a million entries to seconds.
// The erasable columns (actor_id, target_id, *_erased_as) are deliberately
// not covered, so erasing a person never breaks the chain. Changing this list
// invalidates every existing chain: add a v2 function instead.
const canonicalFields = [
  'e.tenant_id::text',
  '((extract(epoch from e.occurred_at) * 1000)::bigint)::text',
  'e.action',
  'e.outcome',
  'e.actor_type',
  'e.actor_ref',
  'e.actor_via',
  'e.actor_tenant_id::text',
  'e.target_type',
  'e.target_ref',
  'e.request_id',
  'e.ip_pseudonym',
  'e.ua_pseudonym',
  'e.diff::text',
  'e.details::text',
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_events (
      id bigserial primary key,
      tenant_id uuid not null,
      -- Millisecond precision, so a keyset cursor carried as an ISO string is exact.
      occurred_at timestamptz not null check (occurred_at = date_trunc('milliseconds', occurred_at)),
      action text not null check (length(action) <= 100 and action ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'),
      outcome text not null check (outcome in ('success', 'denied', 'failed')),
      actor_type text not null check (actor_type in ('user', 'api_token', 'support_grant', 'system', 'anonymous')),
      -- Erasable: nulled by eraseSubject; actor_ref (keyed pseudonym) is what the hash covers.
      actor_id uuid,
      actor_ref text,
      actor_via text,
      actor_tenant_id uuid,
      actor_erased_as text,
      target_type text,
      target_id text check (length(target_id) <= 200),
      target_ref text,
      target_erased_as text,
      request_id text check (length(request_id) <= 200),
      ip_pseudonym text,
      ua_pseudonym text,
      diff jsonb,
      details jsonb,
      -- Set by the sealer, never by the writer (see audit_chain_heads).
      chain_seq bigint,
      prev_hash bytea,
      hash bytea,
      check ((chain_seq is null) = (hash is null) and (hash is null) = (prev_hash is null)),
      check ((target_type is null) = (target_ref is null))
    )`.execute(db);
  // Partial: a writer's insert (unsealed) does not touch it; only sealing does.
  await sql`create unique index audit_events_chain on audit_events (tenant_id, chain_seq) where chain_seq is not null`.execute(db);
  // Small: only rows the sealer has not linked yet.
  await sql`create index audit_events_unsealed on audit_events (tenant_id, id) where chain_seq is null`.execute(db);
  await sql`create index audit_events_time on audit_events (tenant_id, occurred_at, id)`.execute(db);
  await sql`create index audit_events_actor on audit_events (tenant_id, actor_ref, occurred_at) where actor_ref is not null`.execute(db);
  await sql`create index audit_events_target on audit_events (tenant_id, target_ref, occurred_at) where target_ref is not null`.execute(db);
  await tenantOwned(db, 'audit_events');

  const body = canonicalFields.map((f) => `',' || quote_nullable(${f})`).join('\n        || ');
  // One expression over the row (no FROM), so PostgreSQL inlines it into the
  // sealer's and the verifier's queries instead of calling it per row.
  await sql`
    create function audit_canonical(e audit_events) returns bytea language sql stable parallel safe as $$
      select convert_to('haven-audit-v1' || ${sql.raw(body)}, 'UTF8')
    $$`.execute(db);

  // Append-only for everyone going through the app role: hashed content never
  // changes, chain fields are set once (by the sealer), erasable ids may only
  // become null. Verification detects what an owner does by bypassing this.
  await sql`
    create function audit_events_guard_update() returns trigger language plpgsql as $$
    begin
      if row(new.id, new.tenant_id, new.occurred_at, new.action, new.outcome, new.actor_type, new.actor_ref, new.actor_via,
             new.actor_tenant_id, new.target_type, new.target_ref, new.request_id, new.ip_pseudonym, new.ua_pseudonym, new.diff, new.details)
         is distinct from
         row(old.id, old.tenant_id, old.occurred_at, old.action, old.outcome, old.actor_type, old.actor_ref, old.actor_via,
             old.actor_tenant_id, old.target_type, old.target_ref, old.request_id, old.ip_pseudonym, old.ua_pseudonym, old.diff, old.details)
      then
        raise exception 'audit events are append-only' using errcode = 'insufficient_privilege';
      end if;
      if old.chain_seq is not null and row(new.chain_seq, new.prev_hash, new.hash) is distinct from row(old.chain_seq, old.prev_hash, old.hash) then
        raise exception 'a sealed audit event cannot be relinked' using errcode = 'insufficient_privilege';
      end if;
      if (new.actor_id is distinct from old.actor_id and new.actor_id is not null)
         or (new.target_id is distinct from old.target_id and new.target_id is not null)
         or (old.actor_erased_as is not null and new.actor_erased_as is distinct from old.actor_erased_as)
         or (old.target_erased_as is not null and new.target_erased_as is distinct from old.target_erased_as)
      then
        raise exception 'audit event subjects can only be erased' using errcode = 'insufficient_privilege';
      end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger audit_events_guard_update before update on audit_events for each row execute function audit_events_guard_update()`.execute(db);

  // Rows leave only through the retention sweep, which first writes a signed
  // 'cut' checkpoint at or above every row it deletes.
  await sql`
    create function audit_events_guard_delete() returns trigger language plpgsql as $$
    begin
      if exists (
        select 1 from (
          select d.tenant_id, bool_or(d.chain_seq is null) as unsealed, max(d.chain_seq) as top
          from deleted d group by d.tenant_id
        ) g
        where g.unsealed
           or g.top > coalesce((select max(c.chain_seq) from audit_checkpoints c where c.tenant_id = g.tenant_id and c.kind = 'cut'), 0)
      ) then
        raise exception 'audit events are removed only by the retention sweep' using errcode = 'insufficient_privilege';
      end if;
      return null;
    end $$`.execute(db);

  // One row per tenant chain: the last sealed position. Locked by the sealer.
  await sql`
    create table audit_chain_heads (
      tenant_id uuid primary key,
      chain_seq bigint not null check (chain_seq >= 0),
      hash bytea not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await tenantOwned(db, 'audit_chain_heads');

  // Signed with a key derived from the platform signing key, which is not in
  // the database: a rewrite of the table cannot produce valid signatures.
  await sql`
    create table audit_checkpoints (
      id bigserial primary key,
      tenant_id uuid not null,
      kind text not null check (kind in ('scheduled', 'cut')),
      chain_seq bigint not null check (chain_seq >= 0),
      hash bytea not null,
      created_at timestamptz not null check (created_at = date_trunc('milliseconds', created_at)),
      signature bytea not null,
      unique (tenant_id, kind, chain_seq)
    )`.execute(db);
  await sql`create index audit_checkpoints_seq on audit_checkpoints (tenant_id, chain_seq)`.execute(db);
  await tenantOwned(db, 'audit_checkpoints');

  await sql`create trigger audit_events_guard_delete after delete on audit_events referencing old table as deleted for each statement execute function audit_events_guard_delete()`.execute(db);
}
