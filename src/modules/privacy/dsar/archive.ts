// The access archive (Art. 15 and 20): a ZIP of everything the data map says
// is the subject's, readable by a machine (JSON per data category) and by a
// person (summary.html). Built from the subject locator in one platform-scope
// read; credentials are listed but their values withheld (handing out a
// password hash or TOTP seed would weaken the very account it protects).
import { sql } from 'kysely';
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';
import { decryptStream } from '../../../platform/crypto/stream.ts';
import type { Tx } from '../../../platform/db/database.ts';
import type { Platform } from '../../../platform/platform.ts';
import { datamaps } from '../../datamaps.ts';
import { dataKeyPurpose } from '../../media/keys.ts';
import { type SubjectIdentities, subjectRows } from '../subject/index.ts';

// fflate is loaded when the first archive is built, not at start-up: exports are rare.
let loaded: Promise<typeof import('fflate')> | undefined;
const fflate = () => (loaded ??= import('fflate'));

type Personal = Extract<ColumnDeclaration, { personal: true }>;

export interface ArchiveReport {
  identities: { users: number; audienceAccounts: number; invitations: number; tenants: number };
  /** Rows found per data category (a row counts once per category it holds). */
  rowsPerCategory: Record<string, number>;
  rowsPerTable: Record<string, number>;
  uploads: number;
  mediaIncluded: number;
  mediaBytes: number;
  consents: number;
}

export interface ArchiveOptions {
  requestId: string | null;
  /** Originals up to this many bytes in total go into media/; 0 = links only. */
  mediaLimitBytes: number;
  /** Base URL for links in the archive. */
  baseUrl: string;
  datamap: DataMap;
  now: Date;
}

const CREDENTIAL = /^user\.authorization\.credentials/;
const WITHHELD = '(withheld: a security credential; it exists but is not handed out)';

function moduleOf(table: string): string {
  for (const [module, map] of Object.entries(datamaps)) if (map[table]) return module;
  return 'unknown';
}

/** JSON-safe values: bytes as base64, dates as ISO text. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

const categoryFile = (category: string) => `data/${category.replace(/[^a-z0-9_.-]/gi, '_')}.json`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface CategoryInfo { category: string; purposes: Set<string>; legalBases: Set<string>; retention: Set<string>; sources: Set<string>; rows: number }

/** Builds the archive. `tx` must see every tenant of the identities' scope (platform scope for operators). */
export async function buildArchive(platform: Platform, tx: Tx, identities: SubjectIdentities, opts: ArchiveOptions): Promise<{ zip: Buffer; report: ArchiveReport }> {
  const found = await subjectRows(tx, identities, opts.datamap);
  const categories = new Map<string, CategoryInfo>();
  const items = new Map<string, Record<string, unknown>[]>();
  const rowsPerTable: Record<string, number> = {};

  for (const t of found.tables) {
    if (!t.rows.length) continue;
    rowsPerTable[t.table] = (rowsPerTable[t.table] ?? 0) + t.rows.length;
    const decls = opts.datamap[t.table]!;
    const byCategory = new Map<string, string[]>();
    for (const column of t.columns) {
      const d = decls[column] as Personal;
      byCategory.set(d.category, [...(byCategory.get(d.category) ?? []), column]);
      const info = categories.get(d.category) ?? { category: d.category, purposes: new Set(), legalBases: new Set(), retention: new Set(), sources: new Set(), rows: 0 };
      info.purposes.add(d.purpose); info.legalBases.add(d.legalBasis); info.retention.add(d.retention);
      info.sources.add(`${moduleOf(t.table)}: ${t.table}.${column}`);
      categories.set(d.category, info);
    }
    for (const [category, columns] of byCategory) {
      const list = items.get(category) ?? [];
      for (const row of t.rows) {
        const values: Record<string, unknown> = {};
        for (const c of columns) values[c] = CREDENTIAL.test(category) && row[c] !== null ? WITHHELD : plain(row[c]);
        list.push({ source: `${moduleOf(t.table)}.${t.table}`, ...(row.tenant_id !== undefined ? { tenantId: row.tenant_id } : {}), values });
      }
      items.set(category, list);
      categories.get(category)!.rows += t.rows.length;
    }
  }

  const scopeSql = (column: string) => (identities.scope ? sql`and ${sql.ref(column)} = any(${identities.scope}::uuid[])` : sql``);
  const consents = identities.userIds.length
    ? (await sql<Record<string, unknown>>`
        select r.tenant_id, d.kind, d.version, d.title, r.decision, r.method, r.recorded_at
        from consent_records r join consent_documents d on d.id = r.document_id
        where r.user_id = any(${identities.userIds}::uuid[]) ${scopeSql('r.tenant_id')}
        order by r.recorded_at`.execute(tx)).rows
    : [];
  const videos = identities.userIds.length
    ? (await sql<{ id: string; tenant_id: string; region: string; title: string; status: string; created_at: Date; source_size_bytes: number | null; original_key: string | null; data_key_wrapped: string | null }>`
        select id, tenant_id, region, title, status, created_at, source_size_bytes, original_key, data_key_wrapped from videos
        where owner_id = any(${identities.userIds}::uuid[]) ${scopeSql('tenant_id')} order by created_at`.execute(tx)).rows
    : [];

  const chunks: Uint8Array[] = [];
  let zipError: Error | null = null;
  const { Zip, ZipDeflate, ZipPassThrough } = await fflate();
  const zip = new Zip((err, data) => { if (err) zipError = err; else chunks.push(data); });
  const addFile = (name: string, data: Uint8Array, deflate = true) => {
    const entry = deflate ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    entry.mtime = opts.now;
    zip.add(entry);
    entry.push(data, true);
  };
  const addJson = (name: string, value: unknown) => addFile(name, Buffer.from(`${JSON.stringify(value, null, 2)}\n`));

  // Originals, decrypted with each video's data key, while the running total stays within the limit.
  let mediaBytes = 0;
  const included = new Set<string>();
  for (const v of videos) {
    const size = Number(v.source_size_bytes ?? 0);
    if (!opts.mediaLimitBytes || !v.original_key || !v.data_key_wrapped || mediaBytes + size > opts.mediaLimitBytes) continue;
    const key = await platform.keyring.unwrapDataKey(tx, v.tenant_id, v.data_key_wrapped, dataKeyPurpose(v.id));
    const parts: Buffer[] = [];
    const stream = (await platform.storage.forRegion(v.region).get(v.original_key)).pipe(decryptStream(key));
    for await (const chunk of stream) parts.push(chunk as Buffer);
    addFile(`media/${v.id}`, Buffer.concat(parts), false);
    mediaBytes += size;
    included.add(v.id);
  }

  const uploads = videos.map((v) => ({
    id: v.id, tenantId: v.tenant_id, title: v.title, status: v.status, createdAt: v.created_at.toISOString(), sizeBytes: v.source_size_bytes,
    downloadUrl: `${opts.baseUrl}/watch/${v.id}`, apiUrl: `${opts.baseUrl}/api/v1/videos/${v.id}`,
    includedAs: included.has(v.id) ? `media/${v.id}` : null,
  }));
  const categoryList = [...categories.values()].sort((a, b) => a.category.localeCompare(b.category)).map((c) => ({
    category: c.category, file: categoryFile(c.category), rows: c.rows,
    purposes: [...c.purposes], legalBases: [...c.legalBases], retention: [...c.retention], sources: [...c.sources].sort(),
  }));
  const recipients = Array.isArray((platform.config as { subprocessors?: unknown }).subprocessors)
    ? ((platform.config as { subprocessors: Record<string, unknown>[] }).subprocessors).map((s) => ({ name: s.name, purpose: s.purpose, location: s.location, jurisdiction: s.jurisdiction, dataCategories: s.dataCategories, transferBasis: s.transferBasis ?? null }))
    : [];
  const manifest = {
    format: 'haven-dsar-export/1',
    generatedAt: opts.now.toISOString(),
    requestId: opts.requestId,
    subject: {
      email: identities.email,
      users: identities.userIds,
      audienceAccounts: identities.audienceAccounts,
      tenants: identities.tenantIds,
    },
    scope: identities.scope ?? 'every tenant',
    categories: categoryList,
    notLocatable: found.unlocatable.map((u) => ({ table: u.table, columns: u.columns, reason: u.reason })),
    recipients,
    files: ['manifest.json', 'summary.html', 'consents.json', 'uploads.json', ...categoryList.map((c) => c.file), ...[...included].map((id) => `media/${id}`)],
  };

  addJson('manifest.json', manifest);
  for (const c of categoryList) addJson(c.file, { category: c.category, purposes: c.purposes, items: items.get(c.category) ?? [] });
  addJson('consents.json', consents.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)]))));
  addJson('uploads.json', uploads);
  addFile('summary.html', Buffer.from(summaryHtml(manifest, uploads.length, consents.length)));
  zip.end();
  if (zipError) throw zipError;

  const report: ArchiveReport = {
    identities: { users: identities.userIds.length, audienceAccounts: identities.audienceIds.length, invitations: identities.invitations.length, tenants: identities.tenantIds.length },
    rowsPerCategory: Object.fromEntries(categoryList.map((c) => [c.category, c.rows])),
    rowsPerTable,
    uploads: uploads.length,
    mediaIncluded: included.size,
    mediaBytes,
    consents: consents.length,
  };
  return { zip: Buffer.concat(chunks), report };
}

