// The verification step of every erasure: looks for the person's identifiers
// where they could still be — every text-like column of every table (not only
// the declared ones), the object keys under the prefixes the person had, and
// the log and mail files Haven wrote into its data dir. Finding one outside
// what the report says was retained fails the erasure.
import { createReadStream, type Dirent, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type RawBuilder, sql } from 'kysely';
import type { Platform } from '../../../platform/platform.ts';
import { CATALOG_SQL, type CatalogColumn, classifyColumn } from './scan-columns.ts';
import type { ErasurePlan, TableOutcome, VerificationFinding, VerificationReport } from './types.ts';

/** The erasure's own bookkeeping holds the plan while it runs; it is cleared when the erasure is done. */
const NOT_SCANNED = new Set(['public.privacy_erasures', 'public.kysely_migration', 'public.kysely_migration_lock']);
/** Connections scanning at once: the two largest tables side by side, the small ones alongside. */
const SCAN_CONCURRENCY = 3;

const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface VerifyInput { plan: ErasurePlan; retained: TableOutcome[] }

export async function verifyErasure(platform: Platform, input: VerifyInput): Promise<VerificationReport> {
  const { plan } = input;
  const allowed = new Set(input.retained.flatMap((o) => o.columns.map((c) => `public.${o.table}.${c}`)));
  const found: VerificationFinding[] = [];
  // The object listing and the file reads wait on I/O while the database scan keeps the CPUs busy.
  const [db, storage, logs] = await Promise.all([
    scanDatabase(platform, plan, found),
    scanStorage(platform, plan, found),
    scanFiles(platform.config.dataDir, plan, found),
  ]);
  const findings = found.filter((f) => !(f.place === 'database' && allowed.has(f.where)));
  const retainedFindings = found.filter((f) => f.place === 'database' && allowed.has(f.where));
  return { ok: findings.length === 0, findings, retainedFindings, database: db, storage, logs };
}

interface ScanTable {
  schema: string;
  table: string;
  pages: number;
  uuid: { name: string; array: boolean }[];
  text: { name: string; needles: string[]; names: string[] }[];
}

async function scanDatabase(platform: Platform, plan: ErasurePlan, found: VerificationFinding[]): Promise<VerificationReport['database']> {
  const started = Date.now();
  const ids = plan.identities;
  const uuids = [...new Set([...ids.userIds, ...ids.audienceIds].map((u) => u.toLowerCase()))];
  const needles = [...new Set([...(ids.email ? [ids.email.toLowerCase()] : []), ...uuids])];
  const names = [...new Set(ids.names.map((n) => n.toLowerCase()).filter((n) => n.length >= 3))];
  const { rows: cols } = await platform.db.ownerPool.query<CatalogColumn>(CATALOG_SQL);
  const tables = new Map<string, ScanTable>();
  const skipped: Record<string, number> = {};
  let columnCount = 0;
  for (const c of cols) {
    const key = `${c.schema}.${c.table}`;
    if (NOT_SCANNED.has(key)) continue;
    const how = classifyColumn(c, needles, names);
    if (how.kind === 'skip') {
      skipped[how.reason] = (skipped[how.reason] ?? 0) + 1;
      continue;
    }
    if (how.kind === 'uuid' && !uuids.length) continue;
    if (how.kind === 'text' && !how.needles.length && !how.names.length) continue;
    columnCount++;
    if (!tables.has(key)) tables.set(key, { schema: c.schema, table: c.table, pages: Number(c.pages), uuid: [], text: [] });
    const t = tables.get(key)!;
    if (how.kind === 'uuid') t.uuid.push({ name: c.column, array: how.array });
    else t.text.push({ name: c.column, needles: how.needles, names: how.names });
  }
  // Largest first, so the big tables are scanned side by side rather than one after the other at the end.
  const queue = [...tables.values()].sort((a, b) => b.pages - a.pages);
  const profile: { table: string; ms: number }[] = [];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const t0 = Date.now();
      const { query, checks } = scanQuery(t, uuids);
      // Haven's tables are read as the app role in platform scope; other schemas (the job queue) as the owner.
      const result = t.schema === 'public'
        ? await platform.db.withPlatform((tx) => query.execute(tx))
        : await (async () => {
            const compiled = query.compile(platform.db.app);
            return platform.db.ownerPool.query<Record<string, string>>(compiled.sql, compiled.parameters as unknown[]);
          })();
      const row = result.rows[0] ?? {};
      checks.forEach((ch, i) => {
        const n = Number(row[`c${i}`] ?? 0);
        if (n > 0) found.push({ place: 'database', where: `${t.schema}.${t.table}.${ch.column}`, identifier: ch.identifier, rows: n });
      });
      profile.push({ table: `${t.schema}.${t.table}`, ms: Date.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: SCAN_CONCURRENCY }, worker));
  profile.sort((a, b) => b.ms - a.ms);
  return { tables: tables.size, columns: columnCount, ms: Date.now() - started, skipped, slowest: profile.slice(0, 5) };
}

/**
 * One pass over the table: the WHERE clause lower-cases the row's searched
 * text columns joined by chr(1) once and matches every identifier against it
 * (a substring for the email and ids; chr(1) + name + chr(1) for a name as a
 * whole value), or a uuid column equals an id. Only the rows it lets through —
 * none, when the person is gone — are then counted column by column.
 */
