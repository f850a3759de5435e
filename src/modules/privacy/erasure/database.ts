// The database share of an erasure: every personal column of every table in
// the data map gets its declared action, in ONE transaction with the audit
// relabelling, the erasure's own audit event and its progress mark.
//
// Reading of the data map for media (docs/privacy/erasure.md): videos are the
// organization's content; the uploader link is nulled and titles, captions and
// media stay. Media is the person's own — and is crypto-shredded and deleted —
// only where the tenant is theirs: a tenant whose only member is the person,
// or whose settings say uploads belong to the uploader
// (settings.privacy.uploadsBelongToUploader = true).
import { sql, type RawBuilder } from 'kysely';
import type { ColumnDeclaration, DataMap, ErasureAction } from '../../../platform/datamap.ts';
import type { Tx } from '../../../platform/db/database.ts';
import { columnTypes, linksOf, type SubjectPredicate } from '../subject/index.ts';
import type { ErasurePlan, TableOutcome } from './types.ts';

type Personal = Extract<ColumnDeclaration, { personal: true }>;

/** Tables whose share is done elsewhere: the audit trail (through the audit service) and the erasure's own record. */
export const HANDLED_ELSEWHERE: Record<string, string> = {
  audit_events: 'relabelled by the audit service: ids nulled, keyed pseudonyms kept under the hash chain',
  privacy_erasures: 'the erasure\'s own record: a keyed pseudonym of the subject; the plan is cleared when it is done',
};

function predicateSql(p: SubjectPredicate, plan: ErasurePlan, types: Map<string, string>, allTypes: Map<string, Map<string, string>>): RawBuilder<unknown> | null {
  const ids = plan.identities;
  if (p.kind === 'audit_target') return null;
  if (p.kind === 'through') {
    // The owning table's column holds a user id (uuid), or an address (e.g. privacy_requests.subject_email).
    const ownerType = allTypes.get(p.table)?.get(p.ownerColumn);
    if (!ownerType) return null;
    const byEmail = ownerType !== 'uuid' && /email/.test(p.ownerColumn);
    const values = byEmail ? (ids.email ? [ids.email] : []) : ids.userIds;
    if (!values.length) return null;
    const owned = byEmail
      ? sql`select id from ${sql.table(p.table)} where lower(${sql.ref(p.ownerColumn)}) = any(${values}::text[])`
      : sql`select id from ${sql.table(p.table)} where ${sql.ref(p.ownerColumn)}${ownerType === 'uuid' ? sql`` : sql`::text`} = any(${values}${ownerType === 'uuid' ? sql`::uuid[]` : sql`::text[]`})`;
    if (p.jsonPath) {
      const path = p.jsonPath[0] === p.column ? p.jsonPath.slice(1) : p.jsonPath;
      // webhook_events.body is JSON kept as text (the exact bytes that were signed): read it as jsonb.
      const doc = types.get(p.column) === 'jsonb' ? sql`${sql.ref(p.column)}` : sql`${sql.ref(p.column)}::jsonb`;
      return sql`(${doc} #>> ${`{${path.join(',')}}`}::text[]) in (select o.id::text from (${owned}) o)`;
    }
    return sql`${sql.ref(p.column)}::text in (select o.id::text from (${owned}) o)`;
  }
  const values = p.match === 'user' ? ids.userIds : p.match === 'audience' ? ids.audienceIds : ids.email ? [ids.email] : [];
  if (!values.length) return null;
  if (p.match === 'email' && p.column !== 'email_normalized') return sql`lower(${sql.ref(p.column)}) = any(${values}::text[])`;
  const cast = types.get(p.column) === 'uuid' ? sql`::uuid[]` : sql`::text[]`;
  return sql`${sql.ref(p.column)} = any(${values}${cast})`;
}

/** Media of the organization's library: shredded with the video, or here only when it is the person's own. */
const ORGANIZATION_MEDIA = new Set(['videos', 'video_versions', 'video_attachments', 'video_captions']);

const affected = (r: { numAffectedRows?: bigint }) => Number(r.numAffectedRows ?? 0);

