// SQL for the audit tables; nothing else touches them. Every function runs in
// the caller's transaction, scoped by row-level security.
import { type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { Db, Tx } from '../../platform/db/database.ts';
import type { Checkpoint, CheckpointKind } from './chain.ts';
import type { AuditRow } from './events.ts';

export interface Head { tenantId: string; chainSeq: number; hash: Buffer }

export interface AuditEntry {
  id: number;
  tenantId: string;
  /** Null until the sealer has linked the entry into its tenant's chain. */
  chainSeq: number | null;
  occurredAt: string;
  action: string;
  outcome: string;
  actor: { type: string; id: string | null; ref: string | null; via: string | null; tenantId: string | null; erasedAs: string | null };
  target: { type: string; id: string | null; ref: string; erasedAs: string | null } | null;
  requestId: string | null;
  ipPseudonym: string | null;
  uaPseudonym: string | null;
  diff: unknown;
  details: unknown;
  prevHash: string | null;
  hash: string | null;
}

const utcMillis = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** Free-form text as a JSON value (escaped string or null). */
const jsonText = (column: string) => `coalesce(to_json(${column})::text, 'null')`;
/** Text the schema constrains to JSON-safe characters (uuid, hex, checked enums and patterns). */
const jsonSafe = (expr: string) => `coalesce('"' || ${expr} || '"', 'null')`;

/**
 * An entry as one line of JSON, assembled by PostgreSQL: search parses it and
 * the NDJSON export streams it as is. Plain concatenation, because
 * json_build_object costs ~15 µs a row and parsing and re-serializing every
 * field in Node would dominate a million-entry export.
 */
const entryJson = sql.raw(`'{"id":' || id
  || ',"tenantId":"' || tenant_id
  || '","chainSeq":' || coalesce(chain_seq::text, 'null')
  || ',"occurredAt":"' || to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  || '","action":"' || action
  || '","outcome":"' || outcome
  || '","actor":{"type":"' || actor_type
  || '","id":' || ${jsonSafe('actor_id')}
  || ',"ref":' || ${jsonText('actor_ref')}
  || ',"via":' || ${jsonText('actor_via')}
  || ',"tenantId":' || ${jsonSafe('actor_tenant_id')}
  || ',"erasedAs":' || ${jsonText('actor_erased_as')}
  || '},"target":' || case when target_type is null then 'null' else
       '{"type":' || ${jsonText('target_type')} || ',"id":' || ${jsonText('target_id')} || ',"ref":' || ${jsonText('target_ref')} || ',"erasedAs":' || ${jsonText('target_erased_as')} || '}' end
  || ',"requestId":' || ${jsonText('request_id')}
  || ',"ipPseudonym":' || ${jsonText('ip_pseudonym')}
  || ',"uaPseudonym":' || ${jsonText('ua_pseudonym')}
  || ',"diff":' || coalesce(diff::text, 'null')
  || ',"details":' || coalesce(details::text, 'null')
  || ',"prevHash":' || ${jsonSafe("encode(prev_hash, 'hex')")}
  || ',"hash":' || ${jsonSafe("encode(hash, 'hex')")}
  || '}'`);

const textColumn = (name: string, expr = name) => [name, sql.raw(expr)] as const;

/** The CSV export's columns, in order, each selected as text. */
export const csvColumns = [
  textColumn('id', 'id::text'),
  textColumn('chain_seq', 'chain_seq::text'),
  ['occurred_at', utcMillis('occurred_at')] as const,
  textColumn('tenant_id', 'tenant_id::text'),
  textColumn('action'),
  textColumn('outcome'),
  textColumn('actor_type'),
  textColumn('actor_id', 'actor_id::text'),
  textColumn('actor_ref'),
  textColumn('actor_via'),
  textColumn('actor_tenant_id', 'actor_tenant_id::text'),
  textColumn('actor_erased_as'),
  textColumn('target_type'),
  textColumn('target_id'),
  textColumn('target_ref'),
  textColumn('target_erased_as'),
  textColumn('request_id'),
  textColumn('ip_pseudonym'),
  textColumn('ua_pseudonym'),
  textColumn('diff', 'diff::text'),
  textColumn('details', 'details::text'),
  textColumn('prev_hash', `encode(prev_hash, 'hex')`),
  textColumn('hash', `encode(hash, 'hex')`),
];

// ── writing ──────────────────────────────────────────────────────────────

/** The hot path of every audited write: one fixed statement, no query building. */
/** Rows per INSERT: 17 parameters each, well under PostgreSQL's 65,535. */
const INSERT_CHUNK = 1000;

/** Appends rows in their given order (ids ascend with it), one statement per chunk. */
export async function insertEvents(tx: Tx, rows: readonly AuditRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const values = rows.slice(i, i + INSERT_CHUNK).map((r) => sql`(
      ${r.tenant_id}, ${r.occurred_at}, ${r.action}, ${r.outcome}, ${r.actor_type}, ${r.actor_id}, ${r.actor_ref}, ${r.actor_via}, ${r.actor_tenant_id},
      ${r.target_type}, ${r.target_id}, ${r.target_ref}, ${r.request_id}, ${r.ip_pseudonym}, ${r.ua_pseudonym}, ${r.diff}::jsonb, ${r.details}::jsonb)`);
    await sql`
      insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, actor_via, actor_tenant_id,
                                target_type, target_id, target_ref, request_id, ip_pseudonym, ua_pseudonym, diff, details)
      values ${sql.join(values)}`.execute(tx);
  }
}

