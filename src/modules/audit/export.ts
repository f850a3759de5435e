// Streaming export of a time range as NDJSON or CSV. A server-side cursor
// inside one transaction feeds a Readable that only fetches the next batch
// when the consumer has drained the last one, so memory stays flat however
// many entries the range holds.
import { Readable } from 'node:stream';
import type { Database } from '../../platform/db/database.ts';
import { csvColumns, type EventQuery, fetchExport, openExportCursor } from './store.ts';

export const exportFormats = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof exportFormats)[number];

const BATCH = 1000;
// Pushed chunks stay well below V8's large-object threshold (128 KB), so they
// die young in the nursery instead of piling up until a full collection.
const CHUNK_CHARS = 64 * 1024;

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
const csvLine = (row: Record<string, string | null>) => csvNames.map((name) => csvCell(row[name])).join(',') + '\r\n';
const ndjsonLine = (row: Record<string, string | null>) => `${row.line}\n`;

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
  const emit = async (chunk: string) => {
    if (aborted) throw new ExportAborted();
    if (!stream.push(chunk)) await new Promise<void>((resolve) => { wake = resolve; });
    if (aborted) throw new ExportAborted();
  };
  const line = format === 'csv' ? csvLine : ndjsonLine;
  db.withTenant(query.tenantId, async (tx) => {
    await openExportCursor(tx, query, format === 'csv' ? 'csv' : 'json');
    if (format === 'csv') await emit(csvHeader);
    for (;;) {
      const rows = await fetchExport(tx, BATCH);
      if (rows.length === 0) return;
      let chunk = '';
      for (const row of rows) {
        chunk += line(row);
        if (chunk.length >= CHUNK_CHARS) {
          await emit(chunk);
          chunk = '';
        }
      }
      if (chunk) await emit(chunk);
    }
  }).then(
    () => { if (!aborted) stream.push(null); },
    (err) => { if (!aborted) stream.destroy(err instanceof Error ? err : new Error(String(err))); },
  );
  return stream;
}
