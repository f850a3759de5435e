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
  const emit = async (chunk: Buffer) => {
    if (aborted) throw new ExportAborted();
    if (!stream.push(chunk)) await new Promise<void>((resolve) => { wake = resolve; });
    if (aborted) throw new ExportAborted();
  };
  const line = format === 'csv' ? csvLine : ndjsonLine;
  db.withTenant(query.tenantId, async (tx) => {
    await openExportCursor(tx, query, format === 'csv' ? 'csv' : 'json');
    if (format === 'csv') await emit(Buffer.from(csvHeader));
    for (;;) {
      const rows = await fetchExport(tx, BATCH);
      if (rows.length === 0) return;
      // One flat Buffer per batch: building it with join (not +=) and pushing
      // bytes (not a string the stream converts) leaves no garbage old enough
      // to be promoted, so the heap stays flat over millions of entries.
      await emit(Buffer.from(rows.map(line).join('')));
    }
  }).then(
    () => { if (!aborted) stream.push(null); },
    (err) => { if (!aborted) stream.destroy(err instanceof Error ? err : new Error(String(err))); },
  );
  return stream;
}