/** Nulls the subject's id wherever it acted or was acted on; the hashed refs stay. */
export async function eraseSubject(tx: Tx, tenantId: string, subjectId: string, subjectRef: string, erasedAs: string): Promise<number> {
  const asActor = await sql`
    update audit_events set actor_id = null, actor_erased_as = ${erasedAs}
    where tenant_id = ${tenantId} and actor_ref = ${subjectRef} and actor_id::text = ${subjectId}`.execute(tx);
  const asTarget = await sql`
    update audit_events set target_id = null, target_erased_as = ${erasedAs}
    where tenant_id = ${tenantId} and target_ref = ${subjectRef} and target_id = ${subjectId}`.execute(tx);
  return Number(asActor.numAffectedRows ?? 0) + Number(asTarget.numAffectedRows ?? 0);
}

// ── sealing ──────────────────────────────────────────────────────────────

export async function tenantsWithUnsealed(tx: Tx): Promise<string[]> {
  const { rows } = await sql<{ tenant_id: string }>`select distinct tenant_id from audit_events where chain_seq is null`.execute(tx);
  return rows.map((r) => r.tenant_id);
}

export async function chainTenants(tx: Tx): Promise<string[]> {
  const { rows } = await sql<{ tenant_id: string }>`select tenant_id from audit_chain_heads order by tenant_id`.execute(tx);
  return rows.map((r) => r.tenant_id);
}

export async function hasUnsealed(tx: Tx, tenantId: string): Promise<boolean> {
  const { rows } = await sql`select 1 from audit_events where tenant_id = ${tenantId} and chain_seq is null limit 1`.execute(tx);
  return rows.length > 0;
}

export async function ensureHead(tx: Tx, tenantId: string, genesis: Buffer): Promise<void> {
  await sql`insert into audit_chain_heads (tenant_id, chain_seq, hash) values (${tenantId}, 0, ${genesis}) on conflict (tenant_id) do nothing`.execute(tx);
}

/**
 * Reads the tenant's head under a row lock: 'update' waits for another
 * sealer, 'skip' returns undefined instead (another node is on it), 'share'
 * keeps sealers and sweeps out while a verification reads.
 */
export async function lockHead(tx: Tx, tenantId: string, mode: 'update' | 'skip' | 'share' | 'none'): Promise<Head | undefined> {
  const lock = { update: sql`for update`, skip: sql`for update skip locked`, share: sql`for share`, none: sql`` }[mode];
  const { rows } = await sql<{ chain_seq: number; hash: Buffer }>`select chain_seq, hash from audit_chain_heads where tenant_id = ${tenantId} ${lock}`.execute(tx);
  const r = rows[0];
  return r && { tenantId, chainSeq: Number(r.chain_seq), hash: r.hash };
}

export async function unsealedBatch(tx: Tx, tenantId: string, limit: number): Promise<{ id: number; canonical: Buffer }[]> {
  const { rows } = await sql<{ id: number; canonical: Buffer }>`
    select e.id, audit_canonical(e) as canonical from audit_events e
    where e.tenant_id = ${tenantId} and e.chain_seq is null
    order by e.id limit ${limit}`.execute(tx);
  return rows.map((r) => ({ id: Number(r.id), canonical: r.canonical }));
}