function scanQuery(t: ScanTable, uuids: string[]) {
  const checks: { column: string; identifier: string; expr: RawBuilder<unknown> }[] = [];
  for (const c of t.uuid) {
    const ref = sql.ref(c.name);
    checks.push({ column: c.name, identifier: 'id', expr: c.array ? sql`${ref} && ${uuids}::uuid[]` : sql`${ref} = any(${uuids}::uuid[])` });
  }
  const sep = '\u0001';
  const prefilter: RawBuilder<unknown>[] = [];
  if (t.text.length) {
    const patterns = [...new Set(t.text.flatMap((c) => [...c.needles.map(likePattern), ...c.names.map((n) => likePattern(`${sep}${n}${sep}`))]))];
    const joined = sql.join(t.text.map((c) => sql`${sql.ref(c.name)}::text`));
    prefilter.push(sql`lower(chr(1) || concat_ws(chr(1), ${joined}) || chr(1)) like any(${patterns}::text[])`);
    for (const c of t.text) {
      const text = sql`lower(${sql.ref(c.name)}::text)`;
      if (c.needles.length) checks.push({ column: c.name, identifier: 'email_or_id', expr: sql`${text} like any(${c.needles.map(likePattern)}::text[])` });
      if (c.names.length) checks.push({ column: c.name, identifier: 'name', expr: sql`${text} = any(${c.names}::text[])` });
    }
  }
  prefilter.push(...checks.filter((ch) => ch.identifier === 'id').map((ch) => ch.expr));
  const counts = sql.join(checks.map((ch, i) => sql`count(*) filter (where ${ch.expr}) as ${sql.ref(`c${i}`)}`));
  const query = sql<Record<string, string>>`select ${counts} from ${sql.table(`${t.schema}.${t.table}`)} where ${sql.join(prefilter, sql` or `)}`;
  return { query, checks };
}

async function scanStorage(platform: Platform, plan: ErasurePlan, found: VerificationFinding[]): Promise<VerificationReport['storage']> {
  const ids = [...plan.identities.userIds, ...plan.identities.audienceIds, ...(plan.identities.email ? [plan.identities.email] : [])];
  let prefixes = 0;
  let listed = 0;
  for (const { region, prefixes: own } of plan.objects) {
    const store = platform.storage.forRegion(region);
    for (const prefix of own) {
      prefixes++;
      let left = 0;
      for await (const o of store.list(prefix)) { left++; listed++; void o; }
      if (left) found.push({ place: 'storage', where: `${region}:${prefix}`, identifier: 'owned_media', rows: left });
    }
  }
  // Object keys are built from ids of tenants, videos and attachments, never of people; this proves it for the tenants involved.
  for (const region of platform.storage.regions()) {
    const store = platform.storage.forRegion(region);
    for (const tenantId of plan.identities.tenantIds) {
      for (const prefix of [`t/${tenantId}/`, `tenants/${tenantId}/`]) {
        prefixes++;
        for await (const o of store.list(prefix)) {
          listed++;
          const key = o.key.toLowerCase();
          const hit = ids.find((id) => key.includes(id.toLowerCase()));
          if (hit) found.push({ place: 'storage', where: `${region}:${o.key}`, identifier: hit.includes('@') ? 'email' : 'id' });
        }
      }
    }
  }
  return { prefixesChecked: prefixes, objectsListed: listed, note: 'object keys are checked; object contents are encrypted (HVN1 / AES-128 with per-video keys) and not searched' };
}

/** Log, ledger and mail files Haven wrote into the data dir (the embedded PostgreSQL's server.log included). */
async function scanFiles(dataDir: string, plan: ErasurePlan, found: VerificationFinding[]): Promise<VerificationReport['logs']> {
  const needles = [...(plan.identities.email ? [{ kind: 'email', value: plan.identities.email }] : []), ...plan.identities.userIds.map((value) => ({ kind: 'user_id', value }))];
  const unreadable: string[] = [];
  let files = 0;
  const skipDirs = new Set(['storage', 'staging', 'secrets', 'base', 'global', 'pg_wal', 'pg_xact', 'pg_multixact', 'pg_subtrans']);
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      unreadable.push(relative(dataDir, dir) || '.');
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!skipDirs.has(e.name)) await walk(path);
      } else if (e.isFile() && /\.(log|ndjson|eml|jsonl)$/.test(e.name)) {
        files++;
        try {
          for (const kind of await fileContains(path, needles)) found.push({ place: 'logs', where: relative(dataDir, path), identifier: kind });
        } catch {
          unreadable.push(relative(dataDir, path));
        }
      }
    }
  };
  if (needles.length) await walk(dataDir);
  return { filesScanned: files, unreadable, note: 'Haven logs to stdout through a filter that pseudonymizes emails and addresses; files Haven or its embedded PostgreSQL wrote in the data dir (*.log, *.ndjson, *.jsonl, mail outbox *.eml) are searched for the email and user ids' };
}

async function fileContains(path: string, needles: { kind: string; value: string }[]): Promise<string[]> {
  if (statSync(path).size === 0) return [];
  const lowered = needles.map((n) => ({ ...n, value: n.value.toLowerCase() }));
  const longest = Math.max(...lowered.map((n) => n.value.length));
  const hits = new Set<string>();
  let tail = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = (tail + (chunk as string)).toLowerCase();
    for (const n of lowered) if (text.includes(n.value)) hits.add(n.kind);
    tail = text.slice(-longest);
  }
  return [...hits];
}
