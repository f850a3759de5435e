// Which columns of the live schema the verification scan must search, and
// for what. Decided from the catalog, per column, so that a skipped column is
// one that provably cannot hold the person's identifiers:
//   - uuid (and uuid[]) columns can hold an id only whole: searched by
//     equality (overlap for arrays), which indexes serve;
//   - text-like columns (text, varchar, char, name, citext, json, jsonb, xml,
//     tsvector not generated, composites, arrays of these) are searched for
//     substrings, unless their type or a CHECK constraint bounds them: a
//     varchar(n) or `length(col) <= n` cannot contain a longer identifier, an
//     enum or `col in (…)` only its listed values;
//   - every other type cannot hold an email, an id as text or a name:
//     numbers, booleans, dates and times, bytea (hashes, ciphertext, keys —
//     binary, never searched as text), network addresses, bit strings,
//     geometric and range types, and generated tsvector columns (derived from
//     their row's scanned columns).
// docs/privacy/erasure.md lists the same rules.

export interface CatalogColumn {
  schema: string;
  table: string;
  column: string;
  pages: number;
  /** The type's name after resolving a domain to its base type. */
  type: string;
  typtype: string;
  /** For arrays: the element type. */
  elem: string;
  elemTyptype: string;
  typmod: number;
  generated: boolean;
  checks: string[];
  enumLabels: string[];
}

/** Every column of every ordinary table (partitions included, where the rows live), outside PostgreSQL's own schemas. */
export const CATALOG_SQL = `
  with cols as (
    select n.nspname as schema, c.relname as table, a.attname as column, c.relpages as pages, a.attnum, c.oid as relid,
           case when t.typtype = 'd' then bt.oid else t.oid end as typoid,
           case when t.typtype = 'd' then t.typtypmod else a.atttypmod end as typmod,
           a.attgenerated <> '' as generated
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    join pg_type t on t.oid = a.atttypid
    left join pg_type bt on bt.oid = t.typbasetype
    where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
  )
  select cols.schema, cols.table, cols.column, cols.pages, ty.typname as type, ty.typtype::text as typtype,
         coalesce(el.typname, '') as elem, coalesce(el.typtype::text, '') as "elemTyptype", cols.typmod, cols.generated,
         coalesce((select array_agg(pg_get_constraintdef(k.oid)) from pg_constraint k
                   where k.conrelid = cols.relid and k.contype = 'c' and k.conkey = array[cols.attnum]), '{}') as checks,
         coalesce((select array_agg(e.enumlabel::text) from pg_enum e
                   where e.enumtypid = case when ty.typtype = 'e' then ty.oid else el.oid end), '{}') as "enumLabels"
  from cols
  join pg_type ty on ty.oid = cols.typoid
  left join pg_type el on el.oid = ty.typelem and ty.typcategory = 'A'
  order by 1, 2, cols.attnum`;

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'citext', 'json', 'jsonb', 'xml', 'tsvector']);

export type ColumnScan =
  | { kind: 'uuid'; array: boolean }
  | { kind: 'text'; needles: string[]; names: string[] }
  | { kind: 'skip'; reason: string };

/**
 * How to search one column for the person's identifiers.
 * `needles` (email, ids; lower case) are looked for as substrings, `names` (lower case) as whole values.
 */
