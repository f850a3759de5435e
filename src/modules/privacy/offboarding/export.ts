// The tenant's full export: a ZIP (fflate) with every row of every table the
// data map knows that has a tenant_id column, the tenant itself and its
// members' accounts, a listing of every object it has in every region, and —
// when asked — the media originals decrypted. Credentials (password hashes,
// token hashes, TOTP seeds, the tenant's keys) are withheld: handing them out
// would weaken the very accounts they protect.
import { sql } from 'kysely';
import { decryptStream } from '../../../platform/crypto/stream.ts';
import type { ColumnDeclaration } from '../../../platform/datamap.ts';
import type { Tx } from '../../../platform/db/database.ts';
import type { Platform } from '../../../platform/platform.ts';
import { combinedDataMap } from '../../datamaps.ts';
import { dataKeyPurpose } from '../../media/keys.ts';
import { seeTrash } from '../trash/index.ts';

// fflate is loaded when the first archive is built, not at start-up: exports are rare.
let loaded: Promise<typeof import('fflate')> | undefined;
const fflate = () => (loaded ??= import('fflate'));

const CREDENTIAL = /^user\.authorization\.credentials/;
/** Key material: never exported, whatever the data map says. */
const WITHHELD_TABLES = new Set(['tenant_keys']);

function withheld(decl: ColumnDeclaration | undefined): boolean {
  return Boolean(decl?.personal && CREDENTIAL.test(decl.category));
}

function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Tables of the data map with a tenant_id column (sorted), i.e. the rows a tenant owns. */
export function tenantTables(): string[] {
  return Object.entries(combinedDataMap()).filter(([, cols]) => 'tenant_id' in cols).map(([t]) => t).sort();
}

export interface ExportSummary { rows: Record<string, number>; objects: number; media: number; mediaBytes: number }

export async function buildTenantExport(platform: Platform, tenantId: string, opts: { includeMedia: boolean; now: Date }): Promise<{ zip: Buffer; summary: ExportSummary }> {
  const { db, storage, keyring } = platform;
  const map = combinedDataMap();
  const chunks: Uint8Array[] = [];
  let zipError: Error | null = null;
  const { Zip, ZipDeflate, ZipPassThrough } = await fflate();
  const zip = new Zip((err, data) => { if (err) zipError = err; else chunks.push(data); });
  const add = (name: string, data: Uint8Array, deflate = true) => {
    const entry = deflate ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    entry.mtime = opts.now;
    zip.add(entry);
    entry.push(data, true);
  };
  const addJson = (name: string, value: unknown) => add(name, Buffer.from(`${JSON.stringify(value, (_k, v) => plain(v), 2)}\n`));
  const summary: ExportSummary = { rows: {}, objects: 0, media: 0, mediaBytes: 0 };

  await db.withTenant(tenantId, async (tx: Tx) => {
    await seeTrash(tx); // trashed rows are the tenant's too
    const clean = (table: string, rows: Record<string, unknown>[]) =>
      rows.map((r) => Object.fromEntries(Object.entries(r).map(([c, v]) => [c, withheld(map[table]?.[c]) ? '(withheld: a credential)' : v])));
    for (const table of tenantTables()) {
      if (WITHHELD_TABLES.has(table)) continue;
      const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(tx);
      summary.rows[table] = rows.length;
      addJson(`tables/${table}.json`, clean(table, rows));
    }
    const tenant = await tx.selectFrom('tenants').selectAll().where('id', '=', tenantId).execute();
    summary.rows.tenants = tenant.length;
    addJson('tables/tenants.json', clean('tenants', tenant));
    const { rows: users } = await sql<Record<string, unknown>>`select u.* from users u where u.id in (select user_id from memberships where tenant_id = ${tenantId})`.execute(tx);
    summary.rows.users = users.length;
    addJson('tables/users.json', clean('users', users));

    if (opts.includeMedia) {
      const { rows: videos } = await sql<{ id: string; region: string; original_key: string | null; data_key_wrapped: string | null }>`
        select id, region, original_key, data_key_wrapped from videos where tenant_id = ${tenantId} and original_key is not null and data_key_wrapped is not null order by id`.execute(tx);
      for (const v of videos) {
        const key = await keyring.unwrapDataKey(tx, tenantId, v.data_key_wrapped!, dataKeyPurpose(v.id));
        const parts: Buffer[] = [];
        for await (const chunk of (await storage.forRegion(v.region).get(v.original_key!)).pipe(decryptStream(key))) parts.push(chunk as Buffer);
        const body = Buffer.concat(parts);
        add(`media/${v.id}/original`, body, false);
        summary.media += 1;
        summary.mediaBytes += body.length;
      }
    }
  });

  const objects: { region: string; jurisdiction: string; key: string; size: number; etag: string; modified: string }[] = [];
  for (const region of storage.regions()) {
    for await (const o of storage.forRegion(region).list(`t/${tenantId}/`)) {
      objects.push({ region, jurisdiction: storage.locationJurisdiction(region), key: o.key, size: o.size, etag: o.etag, modified: o.modified.toISOString() });
    }
  }
  summary.objects = objects.length;
  addJson('objects.json', objects);
  addJson('manifest.json', {
    format: 'haven-tenant-export/1',
    tenantId,
    generatedAt: opts.now.toISOString(),
    mediaIncluded: opts.includeMedia,
    rows: summary.rows,
    objects: summary.objects,
    media: summary.media,
    withheld: ['tenant_keys (key material)', 'columns of category user.authorization.credentials'],
  });
  zip.end();
  if (zipError) throw zipError;
  return { zip: Buffer.concat(chunks), summary };
}
