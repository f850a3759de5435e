// The data map as rows: what `haven privacy datamap` prints, docs/privacy.md
// shows, and the record of processing is summed up from.
import type { DataMap, ErasureAction } from '../../../platform/datamap.ts';
import { datamaps } from '../../datamaps.ts';

export interface DataMapRow {
  module: string;
  table: string;
  column: string;
  category: string;
  subject: string;
  purpose: string;
  legalBasis: string;
  retention: string;
  erasure: ErasureAction;
  retainBasis?: string;
}

/** Every personal column, module by module, in declaration order. */
export function dataMapRows(maps: Record<string, DataMap> = datamaps): DataMapRow[] {
  const rows: DataMapRow[] = [];
  for (const [module, map] of Object.entries(maps)) {
    for (const [table, columns] of Object.entries(map)) {
      for (const [column, d] of Object.entries(columns)) {
        if (!d.personal) continue;
        rows.push({
          module, table, column, category: d.category, subject: d.subject, purpose: d.purpose, legalBasis: d.legalBasis,
          retention: d.retention, erasure: d.erasure, ...(d.retainBasis ? { retainBasis: d.retainBasis } : {}),
        });
      }
    }
  }
  return rows;
}

/** A plain-text table for a terminal: one line per personal column. */
export function formatDataMap(rows: DataMapRow[]): string {
  const head = ['table', 'column', 'category', 'subject', 'purpose', 'legal basis', 'retention', 'erasure'];
  const cells = rows.map((r) => [r.table, r.column, r.category, r.subject, r.purpose, r.legalBasis, r.retention, r.erasure === 'retain' ? `retain: ${r.retainBasis}` : r.erasure]);
  // Long prose columns are not padded; the short ones line up.
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i < 4 ? v.padEnd(widths[i]!) : v)).join('  ').trimEnd();
  return [line(head), ...cells.map(line)].join('\n');
}
