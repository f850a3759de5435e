// A data subject's rows, found by walking the data map. Each personal column
// names the role that links its row to a person (`subject`); columns that
// share a link are read together, and a row is returned only with the
// columns of the link that matched it — the inviter's row of an invitation
// shows who invited, not the invitee's address.
//
// How a declared subject becomes a SQL predicate (rules, in order):
//   - "a / b": either link matches;
//   - "t.c (through x)": x (a column, or a JSON path inside the declared
//     column, e.g. data.videoId) points at a row of t whose c is the person;
//   - "id" on an identity table (users, audience_accounts): the row is the identity;
//   - "email": the row's address (email_normalized where the table has it);
//   - a column of the table: it holds a person's address when its name says
//     email, an audience account's id when it says audience, else a user's id;
//   - anything else on a column whose category is user.unique_id: the
//     column itself holds the id (the map reuses a declaration whose subject
//     names a column of another table, e.g. memberships.user_id, uploads.user_id,
//     invitations.invited_by).
// Special cases the map cannot express, by table:
//   - audit_events: the roles "actor" (actor_id, a user id) and "target"
//     (target_id when target_type is 'user');
//   - "client" (rate_limits): a keyed pseudonym of a network address that
//     expires within the hour; no identity of a person leads to it, so it is
//     reported as not locatable.
import { sql, type RawBuilder } from 'kysely';
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';
import type { Tx } from '../../../platform/db/database.ts';
import type { SubjectIdentities } from './locate.ts';

type Personal = Extract<ColumnDeclaration, { personal: true }>;
type IdKind = 'user' | 'audience' | 'email';

/** One way a row can point at the subject. */
export type SubjectPredicate =
  | { kind: 'column'; column: string; match: IdKind }
  | { kind: 'audit_target' }
  | { kind: 'through'; table: string; ownerColumn: string; column: string; jsonPath?: string[] };

export interface SubjectLink {
  /** The data map's subject, as declared. */
  subject: string;
  /** Any predicate matching makes the row the subject's. */
  predicates: SubjectPredicate[];
}

export interface SubjectTableRows {
  table: string;
  link: SubjectLink;
  /** The personal columns read (those declared with this link). */
  columns: string[];
  /** Non-personal columns added so a reader knows where a row lives (tenant_id). */
  context: string[];
  rows: Record<string, unknown>[];
}

export interface Unlocatable { table: string; columns: string[]; subject: string; reason: string }

export interface SubjectRows {
  tables: SubjectTableRows[];
  unlocatable: Unlocatable[];
}

const IDENTITY_TABLES: Record<string, IdKind> = { users: 'user', audience_accounts: 'audience' };
const THROUGH = /^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*) \(through ([A-Za-z0-9_.]+)\)$/;

type ColumnTypes = Map<string, Map<string, string>>;

/** Reads the live column types of the mapped tables (uuid vs text decides the casts). */
export async function columnTypes(tx: Tx, tables: string[]): Promise<ColumnTypes> {
  const { rows } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = current_schema() and table_name = any(${tables}::text[])`.execute(tx);
  const types: ColumnTypes = new Map();
  for (const r of rows) {
    if (!types.has(r.table_name)) types.set(r.table_name, new Map());
    types.get(r.table_name)!.set(r.column_name, r.data_type);
  }
  return types;
}

function idKindByName(column: string): IdKind {
  if (/email/.test(column)) return 'email';
  return /audience/.test(column) ? 'audience' : 'user';
}

/** Resolves one declared column's subject into predicates, or a reason it cannot be followed. */
export function resolveLink(table: string, column: string, decl: Personal, columns: Map<string, string>): SubjectLink | { unlocatable: string } {
  const predicates: SubjectPredicate[] = [];
  for (const part of decl.subject.split('/').map((p) => p.trim())) {
    const through = THROUGH.exec(part);
    if (through) {
      const [, owner, ownerColumn, via] = through as unknown as [string, string, string, string];
      if (columns.has(via)) predicates.push({ kind: 'through', table: owner, ownerColumn, column: via });
      else if (via.includes('.')) predicates.push({ kind: 'through', table: owner, ownerColumn, column, jsonPath: via.split('.') });
      else return { unlocatable: `"${part}" names no column of ${table}` };
    } else if (table === 'audit_events' && part === 'actor') predicates.push({ kind: 'column', column: 'actor_id', match: 'user' });
    else if (table === 'audit_events' && part === 'target') predicates.push({ kind: 'audit_target' });
    else if (part === 'client') return { unlocatable: 'a keyed pseudonym of a network address that expires within the hour; no identity of a person leads to it' };
    else if (part === 'id' && IDENTITY_TABLES[table]) predicates.push({ kind: 'column', column: 'id', match: IDENTITY_TABLES[table]! });
    else if (part === 'email' && columns.has('email')) predicates.push({ kind: 'column', column: columns.has('email_normalized') ? 'email_normalized' : 'email', match: 'email' });
    else if (part !== 'id' && columns.has(part)) predicates.push({ kind: 'column', column: part, match: idKindByName(part) });
    else if (decl.category.startsWith('user.unique_id') && columns.has(column)) predicates.push({ kind: 'column', column, match: idKindByName(column) });
    else return { unlocatable: `"${part}" names no column of ${table} and ${column} holds no person's id` };
  }
  const subject = predicates.length === 1 && predicates[0]!.kind === 'column' && decl.subject !== predicates[0]!.column && !IDENTITY_TABLES[table] && decl.subject !== 'email'
    ? predicates[0]!.column
    : decl.subject;
  return { subject, predicates };
}