export interface SealedLink { id: number; chainSeq: number; prevHash: Buffer; hash: Buffer }

/** One statement for the whole batch; the head moves in the same transaction. */
export async function applySeal(tx: Tx, tenantId: string, links: SealedLink[]): Promise<void> {
  const last = links.at(-1);
  if (!last) return;
  const res = await sql`
    update audit_events e set chain_seq = u.seq, prev_hash = decode(u.prev, 'hex'), hash = decode(u.hash, 'hex')
    from unnest(${links.map((l) => l.id)}::bigint[], ${links.map((l) => l.chainSeq)}::bigint[],
                ${links.map((l) => l.prevHash.toString('hex'))}::text[], ${links.map((l) => l.hash.toString('hex'))}::text[]) as u(id, seq, prev, hash)
    where e.id = u.id and e.tenant_id = ${tenantId} and e.chain_seq is null`.execute(tx);
  if (Number(res.numAffectedRows) !== links.length) throw new Error(`audit sealer linked ${res.numAffectedRows} of ${links.length} events for tenant ${tenantId}`);
  await sql`update audit_chain_heads set chain_seq = ${last.chainSeq}, hash = ${last.hash}, updated_at = now() where tenant_id = ${tenantId}`.execute(tx);
}

// ── checkpoints ──────────────────────────────────────────────────────────

export interface StoredCheckpoint extends Checkpoint { id: number; signature: Buffer; entryId: number | null; entryHash: Buffer | null }

export async function insertCheckpoint(tx: Tx, cp: Checkpoint, signature: Buffer): Promise<void> {
  await sql`
    insert into audit_checkpoints (tenant_id, kind, chain_seq, hash, created_at, signature)
    values (${cp.tenantId}, ${cp.kind}, ${cp.chainSeq}, ${cp.hash}, ${cp.createdAt}, ${signature})
    on conflict (tenant_id, kind, chain_seq) do nothing`.execute(tx);
}

