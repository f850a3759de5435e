// Backups as the privacy module runs them: a scheduled job makes one tiered
// backup per run and prunes expired ones; every create, prune and restore is
// a platform audit event. The work itself is the engine's (engine.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadRootSecrets } from '../../../platform/crypto/secrets.ts';
import { defineJob } from '../../../platform/jobs.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { systemContext } from '../../identity/actor.ts';
import { type BackupEngine, createBackupEngine } from './engine.ts';
import { type Manifest, type Tier, tiers } from './manifest.ts';
import { createPitr, type Pitr } from './pitr.ts';
import { retentionOf } from './tiers.ts';

export const backupPayload = z.object({ tier: z.enum(tiers).optional() });

/** One definition per schedule: the cron comes from configuration. */
export const backupJob = (cron: string) =>
  defineJob({ name: 'privacy.backup', schema: backupPayload, cron, retryLimit: 1, retryDelaySeconds: 300, expireInSeconds: 6 * 3600, heartbeatSeconds: 60 });

const backupContext = () => systemContext('backup');

export function createBackupService(platform: Platform, deps: { audit: AuditService }) {
  const { config } = platform;
  let engine: BackupEngine | undefined;
  // The master key is not part of Platform; backups derive their keys from it, so it is read here.
  const engineOf = () => (engine ??= createBackupEngine({
    config, storage: platform.storage, databaseUrl: platform.db.ownerUrl,
    secrets: loadRootSecrets(config.dataDir, config), retention: retentionOf(config),
  }));
  let pitr: Pitr | undefined;
  const pitrOf = () => {
    if (pitr) return pitr;
    const secrets = loadRootSecrets(config.dataDir, config);
    return (pitr = createPitr({
      config, storage: platform.storage, masterKey: secrets.masterKey, retention: retentionOf(config), databaseUrl: platform.db.ownerUrl,
      signingKey: secrets.signingKey, pseudonymKey: secrets.pseudonymKey, clock: () => platform.clock.now(),
    }));
  };
  const scheduled = config.backupSchedule !== 'off';
  const job = backupJob(scheduled ? config.backupSchedule : '7 * * * *');

  const service = {
    engine: engineOf,
    async create(opts: { tier?: Tier } = {}): Promise<Manifest> {
      const manifest = await engineOf().create(platform.clock.now(), opts);
      const ledgerPath = join(config.dataDir, 'privacy', 'erasure-ledger.ndjson');
      if (existsSync(ledgerPath)) await engineOf().saveLedger(readFileSync(ledgerPath));
      await deps.audit.recordNow(backupContext(), {
        action: 'backup.create',
        target: { type: 'backup', id: manifest.id },
        details: { tier: manifest.tier, region: manifest.region, size: manifest.database.stored.size, expiresAt: manifest.expiresAt, objects: Object.fromEntries(Object.entries(manifest.objects).map(([r, o]) => [r, o.count])) },
      });
      return manifest;
    },
    async prune() {
      const result = await engineOf().prune(platform.clock.now());
      if (result.removed.length > 0) {
        await deps.audit.recordNow(backupContext(), { action: 'backup.prune', details: { removed: result.removed } });
      }
      return result;
    },
    list: () => engineOf().list(),
    verify: (id: string) => engineOf().verify(id),
    /** Point-in-time recovery of the embedded database (pitr.ts); base backups need WAL archiving on. */
    pitr: pitrOf,
    /** A base backup for point-in-time recovery, audited like the logical ones. */
    async createBase(tier: Tier) {
      const base = await pitrOf().createBase(tier);
      await deps.audit.recordNow(backupContext(), { action: 'backup.base.create', target: { type: 'backup', id: base.id }, details: { tier, region: config.defaultRegion } });
      return base;
    },
    /**
     * The scheduled run: one logical backup (its tier chosen by time); when the
     * embedded server archives its WAL, a base backup beside every daily and
     * weekly one; then pruning of both.
     */
    async runScheduled(tier?: Tier) {
      const manifest = await service.create({ tier });
      const archiving = manifest.tier !== 'hourly' && await pitrOf().archiving(platform.db.ownerUrl);
      if (archiving) await service.createBase(manifest.tier);
      const pruned = await service.prune();
      const walPruned = await pitrOf().prune(platform.clock.now());
      if (walPruned.removed.length > 0 || walPruned.walRemoved > 0) {
        await deps.audit.recordNow(backupContext(), { action: 'backup.prune', details: { removed: walPruned.removed, walSegmentsRemoved: walPruned.walRemoved } });
      }
      return { id: manifest.id, tier: manifest.tier, base: archiving, pruned: pruned.removed.length + walPruned.removed.length };
    },
    async startWorkers(): Promise<void> {
      if (scheduled) await platform.jobs.work(job, (data) => service.runScheduled(data.tier));
    },
    async schedule(): Promise<void> {
      if (scheduled) await platform.jobs.register(job);
    },
  };
  return service;
}
export type BackupService = ReturnType<typeof createBackupService>;
