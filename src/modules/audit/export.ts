// Streaming export of a time range as NDJSON or CSV, inside one transaction
// scoped to the tenant, fetching only as fast as the consumer drains, so
// memory stays flat however many entries the range holds. NDJSON, the bulk
// format, is a COPY whose bytes go from the socket to the consumer without
// becoming strings (copy-out.ts); CSV reads a server-side cursor, because its
// cells are quoted and guarded against formulas here.
import { Readable } from 'node:stream';
import { beginScoped, type Database } from '../../platform/db/database.ts';
import { copyOut } from '../../platform/db/copy-out.ts';
import { csvColumns, type EventQuery, exportCopyStatement, fetchExport, openExportCursor } from './store.ts';

export const exportFormats = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof exportFormats)[number];

// Small CSV batches: whatever is in flight when the young generation is
// collected survives it, and survivors are what make V8 grow the young
// generation and promote garbage into the old one. (Measured on the NDJSON
// export when it read this cursor too: over a million entries, 100 rows left
// the process's peak ~30 MB below 1,000 rows.)
const BATCH = 100;

/**
 * One CSV cell (RFC 4180 quoting). A text cell a spreadsheet would run as a
 * formula (leading = + - @, tab or carriage return) gets a leading apostrophe.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvHeader = csvColumns.map(([name]) => name).join(',') + '\r\n';
const csvNames = csvColumns.map(([name]) => name);
const csvLine = (row: Record<string, string | null>) => `${csvNames.map((name) => csvCell(row[name])).join(',')}\r\n`;
const csvBatch = (rows: Record<string, string | null>[]) => Buffer.from(rows.map(csvLine).join(''));

class ExportAborted extends Error {}

export async function streamExport(db: Database, query: EventQuery, format: ExportFormat): Promise<Readable> {
  return format === 'csv' ? streamCsv(db, query) : streamNdjson(db, query);
}

/**
 * A COPY on a connection of its own, in a transaction scoped like withTenant's
 * (beginScoped). A COPY cannot be stopped halfway on a connection that is to
 * be reused, so an export that fails or whose consumer goes away closes its
 * connection, which ends the transaction; the pool opens another.
 */
async function streamNdjson(db: Database, query: EventQuery): Promise<Readable> {
  const statement = exportCopyStatement(db.app, query);
  const client = await db.appPool.connect();
  try {
    await client.query(beginScoped('tenant', query.tenantId));
  } catch (err) {
    client.release(err instanceof Error ? err : true);
    throw err;
  }
  const lines = copyOut(client, statement);
  lines.once('close', () => {
    if (!lines.readableEnded) client.release(lines.errored ?? true);
    else client.query('commit').then(() => client.release(), (err: Error) => client.release(err));
  });
  return lines;
}

function streamCsv(db: Database, query: EventQuery): Readable {
  let wake: (() => void) | undefined;
  let aborted = false;
  const resume = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stream = new Readable({
    read: resume,
    destroy(err, callback) {
      // The consumer went away: stop fetching; the transaction rolls back and frees its connection.
      aborted = true;
      resume();
      callback(err);
    },
  });
  const emit = async (chunk: Buffer) => {
    if (aborted) throw new ExportAborted();
    if (!stream.push(chunk)) await new Promise<void>((resolve) => { wake = resolve; });
    if (aborted) throw new ExportAborted();
  };
  db.withTenant(query.tenantId, async (tx) => {
    await openExportCursor(tx, query);
    await emit(Buffer.from(csvHeader));
    for (;;) {
      const rows = await fetchExport(tx, BATCH);
      if (rows.length === 0) return;
      await emit(csvBatch(rows));
    }
  }).then(
    () => { if (!aborted) stream.push(null); },
    (err) => { if (!aborted) stream.destroy(err instanceof Error ? err : new Error(String(err))); },
  );
  return stream;
}
