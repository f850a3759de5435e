// How a declaration's `subject` finds the data subject's rows, and the checks
// that keep the data map usable by the machinery that reads it: erasure must
// be able to find the rows, the record must be able to name the people and
// the categories, and a crypto-shred must have a key to destroy.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';
import { dataCategories, type SubjectKind, subjectColumns, subjectRoles, subjectTables } from './vocabulary.ts';

/**
 * A subject link, parsed:
 * - `columns`: the row names the subject in one of these columns of its own table (`user_id`, `viewer_user_id / viewer_audience_id`);
 * - `through`: the subject is named in another table (`videos.owner_id (through video_id)`), reached by a column or a JSON path of this row;
 * - `role`: a documented role (vocabulary.ts subjectRoles) whose columns find the rows.
 */
export type SubjectLink =
  | { kind: 'columns'; columns: string[] }
  | { kind: 'through'; table: string; column: string; via: string; viaColumn: string }
  | { kind: 'role'; role: string; columns: string[] };

const IDENT = '[a-z_][a-z0-9_]*';
const THROUGH = new RegExp(`^(${IDENT})\\.(${IDENT}) \\(through ((${IDENT})(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)\\)$`);
const COLUMNS = new RegExp(`^${IDENT}( / ${IDENT})*$`);

export function parseSubject(subject: string): SubjectLink | undefined {
  const through = THROUGH.exec(subject);
  if (through) return { kind: 'through', table: through[1]!, column: through[2]!, via: through[3]!, viaColumn: through[4]! };
  const role = subjectRoles[subject];
  if (role) return { kind: 'role', role: subject, columns: role.columns };
  if (COLUMNS.test(subject)) return { kind: 'columns', columns: subject.split(' / ') };
  return undefined;
}

/** The kinds of people a declaration's subject names (for the record of processing). */
export function subjectKindsOf(table: string, subject: string): SubjectKind[] {
  const link = parseSubject(subject);
  if (!link) return [];
  if (link.kind === 'role') return subjectRoles[link.role]!.kinds;
  if (link.kind === 'through') return subjectKindsOf(link.table, link.column);
  return [...new Set(link.columns.flatMap((c) => (c === 'id' ? subjectTables[table] : subjectColumns[c]) ?? []))];
}

type Personal = Extract<ColumnDeclaration, { personal: true }>;
const WRAPPED_KEY = /(^|_)key_wrapped$|^wrapped_key$/;

/** Everything wrong with a data map, one line each; empty when it is sound. */
export function dataMapProblems(map: DataMap): string[] {
  const problems: string[] = [];
  for (const [table, columns] of Object.entries(map)) {
    for (const [column, d] of Object.entries(columns)) {
      const at = `${table}.${column}`;
      if (!d.personal) continue;
      problems.push(...declarationProblems(map, table, column, d).map((p) => `${at}: ${p}`));
    }
  }
  return problems;
}

function declarationProblems(map: DataMap, table: string, column: string, d: Personal): string[] {
  const problems: string[] = [];
  if (!(d.category in dataCategories)) problems.push(`category ${d.category} is not in the vocabulary (src/modules/privacy/records/vocabulary.ts dataCategories)`);
  if (!/Art\. ?\d/.test(d.legalBasis)) problems.push('legalBasis cites no GDPR article');
  if (d.erasure === 'retain' && !(d.retainBasis && d.retainBasis.length > 20)) problems.push('erasure retain needs a retainBasis');
  if (d.erasure !== 'retain' && d.retainBasis) problems.push(`erasure ${d.erasure} with a retainBasis: the value is not retained`);
  if (d.erasure === 'crypto_shred' && !WRAPPED_KEY.test(column)) problems.push('crypto_shred applies to wrapped key columns only (destroying the key is the erasure)');
  if (WRAPPED_KEY.test(column) && d.erasure !== 'crypto_shred') problems.push(`a wrapped key of personal data is erased by crypto_shred, not ${d.erasure}`);

  const link = parseSubject(d.subject);
  if (!link) return [...problems, `subject "${d.subject}" is neither a column, "a / b", "table.column (through col)" nor a role in vocabulary.ts`];
  const own = map[table]!;
  const linking = (t: string, c: string) => {
    const target = map[t]?.[c];
    if (!target) return `names ${t}.${c}, which is not in the data map`;
    if (!target.personal) return `names ${t}.${c}, which is declared not personal`;
    return undefined;
  };
  if (link.kind === 'role') {
    const role = subjectRoles[link.role]!;
    if (!role.tables.includes(table)) problems.push(`subject role ${link.role} is documented for ${role.tables.join(', ')} only`);
    for (const c of role.columns) { const p = linking(table, c); if (p) problems.push(`subject role ${link.role} ${p}`); }
  } else if (link.kind === 'columns') {
    for (const c of link.columns) { const p = linking(table, c); if (p) problems.push(`subject ${p}`); }
  } else {
    const p = linking(link.table, link.column);
    if (p) problems.push(`subject ${p}`);
    if (!own[link.viaColumn]) problems.push(`subject goes through ${link.via}, but ${table} has no column ${link.viaColumn}`);
  }
  if (subjectKindsOf(table, d.subject).length === 0) problems.push(`subject "${d.subject}" names no kind of person (add it to subjectColumns in vocabulary.ts)`);
  return problems;
}

/** Columns erased by setting them to null must be nullable in the live schema. */
export function nullabilityProblems(map: DataMap, schema: { table: string; column: string; nullable: boolean }[]): string[] {
  return schema
    .filter((c) => { const d = map[c.table]?.[c.column]; return d?.personal === true && d.erasure === 'null' && !c.nullable; })
    .map((c) => `${c.table}.${c.column}: erasure null, but the column is NOT NULL`);
}
