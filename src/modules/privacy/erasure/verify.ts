// The verification step of every erasure: looks for the person's identifiers
// where they could still be — every text-like column of every table (not only
// the declared ones), the object keys under the prefixes the person had, and
// the log and mail files Haven wrote into its data dir. Finding one outside
// what the report says was retained fails the erasure.
import { createReadStream, type Dirent, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sql } from 'kysely';
import type { Platform } from '../../../platform/platform.ts';
import type { ErasurePlan, TableOutcome, VerificationFinding, VerificationReport } from './types.ts';

/** The erasure's own bookkeeping holds the plan while it runs; it is cleared when the erasure is done. */
const NOT_SCANNED = new Set(['public.privacy_erasures', 'public.kysely_migration', 'public.kysely_migration_lock']);
const TEXTLIKE = new Set(['text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED', 'uuid', 'name']);
const SCAN_CONCURRENCY = 3;

const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface VerifyInput { plan: ErasurePlan; retained: TableOutcome[] }

export async function verifyErasure(platform: Platform, input: VerifyInput): Promise<VerificationReport> {
  const { plan } = input;
  const allowed = new Set(input.retained.flatMap((o) => o.columns.map((c) => `public.${o.table}.${c}`)));
  const found: VerificationFinding[] = [];
  const db = await scanDatabase(platform, plan, found);
  const storage = await scanStorage(platform, plan, found);
  const logs = await scanFiles(platform.config.dataDir, plan, found);
  const findings = found.filter((f) => !(f.place === 'database' && allowed.has(f.where)));
  const retainedFindings = found.filter((f) => f.place === 'database' && allowed.has(f.where));
  return { ok: findings.length === 0, findings, retainedFindings, database: db, storage, logs };
}

async function scanDatabase(platform: Platform, plan: ErasurePlan, found: VerificationFinding[]): Promise<VerificationReport['database']> {
  const started = Date.now();
  const ids = plan.identities;
  const uuids = [...ids.userIds, ...ids.audienceIds];
  const substrings = [...(ids.email ? [ids.email] : []), ...uuids].map(likePattern);
  const names = ids.names.map((n) => n.toLowerCase()).filter((n) => n.length >= 3);
  const { rows: cols } = await platform.db.ownerPool.query<{ schema: string; table: string; column: string; type: string }>(`
    select c.table_schema as schema, c.table_name as table, c.column_name as column, c.data_type as type
    from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
    where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
    order by 1, 2, c.ordinal_position`);
  const tables = new Map<string, { schema: string; table: string; columns: { name: string; type: string }[] }>();
  for (const c of cols) {
    const key = `${c.schema}.${c.table}`;
    if (NOT_SCANNED.has(key) || !TEXTLIKE.has(c.type)) continue;
    if (!tables.has(key)) tables.set(key, { schema: c.schema, table: c.table, columns: [] });
    tables.get(key)!.columns.push({ name: c.column, type: c.type });
  }
  let columnCount = 0;
  const queue = [...tables.values()];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const checks: { column: string; identifier: string; expr: ReturnType<typeof sql> }[] = [];
      for (const c of t.columns) {
        const ref = sql.ref(c.name);
        if (c.type === 'uuid') {
          // A uuid column can only hold the ids, whole: equality, which indexes serve.
          if (uuids.length) checks.push({ column: c.name, identifier: 'id', expr: sql`${ref} = any(${uuids}::uuid[])` });
          continue;
        }
        const text = c.type === 'text' || c.type === 'character varying' || c.type === 'character' ? sql`${ref}` : sql`${ref}::text`;
        if (substrings.length) checks.push({ column: c.name, identifier: 'email_or_id', expr: sql`${text} ilike any(${substrings}::text[])` });
        if (names.length) checks.push({ column: c.name, identifier: 'name', expr: sql`lower(${text}) = any(${names}::text[])` });
      }
      columnCount += t.columns.length;
      if (!checks.length) continue;
      // First pass: one pattern match per row over all its text columns joined; most tables end here.
      const textCols = t.columns.filter((c) => c.type !== 'uuid');
      const quick = [
        ...(textCols.length && substrings.length ? [sql`concat_ws(chr(1), ${sql.join(textCols.map((c) => sql`${sql.ref(c.name)}::text`))}) ilike any(${substrings}::text[])`] : []),
        ...checks.filter((ch) => ch.identifier !== 'email_or_id').map((ch) => ch.expr),
      ];
      const probe = sql<{ hit: boolean }>`select exists (select 1 from ${sql.table(`${t.schema}.${t.table}`)} where ${sql.join(quick, sql` or `)}) as hit`;
      const probed = t.schema === 'public'
        ? await platform.db.withPlatform((tx) => probe.execute(tx))
        : await (async () => {
            const compiled = probe.compile(platform.db.app);
            return platform.db.ownerPool.query<{ hit: boolean }>(compiled.sql, compiled.parameters as unknown[]);
          })();
      if (!probed.rows[0]?.hit) continue;
      const counts = sql.join(checks.map((ch, i) => sql`count(*) filter (where ${ch.expr}) as ${sql.ref(`c${i}`)}`));
      const query = sql<Record<string, string>>`select ${counts} from ${sql.table(`${t.schema}.${t.table}`)} where ${sql.join(checks.map((c) => c.expr), sql` or `)}`;
      const run = (exec: (q: typeof query) => Promise<{ rows: Record<string, string>[] }>) => exec(query);
      // Haven's tables are read as the app role in platform scope; other schemas (the job queue) as the owner.
      const result = t.schema === 'public'
        ? await platform.db.withPlatform((tx) => run((q) => q.execute(tx)))
        : await (async () => {
            const compiled = query.compile(platform.db.app);
            return platform.db.ownerPool.query<Record<string, string>>(compiled.sql, compiled.parameters as unknown[]);
          })();
      const row = result.rows[0] ?? {};
      checks.forEach((ch, i) => {
        const n = Number(row[`c${i}`] ?? 0);
        if (n > 0) found.push({ place: 'database', where: `${t.schema}.${t.table}.${ch.column}`, identifier: ch.identifier, rows: n });
      });
    }
  };
  await Promise.all(Array.from({ length: SCAN_CONCURRENCY }, worker));
  return { tables: tables.size, columns: columnCount, ms: Date.now() - started };
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
