// Writes a transaction's audit rows. Rows recorded in a transaction opened by
// withTenant/withPlatform are gathered and inserted in one statement just
// before it commits (beforeCommit), so a bulk change that records ten events
// costs one round trip, not ten. They commit or roll back with the change, as
// if each had been inserted when recorded. Anything else in the audit module
// that reads or changes audit rows in the same transaction flushes first.
import { beforeCommit, type Tx } from '../../platform/db/database.ts';
import type { AuditRow } from './events.ts';
import { insertEvents } from './store.ts';

export interface AuditWriter {
  append(tx: Tx, row: AuditRow): Promise<void>;
  /** Inserts what tx has gathered so far. */
  flush(tx: Tx): Promise<void>;
}

export function createAuditWriter(): AuditWriter {
  const pending = new WeakMap<Tx, AuditRow[]>();

  async function flush(tx: Tx): Promise<void> {
    const rows = pending.get(tx);
    if (!rows) return;
    pending.delete(tx);
    await insertEvents(tx, rows);
  }

  return {
    flush,
    async append(tx, row) {
      const rows = pending.get(tx);
      if (rows) rows.push(row);
      else if (beforeCommit(tx, () => flush(tx))) pending.set(tx, [row]);
      else await insertEvents(tx, [row]);
    },
  };
}
