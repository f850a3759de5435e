// Streaming export of a time range as NDJSON or CSV. A server-side cursor
// inside one transaction feeds a Readable that only fetches the next batch
// when the consumer has drained the last one, so memory stays flat however
// many entries the range holds.
import { Readable } from 'node:stream';
import type { Database } from '../../platform/db/database.ts';
import { csvColumns, type EventQuery, fetchExport, openExportCursor } from './store.ts';

export const exportFormats = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof exportFormats)[number];

// Small batches: whatever is in flight when the young generation is collected
// survives it, and survivors are what make V8 grow the young generation and
// promote garbage into the old one. Measured over a million entries, 100 rows
// (~70 KB) left the exporting process's peak ~30 MB below 1,000 rows, with no
// throughput loss beyond the noise of the machine.
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
const NEWLINE = 0x0a;

/**
 * One batch as bytes, written straight into a Buffer of the right size: no
 * joined string (one more copy of the batch, and above 128 KB a large-object
 * allocation in the old generation) and no per-line copy with the newline
 * appended. Measured, this is what keeps the used heap flat (~20 MB) through
 * a million entries, where join() let it swing between 20 and 90 MB.
 */
function ndjsonBatch(rows: Record<string, string | null>[]): Buffer {
  let size = 0;
  for (const row of rows) size += Buffer.byteLength(row.line!) + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const row of rows) {
    at += out.write(row.line!, at);
    out[at++] = NEWLINE;
  }
  return out;
}

const csvBatch = (rows: Record<string, string | null>[]) => Buffer.from(rows.map(csvLine).join(''));

class ExportAborted extends Error {}

export function streamExport(db: Database, query: EventQuery, format: ExportFormat): Readable {
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
  const batchBytes = format === 'csv' ? csvBatch : ndjsonBatch;
  db.withTenant(query.tenantId, async (tx) => {
    await openExportCursor(tx, query, format === 'csv' ? 'csv' : 'json');
    if (format === 'csv') await emit(Buffer.from(csvHeader));
    for (;;) {
      const rows = await fetchExport(tx, BATCH);
      if (rows.length === 0) return;
      // One Buffer per batch, pushed as bytes (not a string the stream would convert).
      await emit(batchBytes(rows));
    }
  }).then(
    () => { if (!aborted) stream.push(null); },
    (err) => { if (!aborted) stream.destroy(err instanceof Error ? err : new Error(String(err))); },
  );
  return stream;
}