/** Applies the data map to the subject's rows; returns what was done per table. */
export async function eraseRows(tx: Tx, plan: ErasurePlan, datamap: DataMap, erasedAs: string): Promise<TableOutcome[]> {
  const outcomes: TableOutcome[] = [];
  const tables = Object.keys(datamap).filter((t) => !HANDLED_ELSEWHERE[t]);
  const types = await columnTypes(tx, Object.keys(datamap));
  const scope = plan.identities.scope;
  const accountEnds = plan.endsAccount.length > 0;

  // Own media first: the "through" links (webhook events about the videos) must still see the owner.
  const work: { table: string; columns: string[]; preds: RawBuilder<unknown>[]; through: boolean }[] = [];
  for (const table of tables) {
    const columns = types.get(table);
    if (!columns) continue;
    const { groups, unlocatable } = linksOf(table, datamap[table]!, columns);
    for (const u of unlocatable) {
      outcomes.push({ table, columns: u.columns, action: 'retain', rows: 0, basis: `not locatable from the person: ${u.reason}` });
    }
    for (const g of groups) {
      const preds = g.link.predicates.map((p) => predicateSql(p, plan, columns, types)).filter((p): p is RawBuilder<unknown> => p !== null);
      if (preds.length) work.push({ table, columns: g.columns, preds, through: g.link.predicates.some((p) => p.kind === 'through') });
    }
  }
  work.sort((a, b) => Number(b.through) - Number(a.through) || Number(a.table === 'users') - Number(b.table === 'users'));

  let ownMediaDone = false;
  for (const w of work) {
    if (!w.through && !ownMediaDone) {
      ownMediaDone = true;
      outcomes.push(...(await shredOwnMedia(tx, plan)));
    }
    const columns = types.get(w.table)!;
    const decls = Object.fromEntries(w.columns.map((c) => [c, datamap[w.table]![c] as Personal]));
    const tenantScoped = columns.has('tenant_id');
    if (!tenantScoped && scope && !accountEnds) {
      outcomes.push({ table: w.table, columns: w.columns, action: 'retain', rows: 0, basis: 'the account continues in tenants outside this erasure\'s scope' });
      continue;
    }
    const where = sql`(${sql.join(w.preds, sql` or `)}) ${tenantScoped && scope ? sql`and tenant_id = any(${scope}::uuid[])` : sql``}`;
    const actions = new Set<ErasureAction>(Object.values(decls).map((d) => d.erasure));

    if (actions.has('delete')) {
      if (w.table === 'users') outcomes.push(...(await endAccounts(tx, plan, w.columns)));
      else outcomes.push({ table: w.table, columns: w.columns, action: 'delete', rows: affected(await sql`delete from ${sql.table(w.table)} where ${where}`.execute(tx)) });
      continue;
    }
    // The organization's media stays unless it is the person's own (shredOwnMedia); any other wrapped key is destroyed here.
    const orgMedia = ORGANIZATION_MEDIA.has(w.table);
    const toShred = orgMedia ? [] : w.columns.filter((c) => decls[c]!.erasure === 'crypto_shred');
    const toNull = [...w.columns.filter((c) => decls[c]!.erasure === 'null'), ...toShred];
    const toPseudonymize = w.columns.filter((c) => decls[c]!.erasure === 'pseudonymize');
    const kept = w.columns.filter((c) => decls[c]!.erasure === 'retain' || (orgMedia && decls[c]!.erasure === 'crypto_shred'));
    let rows: number;
    if (toNull.length || toPseudonymize.length) {
      const sets = [
        ...toNull.map((c) => sql`${sql.ref(c)} = null`),
        ...toPseudonymize.map((c) => sql`${sql.ref(c)} = ${erasedAs}`),
      ];
      rows = affected(await sql`update ${sql.table(w.table)} set ${sql.join(sets)} where ${where}`.execute(tx));
      const nulled = toNull.filter((c) => !toShred.includes(c));
      if (nulled.length) outcomes.push({ table: w.table, columns: nulled, action: 'null', rows });
      if (toShred.length) outcomes.push({ table: w.table, columns: toShred, action: 'crypto_shred', rows });
      if (toPseudonymize.length) outcomes.push({ table: w.table, columns: toPseudonymize, action: 'pseudonymize', rows });
    } else {
      rows = Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(w.table)} where ${where}`.execute(tx)).rows[0]!.n);
    }
    for (const c of kept) {
      const d = decls[c]!;
      const basis = d.erasure === 'retain'
        ? d.retainBasis ?? 'declared retain'
        : 'the organization\'s media (its content, Art. 28(3)(a)); shredded with the video when the organization deletes it — only media in the person\'s own tenant is the person\'s to erase';
      if (rows > 0) outcomes.push({ table: w.table, columns: [c], action: 'retain', rows, basis });
    }
  }
  if (!ownMediaDone) outcomes.push(...(await shredOwnMedia(tx, plan)));
  return outcomes.filter((o) => o.rows > 0 || o.basis?.startsWith('not locatable'));
}

/** Deletes the person's own videos: their wrapped keys go with the rows (crypto-shred); objects follow in the storage step. */
async function shredOwnMedia(tx: Tx, plan: ErasurePlan): Promise<TableOutcome[]> {
  const ids = plan.media.map((m) => m.videoId);
  if (!ids.length) return [];
  const counts = (await sql<{ versions: string; attachments: string; captions: string }>`
    select (select count(*) from video_versions where video_id = any(${ids}::uuid[])) as versions,
           (select count(*) from video_attachments where video_id = any(${ids}::uuid[])) as attachments,
           (select count(*) from video_captions where video_id = any(${ids}::uuid[])) as captions`.execute(tx)).rows[0]!;
  const deleted = affected(await sql`delete from videos where id = any(${ids}::uuid[])`.execute(tx));
  const out: TableOutcome[] = [{ table: 'videos', columns: ['data_key_wrapped', 'hls_key_wrapped'], action: 'crypto_shred', rows: deleted }];
  if (Number(counts.versions)) out.push({ table: 'video_versions', columns: ['data_key_wrapped'], action: 'crypto_shred', rows: Number(counts.versions) });
  if (Number(counts.attachments)) out.push({ table: 'video_attachments', columns: ['data_key_wrapped'], action: 'crypto_shred', rows: Number(counts.attachments) });
  if (Number(counts.captions)) out.push({ table: 'video_captions', columns: ['object_key'], action: 'crypto_shred', rows: Number(counts.captions) });
  return out;
}

/**
 * The account ends: its row is deleted. Where evidence that must be kept
 * (consent records, append-only) still points at it, the row stays as a
 * tombstone holding nothing but its random id.
 */
async function endAccounts(tx: Tx, plan: ErasurePlan, columns: string[]): Promise<TableOutcome[]> {
  const out: TableOutcome[] = [];
  let deleted = 0;
  let tombstoned = 0;
  for (const id of plan.endsAccount) {
    await sql`savepoint erase_user`.execute(tx);
    try {
      deleted += affected(await sql`delete from users where id = ${id}::uuid`.execute(tx));
      await sql`release savepoint erase_user`.execute(tx);
    } catch (err) {
      if ((err as { code?: string }).code !== '23503') throw err;
      await sql`rollback to savepoint erase_user`.execute(tx);
      const mark = `erased-${id.replaceAll('-', '').slice(0, 12)}-${plan.erasureId.slice(0, 8)}`;
      tombstoned += affected(await sql`
        update users set username = ${mark}, username_normalized = ${mark}, email = ${`${mark}@erased.invalid`}, email_normalized = ${`${mark}@erased.invalid`},
          email_verified_at = null, display_name = '', preferred_language = 'en', password_hash = null, password_changed_at = null,
          status = 'disabled', platform_roles = '{}', reseller_tenants = '{}', locked_until = null,
          totp_secret_sealed = null, totp_enabled_at = null, totp_last_step = null, updated_at = now()
        where id = ${id}::uuid and email_normalized <> ${`${mark}@erased.invalid`}`.execute(tx));
    }
  }
  if (deleted) out.push({ table: 'users', columns, action: 'delete', rows: deleted });
  if (tombstoned) {
    out.push({ table: 'users', columns: columns.filter((c) => c !== 'id'), action: 'delete', rows: tombstoned });
    out.push({ table: 'users', columns: ['id'], action: 'retain', rows: tombstoned, basis: 'consent records (append-only evidence, Art. 7(1)) point at the account; its row stays as a tombstone holding only its random id, every personal value removed' });
  }
  return out;
}