function summaryHtml(manifest: { generatedAt: string; subject: { email: string | null }; categories: { category: string; rows: number; purposes: string[]; legalBases: string[]; retention: string[]; sources: string[] }[]; recipients: { name: unknown; purpose: unknown }[] }, uploads: number, consents: number): string {
  const e = escapeHtml;
  const rows = manifest.categories.map((c) => `
      <tr><td><code>${e(c.category)}</code></td><td>${c.rows}</td><td>${c.purposes.map(e).join('<br>')}</td><td>${c.legalBases.map(e).join('<br>')}</td><td>${c.retention.map(e).join('<br>')}</td><td>${c.sources.map(e).join('<br>')}</td></tr>`).join('');
  const recipients = manifest.recipients.length
    ? `<ul>${manifest.recipients.map((r) => `<li>${e(String(r.name))}${r.purpose ? ` — ${e(String(r.purpose))}` : ''}</li>`).join('')}</ul>`
    : '<p>No subprocessors receive personal data in this installation.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your data in Haven</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left;font-size:.9rem}code{font-size:.85rem}</style>
</head><body>
<h1>Your data in Haven</h1>
<p>This archive was made on ${e(manifest.generatedAt)} for ${e(manifest.subject.email ?? 'the requested person')}. It holds every piece of personal data Haven keeps about you in the organizations covered by the request: one file per kind of data in <code>data/</code>, your consent history in <code>consents.json</code> (${consents} decisions), and the videos you uploaded in <code>uploads.json</code> (${uploads}).</p>
<h2>What we hold, why, and for how long</h2>
${manifest.categories.length ? `<table><thead><tr><th>Kind of data</th><th>Records</th><th>Why</th><th>Legal basis</th><th>How long</th><th>Where</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>Haven holds no personal data about you in the organizations covered by this request.</p>'}
<h2>Who else receives it</h2>
${recipients}
<p>Security credentials (password hashes, two-factor secrets, passkeys) are listed but their values are withheld. Audit entries name you only by pseudonyms.</p>
</body></html>
`;
}
