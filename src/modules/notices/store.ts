// SQL for platform_notices, nothing else.
import type { Tx } from '../../platform/db/database.ts';

export interface NoticeRow {
  id: string;
  message: Record<string, string>;
  severity: 'info' | 'warning';
  starts_at: Date;
  ends_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

export const insertNotice = (tx: Tx, row: Omit<NoticeRow, 'created_at'>) =>
  tx.insertInto('platform_notices').values({ ...row, message: JSON.stringify(row.message) }).returningAll().executeTakeFirstOrThrow() as Promise<NoticeRow>;

/** Every notice, the newest start first. */
export const allNotices = (tx: Tx) =>
  tx.selectFrom('platform_notices').selectAll().orderBy('starts_at', 'desc').orderBy('id').execute() as Promise<NoticeRow[]>;

/** Notices shown at this instant, the most severe and the newest first. */
export const currentNotices = (tx: Tx, now: Date) =>
  tx.selectFrom('platform_notices').selectAll()
    .where('starts_at', '<=', now)
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
    .orderBy('severity', 'desc').orderBy('starts_at', 'desc').orderBy('id')
    .execute() as Promise<NoticeRow[]>;

export const deleteNotice = (tx: Tx, id: string) =>
  tx.deleteFrom('platform_notices').where('id', '=', id).returningAll().executeTakeFirst() as Promise<NoticeRow | undefined>;
