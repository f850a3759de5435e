// What every delete path shares: the trash window of the tenant and the
// opt-in that lets a transaction see trashed rows. Trashed videos,
// collections and memberships are hidden by a restrictive row-level policy
// (migration 0016) unless the transaction sets app.trash = 'visible' — the
// trash itself does, and so must erasure and export, which reach trashed
// rows too. Imported by the library and identity delete paths; imports no
// module but identity's settings.
import { sql } from 'kysely';
import type { Tx } from '../../../platform/db/database.ts';
import { tenantSettingsSchema } from '../../identity/settings.ts';

export const trashTypes = ['video', 'collection', 'user'] as const;
export type TrashType = (typeof trashTypes)[number];

/** Lets this transaction see (and change) trashed rows. */
export async function seeTrash(tx: Tx): Promise<void> {
  await sql`select set_config('app.trash', 'visible', true)`.execute(tx);
}

/** Hides trashed rows again in this transaction (after the trash work is done). */
export async function hideTrash(tx: Tx): Promise<void> {
  await sql`select set_config('app.trash', '', true)`.execute(tx);
}

export interface TrashWindow { deletedAt: Date; purgeAfter: Date; retentionDays: number }

/** When something deleted now is purged: the tenant's trashRetentionDays (default 30) from now. */
export async function trashWindow(tx: Tx, tenantId: string, now: Date): Promise<TrashWindow> {
  const row = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirst();
  const retentionDays = tenantSettingsSchema.parse(row?.settings ?? {}).trashRetentionDays;
  return { deletedAt: now, purgeAfter: new Date(now.getTime() + retentionDays * 86_400_000), retentionDays };
}

/** The columns a delete path sets (and restore clears). */
export const trashColumns = (w: TrashWindow, deletedBy: string | undefined) => ({
  deleted_at: w.deletedAt, deleted_by: deletedBy ?? null, purge_after: w.purgeAfter,
});
