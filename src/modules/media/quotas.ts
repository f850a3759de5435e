// Per-tenant media limits: an operator's row in media_quotas, else the
// configured defaults. Storage is checked when an upload is created, with the
// upload's declared length counted as used until it completes, under a
// per-tenant lock so two creations cannot both squeeze into the last gap.
import { sql } from 'kysely';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { RequestContext } from '../identity/actor.ts';
import type { AuditService } from '../audit/service.ts';
import { type QuotaRow, quotaRow, storageCommitted, storageUsage } from './store.ts';

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

/** One limit as a tenant admin sees it: the value in force, and who set it. */
export interface EffectiveLimit { value: number; source: 'tenant' | 'default'; default: number }

export interface TenantQuotas {
  storageBytes: EffectiveLimit;
  maxFileBytes: EffectiveLimit;
  maxDurationSeconds: EffectiveLimit;
  /** Stored objects, and the declared length of uploads still arriving (both count against storage). */
  usage: { storedBytes: number; uploadingBytes: number };
  /** When an operator last changed this tenant's limits; null while all are defaults and never set. */
  updatedAt: Date | null;
}

/** The limits in force for a tenant, each with its source, and what it uses now. */
export async function tenantQuotas(tx: Tx, tenantId: string, defaults: Defaults): Promise<TenantQuotas> {
  const row = await quotaRow(tx, tenantId);
  const limit = (own: number | null | undefined, fallback: number): EffectiveLimit =>
    own == null ? { value: fallback, source: 'default', default: fallback } : { value: Number(own), source: 'tenant', default: fallback };
  const usage = await storageUsage(tx, tenantId);
  return {
    storageBytes: limit(row?.storage_bytes, defaults.mediaStorageQuotaBytes),
    maxFileBytes: limit(row?.max_file_bytes, defaults.mediaMaxFileBytes),
    maxDurationSeconds: limit(row?.max_duration_seconds, defaults.mediaMaxDurationSeconds),
    usage: { storedBytes: usage.stored, uploadingBytes: usage.pending },
    updatedAt: row?.updated_at ?? null,
  };
}

/** An operator's change: a number sets a tenant's own limit, null returns it to the platform default, absent leaves it. */
export const quotaChangeSchema = z.object({
  storageBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  maxFileBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  maxDurationSeconds: z.number().int().min(1).max(24 * 3600).nullable().optional(),
}).strict();
export type QuotaChange = z.infer<typeof quotaChangeSchema>;

/**
 * Changes a tenant's limits (operators only: the caller decides who that is),
 * audited as tenant.quotas.update with the before and after of the tenant's
 * own values in the same transaction. Unknown tenant: tenant_not_found.
 */
export async function updateTenantQuotas(
  tx: Tx, audit: Pick<AuditService, 'record'>, ctx: RequestContext, tenantId: string, change: QuotaChange, defaults: Defaults,
): Promise<TenantQuotas> {
  const parsed = quotaChangeSchema.safeParse(change);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('invalid_quota', 400, `${issue.path.join('.') || 'body'}: ${issue.message}`, { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  const given = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as QuotaChange;
  if (Object.keys(given).length === 0) throw new AppError('invalid_quota', 400, 'Give at least one limit to change (a number of bytes or seconds, or null for the platform default).');
  const tenant = await tx.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().executeTakeFirst();
  if (!tenant) throw new AppError('tenant_not_found', 404, 'No tenant with that id exists.');
  const before = await quotaRow(tx, tenantId);
  await setTenantLimits(tx, tenantId, given);
  const after = await quotaRow(tx, tenantId);
  const own = (r: QuotaRow | undefined) => ({
    storageBytes: r?.storage_bytes == null ? null : Number(r.storage_bytes),
    maxFileBytes: r?.max_file_bytes == null ? null : Number(r.max_file_bytes),
    maxDurationSeconds: r?.max_duration_seconds == null ? null : Number(r.max_duration_seconds),
  });
  await audit.record(tx, { ...ctx, tenantId }, {
    action: 'tenant.quotas.update', target: { type: 'tenant', id: tenantId },
    diff: { before: own(before), after: own(after) },
  });
  return tenantQuotas(tx, tenantId, defaults);
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