export function classifyColumn(c: CatalogColumn, needles: string[], names: string[]): ColumnScan {
  const isArray = c.elem !== '';
  const type = isArray ? c.elem : c.type;
  const typtype = isArray ? c.elemTyptype : c.typtype;
  if (type === 'uuid') return { kind: 'uuid', array: isArray };
  if (typtype === 'e') {
    // An enum holds only its labels.
    return narrow(needles, names, { literals: c.enumLabels.map((l) => l.toLowerCase()) }, 'enum whose labels cannot hold them');
  }
  if (type === 'tsvector' && c.generated) return { kind: 'skip', reason: 'generated tsvector (derived from its row)' };
  if (!TEXT_TYPES.has(type) && typtype !== 'c') return { kind: 'skip', reason: `type ${type}${isArray ? '[]' : ''}` };
  if (type === 'json' || type === 'jsonb' || type === 'xml' || type === 'tsvector' || typtype === 'c') return { kind: 'text', needles, names };
  let maxLength = (type === 'varchar' || type === 'bpchar') && c.typmod > 4 ? c.typmod - 4 : Infinity;
  let literals: string[] | undefined;
  if (!isArray) {
    for (const def of c.checks) {
      const bound = checkBound(def, c.column);
      if (bound?.maxLength !== undefined) maxLength = Math.min(maxLength, bound.maxLength);
      if (bound?.literals) literals = bound.literals;
    }
  }
  return narrow(needles, names, { maxLength, literals }, literals ? 'CHECK (col in (…)) whose values cannot hold them' : 'length bound shorter than every identifier');
}

function narrow(needles: string[], names: string[], bound: { maxLength?: number; literals?: string[] }, reason: string): ColumnScan {
  const fits = (s: string) => s.length <= (bound.maxLength ?? Infinity);
  const keptNeedles = needles.filter((n) => fits(n) && (!bound.literals || bound.literals.some((l) => l.includes(n))));
  const keptNames = names.filter((n) => fits(n) && (!bound.literals || bound.literals.includes(n)));
  if (!keptNeedles.length && !keptNames.length && (needles.length || names.length)) return { kind: 'skip', reason };
  return { kind: 'text', needles: keptNeedles, names: keptNames };
}

/** Strips the parentheses PostgreSQL's deparser puts around a whole expression. */
function unwrap(s: string): string {
  let e = s.trim();
  for (;;) {
    if (!e.startsWith('(') || !e.endsWith(')')) return e;
    let depth = 0;
    let closesAtEnd = true;
    for (let i = 0; i < e.length; i++) {
      if (e[i] === '(') depth++;
      else if (e[i] === ')') depth--;
      if (depth === 0 && i < e.length - 1) { closesAtEnd = false; break; }
    }
    if (!closesAtEnd) return e;
    e = e.slice(1, -1).trim();
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The bound a single-column CHECK constraint puts on its column, for the few
 * deparsed forms understood here (anything else bounds nothing):
 * `length(c) <= n`, `length(c) < n`, `(length(c) >= m) AND (length(c) <= n)`,
 * `(c IS NULL) OR (length(c) <= n)`, `c = ANY (ARRAY['a'::text, …])`.
 */
export function checkBound(def: string, column: string): { maxLength?: number; literals?: string[] } | null {
  if (!def.startsWith('CHECK ')) return null;
  const col = `(?:${escapeRe(column)}|"${escapeRe(column.replace(/"/g, '""'))}")`;
  const len = `\\(?(?:length|char_length)\\(${col}\\) (<=|<) (\\d+)\\)?`;
  const e = unwrap(def.slice('CHECK '.length));
  const asBound = (op: string, n: string) => ({ maxLength: op === '<' ? Number(n) - 1 : Number(n) });
  let m = new RegExp(`^${len}$`).exec(e);
  if (m) return asBound(m[1]!, m[2]!);
  m = new RegExp(`^\\((?:length|char_length)\\(${col}\\) >= \\d+\\) AND ${len}$`).exec(e);
  if (m) return asBound(m[1]!, m[2]!);
  m = new RegExp(`^\\(${col} IS NULL\\) OR ${len}$`).exec(e);
  if (m) return asBound(m[1]!, m[2]!);
  m = new RegExp(`^${col} = ANY \\(ARRAY\\[(.*)\\]\\)$`).exec(e);
  if (m) {
    const items = m[1]!.split(/,\s*/);
    const literals: string[] = [];
    for (const item of items) {
      const lit = /^'((?:[^']|'')*)'::(?:text|character varying)$/.exec(item.trim());
      if (!lit) return null;
      literals.push(lit[1]!.replace(/''/g, "'").toLowerCase());
    }
    return { literals };
  }
  return null;
}
