// Per-tenant media limits: an operator's row in media_quotas, else the
// configured defaults. Storage is checked when an upload is created, with the
// upload's declared length counted as used until it completes, under a
// per-tenant lock so two creations cannot both squeeze into the last gap.
import { sql } from 'kysely';
import type { Config } from '../../config.ts';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { quotaRow, storageCommitted } from './store.ts';

export interface TenantMediaLimits {
  storageBytes: number;
  maxFileBytes: number;
  maxDurationSeconds: number;
}

type Defaults = Pick<Config, 'mediaStorageQuotaBytes' | 'mediaMaxFileBytes' | 'mediaMaxDurationSeconds'>;

export async function tenantLimits(tx: Tx, tenantId: string, defaults: Defaults): Promise<TenantMediaLimits> {
  const row = await quotaRow(tx, tenantId);
  return {
    storageBytes: row?.storage_bytes ?? defaults.mediaStorageQuotaBytes,
    maxFileBytes: row?.max_file_bytes ?? defaults.mediaMaxFileBytes,
    maxDurationSeconds: row?.max_duration_seconds ?? defaults.mediaMaxDurationSeconds,
  };
}

/** Throws when an upload of `size` bytes would break the tenant's limits. */
export async function assertUploadFits(tx: Tx, tenantId: string, size: number, defaults: Defaults): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`media-quota:${tenantId}`}))`.execute(tx);
  const limits = await tenantLimits(tx, tenantId, defaults);
  if (size > limits.maxFileBytes) {
    throw new AppError('file_too_large', 413, `The file is ${formatBytes(size)}; this organization accepts files up to ${formatBytes(limits.maxFileBytes)}.`, { maxFileBytes: limits.maxFileBytes });
  }
  const used = await storageCommitted(tx, tenantId);
  if (used + size > limits.storageBytes) {
    throw new AppError('storage_quota_exceeded', 413, `Uploading ${formatBytes(size)} would exceed this organization's storage of ${formatBytes(limits.storageBytes)} (${formatBytes(used)} in use).`, { storageBytes: limits.storageBytes, usedBytes: used });
  }
}

/** Sets (or with null, resets to the default) a tenant's limits; for operators and tests. */
export async function setTenantLimits(tx: Tx, tenantId: string, limits: Partial<{ storageBytes: number | null; maxFileBytes: number | null; maxDurationSeconds: number | null }>): Promise<void> {
  const values = {
    ...(limits.storageBytes !== undefined ? { storage_bytes: limits.storageBytes } : {}),
    ...(limits.maxFileBytes !== undefined ? { max_file_bytes: limits.maxFileBytes } : {}),
    ...(limits.maxDurationSeconds !== undefined ? { max_duration_seconds: limits.maxDurationSeconds } : {}),
  };
  await tx.insertInto('media_quotas').values({ tenant_id: tenantId, ...values })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...values, updated_at: sql`now()` }))
    .execute();
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
