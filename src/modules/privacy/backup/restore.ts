// Restoring a backup: into an empty database named by DATABASE_URL, or into a
// fresh data dir (a new embedded cluster, initdb'd here). Before the restored
// database serves anyone it is opened once without HTTP or workers, the
// erasure ledger is re-applied (people erased after the backup was made are
// erased again), and the restore is recorded in the restored platform chain.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../../config.ts';
import { loadRootSecrets } from '../../../platform/crypto/secrets.ts';
import { ensureDatabaseExists } from '../../../platform/db/database.ts';
import { startEmbeddedPostgres } from '../../../platform/db/embedded.ts';
import { AppError } from '../../../platform/errors.ts';
import type { Storage } from '../../../platform/storage/regions.ts';
import type { AuditService } from '../../audit/service.ts';
import { systemContext } from '../../identity/actor.ts';
import { createBackupEngine } from './engine.ts';
import { clearRestoreMark } from './pgtools.ts';
import type { Manifest } from './manifest.ts';
import { retentionOf } from './tiers.ts';

/** What a restored, not yet serving Haven offers the restore. */
export interface OpenedHaven {
  audit: AuditService;
  /** Owner connection of the restored database (to clear its restore mark). */
  databaseUrl: string;
  /** The erasure part's reapplyErasureLedger over the opened Haven (its data dir's ledger). */
  reapplyErasureLedger(): Promise<{ entries: number; reErased: unknown[] }>;
  close(): Promise<void>;
}

export interface RestoreRequest {
  /** Configuration of the installation whose backup location holds the backup (the master key comes from it). */
  source: Config;
  storage: Storage;
  id: string;
  /** Restore into this empty database; otherwise into a new embedded cluster in target.dataDir. */
  target: Config;
  /** Opens Haven on the target without HTTP or workers (src/main.ts startHaven). */
  open(target: Config): Promise<OpenedHaven>;
  /** The erasure ledger to re-apply: the source installation's (default <source dataDir>/privacy/erasure-ledger.ndjson). */
  ledgerPath?: string;
}

export interface RestoreReport {
  manifest: Manifest;
  target: 'database_url' | 'embedded';
  /** Ledger entries checked, and subjects erased again. */
  ledger: { entries: number; reErased: number };
}

/**
 * The master key of the installation whose backups are read: configured, or
 * its file in the data dir. Never generated: a new key could open nothing,
 * and a generated file would make a fresh data dir unfit for the restore.
 */
export function readMasterKey(config: Config): Buffer {
  if (config.masterKey) return Buffer.from(config.masterKey, 'base64');
  const path = join(config.dataDir, 'secrets', 'masterKey.key');
  if (!existsSync(path)) {
    throw new AppError('backup_master_key_missing', 422, `No master key: set HAVEN_MASTER_KEY to the master key of the installation that made the backup (or provide ${path}).`);
  }
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
}

const SECRET_FILES = { signingKey: 'signingKey.key', pseudonymKey: 'pseudonymKey.key', masterKey: 'masterKey.key' } as const;

/**
 * Puts the secrets a backup carries into the target data dir, unless
 * configuration supplies them; refuses a data dir that already has other ones
 * (audit checkpoints and pseudonyms in the restored data would stop matching).
 */