function valuesFor(ids: SubjectIdentities, kind: IdKind): string[] {
  if (kind === 'user') return ids.userIds;
  if (kind === 'audience') return ids.audienceIds;
  return ids.email ? [ids.email] : [];
}

function predicateSql(p: SubjectPredicate, ids: SubjectIdentities, types: Map<string, string>): RawBuilder<unknown> | null {
  if (p.kind === 'audit_target') return ids.userIds.length ? sql`(target_type = 'user' and target_id = any(${ids.userIds}::text[]))` : null;
  if (p.kind === 'through') {
    const kind = idKindByName(p.ownerColumn);
    const values = valuesFor(ids, kind);
    if (!values.length) return null;
    const owned = kind === 'user'
      ? sql`select id from ${sql.table(p.table)} where ${sql.ref(p.ownerColumn)} = any(${values}::uuid[])`
      : sql`select id from ${sql.table(p.table)} where ${sql.ref(p.ownerColumn)} = any(${values}::text[])`;
    if (p.jsonPath) return sql`(${sql.ref(p.column)}::jsonb #>> ${`{${p.jsonPath.join(',')}}`}::text[]) in (select o.id::text from (${owned}) o)`;
    return sql`${sql.ref(p.column)} in (${owned})`;
  }
  const values = valuesFor(ids, p.match);
  if (!values.length) return null;
  // Only a column named plain "email" holds the address as given; the others are stored normalized.
  if (p.match === 'email' && p.column === 'email') return sql`lower(${sql.ref(p.column)}) = any(${values}::text[])`;
  const cast = types.get(p.column) === 'uuid' ? sql`::uuid[]` : sql`::text[]`;
  return sql`${sql.ref(p.column)} = any(${values}${cast})`;
}

/** Groups a table's personal columns by the link that names their subject. */
export function linksOf(table: string, decls: Record<string, ColumnDeclaration>, columns: Map<string, string>): { groups: { link: SubjectLink; columns: string[] }[]; unlocatable: Unlocatable[] } {
  const groups = new Map<string, { link: SubjectLink; columns: string[] }>();
  const unlocatable = new Map<string, Unlocatable>();
  for (const [column, decl] of Object.entries(decls)) {
    if (!decl.personal || !columns.has(column)) continue;
    const link = resolveLink(table, column, decl, columns);
    if ('unlocatable' in link) {
      const u = unlocatable.get(decl.subject) ?? { table, columns: [], subject: decl.subject, reason: link.unlocatable };
      u.columns.push(column);
      unlocatable.set(decl.subject, u);
      continue;
    }
    const key = JSON.stringify(link.predicates);
    const g = groups.get(key) ?? { link, columns: [] };
    g.columns.push(column);
    groups.set(key, g);
  }
  return { groups: [...groups.values()], unlocatable: [...unlocatable.values()] };
}

/**
 * For every table of the data map, the rows that point at one of the
 * subject's identities, with the personal columns of the matching link only.
 * Runs in the caller's transaction: row-level security of its scope applies,
 * and a tenant-limited subject (identities.scope) is also limited in SQL.
 */
export async function subjectRows(tx: Tx, identities: SubjectIdentities, datamap: DataMap): Promise<SubjectRows> {
  const tables = Object.keys(datamap);
  const types = await columnTypes(tx, tables);
  const result: SubjectRows = { tables: [], unlocatable: [] };
  for (const table of tables) {
    const columns = types.get(table);
    if (!columns) continue; // declared but not created (e.g. a part not migrated yet)
    const { groups, unlocatable } = linksOf(table, datamap[table]!, columns);
    result.unlocatable.push(...unlocatable);
    for (const { link, columns: personal } of groups) {
      const context = columns.has('tenant_id') && !personal.includes('tenant_id') ? ['tenant_id'] : [];
      const preds = link.predicates.map((p) => predicateSql(p, identities, columns)).filter((p): p is RawBuilder<unknown> => p !== null);
      let rows: Record<string, unknown>[] = [];
      if (preds.length) {
        const scope = identities.scope && columns.has('tenant_id') ? sql`and tenant_id = any(${identities.scope}::uuid[])` : sql``;
        const select = sql.join([...context, ...personal].map((c) => sql.ref(c)));
        rows = (await sql<Record<string, unknown>>`
          select ${select} from ${sql.table(table)} where (${sql.join(preds, sql` or `)}) ${scope}`.execute(tx)).rows;
      }
      result.tables.push({ table, link, columns: personal, context, rows });
    }
  }
  return result;
}