/** The checkpoint at the highest position (of one kind, if given). */
export async function latestCheckpoint(tx: Tx, tenantId: string, kind?: CheckpointKind): Promise<(Checkpoint & { signature: Buffer }) | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select kind, chain_seq, hash, created_at, signature from audit_checkpoints
    where tenant_id = ${tenantId} ${kind ? sql`and kind = ${kind}` : sql``}
    order by chain_seq desc, id desc limit 1`.execute(tx);
  const r = rows[0];
  return r && { tenantId, kind: r.kind, chainSeq: Number(r.chain_seq), hash: r.hash, createdAt: r.created_at, signature: r.signature };
}

/** Every checkpoint of the tenant with the hash of the entry at its position (if that entry exists). */
export async function checkpointsWithEntries(tx: Tx, tenantId: string): Promise<StoredCheckpoint[]> {
  const { rows } = await sql<Record<string, any>>`
    select c.id, c.kind, c.chain_seq, c.hash, c.created_at, c.signature, e.id as entry_id, e.hash as entry_hash
    from audit_checkpoints c
    left join audit_events e on e.tenant_id = c.tenant_id and e.chain_seq = c.chain_seq
    where c.tenant_id = ${tenantId}
    order by c.chain_seq, c.id`.execute(tx);
  return rows.map((r) => ({
    id: Number(r.id), tenantId, kind: r.kind as CheckpointKind, chainSeq: Number(r.chain_seq), hash: r.hash, createdAt: r.created_at,
    signature: r.signature, entryId: r.entry_id === null ? null : Number(r.entry_id), entryHash: r.entry_hash,
  }));
}

// ── verification ─────────────────────────────────────────────────────────

export interface ChainExtent { entries: number; lastSeq: number | null; lastHash: Buffer | null; unsealed: number }

export async function chainExtent(tx: Tx, tenantId: string, afterSeq: number): Promise<ChainExtent> {
  const { rows } = await sql<{ entries: number; last_seq: number | null; unsealed: number }>`
    select count(*) filter (where chain_seq > ${afterSeq}) as entries,
           max(chain_seq) as last_seq,
           count(*) filter (where chain_seq is null) as unsealed
    from audit_events where tenant_id = ${tenantId}`.execute(tx);
  const r = rows[0]!;
  const lastSeq = r.last_seq === null ? null : Number(r.last_seq);
  const lastHash = lastSeq === null ? null : await hashAt(tx, tenantId, lastSeq);
  return { entries: Number(r.entries), lastSeq, lastHash, unsealed: Number(r.unsealed) };
}

export async function hashAt(tx: Tx, tenantId: string, chainSeq: number): Promise<Buffer | null> {
  const { rows } = await sql<{ hash: Buffer }>`select hash from audit_events where tenant_id = ${tenantId} and chain_seq = ${chainSeq} order by id limit 1`.execute(tx);
  return rows[0]?.hash ?? null;
}

export type EntryFault = 'sequence_break' | 'hash_mismatch' | 'prev_hash_mismatch';

/**
 * Recomputes every link after the base in one set-based pass (PostgreSQL
 * hashes, window functions compare neighbours) and returns the first entry
 * that fails: a position that does not follow its predecessor's (entries
 * missing or duplicated), a hash that does not match the entry's content and
 * position, or a prev_hash that is not its predecessor's hash.
 */
export async function firstFaultyEntry(tx: Tx, tenantId: string, base: { chainSeq: number; hash: Buffer }, lastSeq: number): Promise<{ id: number; chainSeq: number; reason: EntryFault } | undefined> {
  const { rows } = await sql<{ id: number; chain_seq: number; reason: EntryFault }>`
    select id, chain_seq, reason from (
      select e.id, e.chain_seq,
        case
          when e.chain_seq <> coalesce(lag(e.chain_seq) over w, ${base.chainSeq}::bigint) + 1 then 'sequence_break'
          when e.hash <> sha256(e.prev_hash || int8send(e.chain_seq) || audit_canonical(e)) then 'hash_mismatch'
          when e.prev_hash <> coalesce(lag(e.hash) over w, ${base.hash}::bytea) then 'prev_hash_mismatch'
        end as reason
      from audit_events e
      where e.tenant_id = ${tenantId} and e.chain_seq > ${base.chainSeq}::bigint and e.chain_seq <= ${lastSeq}::bigint
      -- Ordered by position alone, so the unique index feeds the window without a sort; should
      -- an attacker drop the index and duplicate a position, the sequence check still fires.
      window w as (order by e.chain_seq)
    ) checked
    where reason is not null
    order by chain_seq
    limit 1`.execute(tx);
  const r = rows[0];
  return r && { id: Number(r.id), chainSeq: Number(r.chain_seq), reason: r.reason };
}

/** The first sealed position at or after chainSeq, with its hash: where a verification segment can start. */
export async function linkAtOrAfter(tx: Tx, tenantId: string, chainSeq: number): Promise<{ chainSeq: number; hash: Buffer } | undefined> {
  const { rows } = await sql<{ chain_seq: number; hash: Buffer }>`
    select chain_seq, hash from audit_events where tenant_id = ${tenantId} and chain_seq >= ${chainSeq}::bigint order by chain_seq, id limit 1`.execute(tx);
  return rows[0] && { chainSeq: Number(rows[0].chain_seq), hash: rows[0].hash };
}

export async function entryIdAt(tx: Tx, tenantId: string, chainSeq: number): Promise<number | undefined> {
  const { rows } = await sql<{ id: number }>`select id from audit_events where tenant_id = ${tenantId} and chain_seq = ${chainSeq} order by id limit 1`.execute(tx);
  return rows[0] ? Number(rows[0].id) : undefined;
}

// ── search and export ────────────────────────────────────────────────────

export interface EventQuery {
  tenantId: string;
  from: Date;
  to: Date;
  actorRef?: string;
  actorType?: string;
  action?: string;
  targetType?: string;
  targetRef?: string;
  outcome?: string;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Values become parameters, or (for COPY, which takes none) quoted literals. */
type Value = (v: string | Date) => RawBuilder<unknown>;
const param: Value = (v) => sql`${v}`;
const literal: Value = (v) => sql.raw(pg.escapeLiteral(v instanceof Date ? v.toISOString() : v));

function conditions(q: EventQuery, value: Value = param) {
  const parts = [sql`tenant_id = ${value(q.tenantId)}`, sql`occurred_at >= ${value(q.from)}`, sql`occurred_at < ${value(q.to)}`];
  if (q.actorRef) parts.push(sql`actor_ref = ${value(q.actorRef)}`);
  if (q.actorType) parts.push(sql`actor_type = ${value(q.actorType)}`);
  // A prefix matches whole segments: "auth.login" finds auth.login and auth.login.failed, not auth.loginx.
  if (q.action) {
    parts.push(q.action.endsWith('.') ? sql`action like ${value(likeEscape(q.action) + '%')}` : sql`(action = ${value(q.action)} or action like ${value(likeEscape(q.action) + '.%')})`);
  }
  if (q.targetType) parts.push(sql`target_type = ${value(q.targetType)}`);
  if (q.targetRef) parts.push(sql`target_ref = ${value(q.targetRef)}`);
  if (q.outcome) parts.push(sql`outcome = ${value(q.outcome)}`);
  return sql.join(parts, sql` and `);
}

/** Newest first; the keyset is (occurred_at, id) of the last entry of the previous page. */
export async function searchEvents(tx: Tx, q: EventQuery, limit: number, after?: { occurredAt: Date; id: number }): Promise<AuditEntry[]> {
  const keyset = after ? sql`and (occurred_at, id) < (${after.occurredAt}, ${after.id}::bigint)` : sql``;
  const { rows } = await sql<{ line: string }>`
    select ${entryJson} as line from audit_events
    where ${conditions(q)} ${keyset}
    order by occurred_at desc, id desc
    limit ${limit}`.execute(tx);
  return rows.map((r) => JSON.parse(r.line) as AuditEntry);
}

/**
 * A server-side cursor over a time range, oldest first, for the CSV export;
 * read it with fetchExport. Rows come as the csvColumns, each as text.
 */
export async function openExportCursor(tx: Tx, q: EventQuery): Promise<void> {
  const select = sql.join(csvColumns.map(([name, expr]) => sql`${expr} as ${sql.id(name)}`));
  await sql`declare audit_export no scroll cursor for
    select ${select} from audit_events where ${conditions(q)} order by occurred_at, id`.execute(tx);
}

/**
 * The NDJSON export as one COPY statement (oldest first, one entry's JSON a
 * line), for copyOut. COPY takes no bind parameters, so the values are
 * literals (pg.escapeLiteral).
 */
export function exportCopyStatement(db: Db, q: EventQuery): string {
  const { sql: text, parameters } = sql`copy (
    select ${entryJson} from audit_events where ${conditions(q, literal)} order by occurred_at, id
  ) to stdout`.compile(db);
  if (parameters.length) throw new Error('the export statement must not carry parameters');
  return text;
}

export async function fetchExport(tx: Tx, batch: number): Promise<Record<string, string | null>[]> {
  const { rows } = await sql<Record<string, string | null>>`fetch forward ${sql.lit(batch)} from audit_export`.execute(tx);
  return rows;
}

// ── retention ────────────────────────────────────────────────────────────

/**
 * The highest position whose every predecessor is older than the cutoff. Chain
 * order is seal order, so an entry a little younger than the cutoff can sit
 * before an older one; cutting below it keeps the minimum retention exact.
 */
export async function retentionCut(tx: Tx, tenantId: string, cutoff: Date, headSeq: number): Promise<number> {
  const { rows } = await sql<{ first_kept: number | null }>`
    select min(chain_seq) as first_kept from audit_events
    where tenant_id = ${tenantId} and chain_seq is not null and occurred_at >= ${cutoff}`.execute(tx);
  const firstKept = rows[0]?.first_kept;
  return firstKept === null || firstKept === undefined ? headSeq : Number(firstKept) - 1;
}

export async function deleteThrough(tx: Tx, tenantId: string, chainSeq: number): Promise<number> {
  const res = await sql`delete from audit_events where tenant_id = ${tenantId} and chain_seq <= ${chainSeq}`.execute(tx);
  // Checkpoints below the cut point at entries that no longer exist; the cut checkpoint replaces them.
  await sql`delete from audit_checkpoints where tenant_id = ${tenantId} and chain_seq < ${chainSeq}`.execute(tx);
  return Number(res.numAffectedRows ?? 0);
}