function installSecrets(target: Config, secrets: { masterKey: Buffer; signingKey: Buffer; pseudonymKey: Buffer }): void {
  const dir = join(target.dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of ['masterKey', 'signingKey', 'pseudonymKey'] as const) {
    if (target[name]) continue;
    const path = join(dir, SECRET_FILES[name]);
    if (!existsSync(path)) writeFileSync(path, secrets[name].toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  const present = loadRootSecrets(target.dataDir, target);
  for (const name of ['masterKey', 'signingKey', 'pseudonymKey'] as const) {
    if (!present[name].equals(secrets[name])) {
      throw new AppError('restore_secrets_conflict', 409, `The target's ${name} differs from the one the backup was made with; restore into a data dir without secrets, or configure the original ${name}.`);
    }
  }
}

export async function restoreBackup(req: RestoreRequest): Promise<RestoreReport> {
  const masterKey = readMasterKey(req.source);
  const engine = createBackupEngine({ config: req.source, storage: req.storage, secrets: { masterKey }, retention: retentionOf(req.source) });
  const verified = await engine.verify(req.id);
  const secrets = { masterKey, ...verified.secrets };

  let kind: RestoreReport['target'];
  if (req.target.databaseUrl) {
    kind = 'database_url';
    await ensureDatabaseExists(req.target.databaseUrl);
    await engine.restoreInto(req.id, req.target.databaseUrl);
  } else {
    kind = 'embedded';
    if (existsSync(join(req.target.dataDir, 'postgres', 'PG_VERSION'))) {
      throw new AppError('restore_target_not_empty', 409, `${req.target.dataDir} already holds a database; restore into a new, empty data dir.`);
    }
    mkdirSync(req.target.dataDir, { recursive: true });
    const pg = await startEmbeddedPostgres(req.target.dataDir, req.target.embeddedDatabasePort, () => undefined);
    try {
      await engine.restoreInto(req.id, pg.url);
    } finally {
      await pg.stop();
    }
  }
  const finished = await finishRestore(req, engine, secrets, { type: 'backup', id: req.id }, { tier: verified.manifest.tier, createdAt: verified.manifest.createdAt, into: kind });
  return { manifest: verified.manifest, target: kind, ledger: finished.ledger };
}

/**
 * The steps after the database is back (logical or point-in-time): secrets
 * into the target data dir, the newest erasure ledger beside them, then Haven
 * opened without HTTP or workers to re-apply the ledger and record the
 * restore, and the restore mark cleared so the database may serve.
 */
export async function finishRestore(
  req: Pick<RestoreRequest, 'source' | 'target' | 'open' | 'ledgerPath'>,
  engine: { loadLedger(): Promise<Buffer | undefined> },
  secrets: { masterKey: Buffer; signingKey: Buffer; pseudonymKey: Buffer },
  target: { type: string; id: string },
  details: Record<string, unknown>,
): Promise<{ ledger: { entries: number; reErased: number } }> {
  const ledgerPath = req.ledgerPath ?? join(req.source.dataDir, 'privacy', 'erasure-ledger.ndjson');
  installSecrets(req.target, secrets);
  // The ledger continues in the restored installation, so later restores of it
  // re-apply these erasures too. It only grows: the longest copy (the source
  // data dir's, or the one kept in the backup location) is the newest.
  const targetLedger = join(req.target.dataDir, 'privacy', 'erasure-ledger.ndjson');
  const lines = (b: Buffer | undefined) => (b ? b.toString('utf8').split('\n').filter((l) => l.trim()).length : -1);
  const candidates = [existsSync(ledgerPath) ? readFileSync(ledgerPath) : undefined, await engine.loadLedger()];
  const newest = candidates.reduce((a, b) => (lines(b) > lines(a) ? b : a), undefined);
  const current = existsSync(targetLedger) ? readFileSync(targetLedger) : undefined;
  if (newest && lines(newest) > lines(current)) {
    mkdirSync(join(req.target.dataDir, 'privacy'), { recursive: true, mode: 0o700 });
    writeFileSync(targetLedger, newest, { mode: 0o600 });
  }

  const haven = await req.open(req.target);
  try {
    const reapplied = await haven.reapplyErasureLedger();
    const ledger = { entries: reapplied.entries, reErased: reapplied.reErased.length };
    await haven.audit.recordNow(systemContext('backup'), { action: 'backup.restore', target, details: { ...details, ledger } });
    await clearRestoreMark(haven.databaseUrl);
    return { ledger };
  } finally {
    await haven.close();
  }
}
