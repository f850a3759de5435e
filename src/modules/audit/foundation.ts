// Audit events of the platform itself: start and stop, migrations,
// configuration changes, tenant creation, job failures, key operations.
// Platform-wide ones go to the platform chain (PLATFORM_TENANT_ID); those
// about one tenant go to that tenant's chain. Values that could be secret or
// personal are never recorded: configuration appears as keyed fingerprints,
// errors as their name and code.
import type { Config } from '../../config.ts';
import type { Tx } from '../../platform/db/database.ts';
import type { JobQueue } from '../../platform/jobs.ts';
import type { Logger } from '../../platform/log.ts';
import type { Pseudonymize } from '../../platform/crypto/pseudonym.ts';
import { type RequestContext, systemContext } from '../identity/actor.ts';
import { PLATFORM_TENANT_ID } from './events.ts';
import { stableJson } from './mask.ts';
import type { AuditService } from './service.ts';

const platformContext = (what: string) => systemContext(what);

export interface NodeInfo { version: string; http: boolean; workers: boolean; region?: string }

export function auditStarted(audit: AuditService, node: NodeInfo): Promise<void> {
  return audit.recordNow(platformContext('platform'), { action: 'platform.start', details: { ...node } });
}

export function auditStopping(audit: AuditService, node: NodeInfo, signal?: string): Promise<void> {
  return audit.recordNow(platformContext('platform'), { action: 'platform.stop', details: { ...node, signal } });
}

export function auditMigrated(audit: AuditService, applied: string[], total: number): Promise<void> {
  return audit.recordNow(platformContext('migrate'), { action: 'platform.migrate', details: { applied, total } });
}

/** Keyed fingerprints of each setting: comparable across restarts, revealing nothing. */
export function configFingerprint(config: Config, pseudonymize: Pseudonymize): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(config).sort()) out[key] = pseudonymize(`config:${key}:${stableJson(config[key as keyof Config])}`);
  return out;
}

/**
 * Records which settings changed since the last recorded configuration (at
 * start-up, after loading config). Nothing is recorded when nothing changed.
 */
export async function auditConfiguration(audit: AuditService, config: Config, pseudonymize: Pseudonymize): Promise<string[]> {
  const fingerprint = configFingerprint(config, pseudonymize);
  const { items } = await audit.search(PLATFORM_TENANT_ID, { action: 'platform.config', limit: 1 });
  const previous = (items[0]?.details as { fingerprint?: Record<string, string> } | null)?.fingerprint;
  const keys = [...new Set([...Object.keys(fingerprint), ...Object.keys(previous ?? {})])].sort();
  const changed = keys.filter((k) => fingerprint[k] !== previous?.[k]);
  if (changed.length === 0) return [];
  await audit.recordNow(platformContext('config'), { action: 'platform.config.change', details: { changed, baseline: !previous, fingerprint } });
  return changed;
}

/** Inside tenants.create's transaction: the first entry of the tenant's chain. */
export function auditTenantCreated(audit: AuditService, tx: Tx, ctx: RequestContext, tenant: { id: string; slug: string; region: string }): Promise<void> {
  return audit.record(tx, ctx, { action: 'tenant.create', tenantId: tenant.id, target: { type: 'tenant', id: tenant.id }, details: { slug: tenant.slug, region: tenant.region } });
}

export type KeyOperation = 'tenant_key.create' | 'tenant_key.rotate' | 'tenant_key.destroy' | 'master_key.rotate' | 'signing_key.rotate' | 'pseudonym_key.rotate';

/** In the transaction that performs the key operation; tenant keys go to the tenant's chain. */
export function auditKeyOperation(audit: AuditService, tx: Tx, ctx: RequestContext, op: { operation: KeyOperation; tenantId?: string; version?: number }): Promise<void> {
  return audit.record(tx, ctx, {
    action: `key.${op.operation}`,
    tenantId: op.tenantId ?? PLATFORM_TENANT_ID,
    target: op.tenantId ? { type: 'tenant', id: op.tenantId } : undefined,
    details: { version: op.version },
  });
}

/**
 * Records every job failure in the platform chain. The error message is free
 * text (it may quote personal data), so only its class and code are kept.
 */
export function watchJobFailures(jobs: JobQueue, audit: AuditService, log: Logger): void {
  jobs.onFailure((queue, jobId, error, willRetry) => {
    const code = (error as { code?: unknown }).code;
    audit
      .recordNow(platformContext('jobs'), {
        action: 'job.failed',
        outcome: 'failed',
        target: { type: 'job', id: jobId },
        details: { queue, willRetry, error: error.name, code: typeof code === 'string' || typeof code === 'number' ? code : undefined },
      })
      .catch((err) => log.warn({ err, queue, jobId }, 'could not record a job failure in the audit trail'));
  });
}
