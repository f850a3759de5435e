// haven backup: encrypted, tiered logical backups of the database, their
// verification, pruning, and restores into an empty database or a fresh data
// dir with the erasure ledger re-applied before anything serves the data.
import { createBackupEngine } from '../modules/privacy/backup/engine.ts';
import { restoreAt } from '../modules/privacy/backup/pitr.ts';
import { readMasterKey, restoreBackup } from '../modules/privacy/backup/restore.ts';
import { retentionOf } from '../modules/privacy/backup/tiers.ts';
import { type Tier, tiers } from '../modules/privacy/backup/manifest.ts';
import { createStorage } from '../platform/storage/regions.ts';
import { UsageError } from './usage.ts';
import { type CliCommand, type CliIo, config, loadHaven, quietLog, withHaven } from './with-haven.ts';

/**
 * list and verify read only the backup location and the master key: they work
 * on a fresh machine before anything is restored, and start no database.
 */
function locationOnly(io: CliIo, values: Record<string, unknown>) {
  const cfg = config(io, values);
  return createBackupEngine({ config: cfg, storage: createStorage(cfg), secrets: { masterKey: readMasterKey(cfg) }, retention: retentionOf(cfg) });
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function tierOption(value: unknown): Tier | undefined {
  if (value === undefined) return undefined;
  if (!tiers.includes(value as Tier)) throw new UsageError(`backup: --tier must be one of ${tiers.join(', ')}`);
  return value as Tier;
}

export const backupCommand: CliCommand = {
  summary: 'backup create|base|list|verify ID|prune|restore ID|restore --at TIME: encrypted tiered database backups and restores',
  help: [
    'Usage: haven backup create [--tier hourly|daily|weekly]',
    '       haven backup list [--json]',
    '       haven backup verify ID',
    '       haven backup prune',
    '       haven backup restore ID [--into-database-url URL] [--into-data-dir DIR]',
    '       haven backup restore --at TIME [--into-data-dir DIR]',
    '',
    '  create    pg_dump -Fc of the database, encrypted (HVN1) into the default region\'s backup',
    '            location with a signed manifest; the tier is chosen by time unless --tier is given',
    '  base      a base backup of the embedded server for point-in-time recovery (needs WAL archiving,',
    '            HAVEN_BACKUP_WAL_ARCHIVE=on; the scheduled backup makes one with every daily and weekly)',
    '  list      backups with tier, time, size and expiry; unverifiable and incomplete ones too',
    '  verify    read every part of a backup and check it against its signed manifest',
    '  prune     delete expired backups (the scheduled job does this after each backup)',
    '  restore   verify, then restore into an empty database (DATABASE_URL, or --into-database-url)',
    '            or a new embedded cluster in a fresh data dir (HAVEN_DATA_DIR, or --into-data-dir);',
    '            the erasure ledger is re-applied before the command returns. Needs the master key',
    '            the backup was made with (HAVEN_MASTER_KEY or <dataDir>/secrets/masterKey.key).',
    '  restore --at TIME  recover the embedded database into a fresh data dir as it was at TIME (ISO 8601)',
    '            from the latest base backup before it and the archived WAL; ledger re-applied as above.',
  ].join('\n'),
  options: { tier: { type: 'string' }, json: { type: 'boolean' }, at: { type: 'string' }, 'into-database-url': { type: 'string' }, 'into-data-dir': { type: 'string' } },
  async run(values, [action, ...rest], io) {
    const id = rest[0];
    if (action === 'create' && rest.length === 0) {
      const tier = tierOption(values.tier);
      return withHaven(io, async (haven) => {
        const m = await haven.modules.privacy.backup.create({ tier });
        io.out(`backup ${m.id}: ${m.tier}, ${mib(m.database.stored.size)} in region ${m.region}'s backup location, expires ${m.expiresAt}`);
        return 0;
      });
    }
    if (action === 'list' && rest.length === 0) {
      const listing = await locationOnly(io, values).list();
      if (values.json) { io.out(JSON.stringify(listing)); return 0; }
      if (listing.backups.length === 0) io.out('no backups yet');
      for (const b of listing.backups) io.out(`${b.id}  ${b.tier.padEnd(6)}  ${b.createdAt}  ${mib(b.size).padStart(10)}  expires ${b.expiresAt}`);
      for (const b of listing.broken) io.out(`${b.id}  UNVERIFIABLE: ${b.problem}`);
      for (const i of listing.incomplete) io.out(`${i}  incomplete (no manifest; pruned after a day)`);
      return listing.broken.length ? 1 : 0;
    }
    if (action === 'verify' && id && rest.length === 1) {
      const { manifest } = await locationOnly(io, values).verify(id);
      io.out(`backup ${id}: ok (${manifest.tier}, ${mib(manifest.database.plainSize)} dump, SHA-256 ${manifest.database.plainSha256.slice(0, 16)}…)`);
      return 0;
    }
    if (action === 'prune' && rest.length === 0) {
      return withHaven(io, async (haven) => {
        const { removed } = await haven.modules.privacy.backup.prune();
        io.out(removed.length ? removed.map((r) => `removed ${r.id} (${r.reason})`).join('\n') : 'nothing to prune');
        return 0;
      });
    }
    if (action === 'base' && rest.length === 0) {
      const tier = tierOption(values.tier) ?? 'daily';
      return withHaven(io, async (haven) => {
        const base = await haven.modules.privacy.backup.createBase(tier);
        io.out(`base backup ${base.id}: ${tier}, finished ${base.finishedAt}`);
        return 0;
      });
    }
    if (action === 'restore' && values.at !== undefined && rest.length === 0) {
      const at = new Date(String(values.at));
      if (Number.isNaN(at.getTime())) throw new UsageError('backup: --at must be a time such as 2026-12-01T09:30:00Z');
      const source = config(io, values);
      const target = { ...source, databaseUrl: undefined, ...(values['into-data-dir'] ? { dataDir: String(values['into-data-dir']) } : {}) };
      const report = await restoreAt({
        source, storage: createStorage(source), target, at, retention: retentionOf(source),
        loadLedger: () => locationOnly(io, values).loadLedger(),
        async open(cfg) {
          const { startHaven } = await loadHaven();
          const haven = await startHaven(cfg, { workers: false, http: false, logDestination: quietLog(io) });
          return { audit: haven.modules.audit, databaseUrl: haven.platform.db.ownerUrl, reapplyErasureLedger: () => haven.modules.privacy.erasure.reapplyLedger(), close: () => haven.close() };
        },
      });
      io.out(`recovered the embedded database of ${target.dataDir} to ${at.toISOString()} from base backup ${report.base.id}; erasure ledger: ${report.ledger.entries} entries checked, ${report.ledger.reErased} subjects erased again`);
      return 0;
    }
    if (action === 'restore' && id && rest.length === 1) {
      const source = config(io, values);
      const target = {
        ...source,
        ...(values['into-database-url'] ? { databaseUrl: String(values['into-database-url']) } : {}),
        ...(values['into-data-dir'] ? { dataDir: String(values['into-data-dir']) } : {}),
      };
      const report = await restoreBackup({
        source, storage: createStorage(source), id, target,
        async open(cfg) {
          const { startHaven } = await loadHaven();
          const haven = await startHaven(cfg, { workers: false, http: false, logDestination: quietLog(io) });
          return { audit: haven.modules.audit, databaseUrl: haven.platform.db.ownerUrl, reapplyErasureLedger: () => haven.modules.privacy.erasure.reapplyLedger(), close: () => haven.close() };
        },
      });
      io.out(`restored backup ${id} (${report.manifest.tier}, made ${report.manifest.createdAt}) into ${report.target === 'embedded' ? `the embedded database of ${target.dataDir}` : 'the given database'}; erasure ledger: ${report.ledger.entries} entries checked, ${report.ledger.reErased} subjects erased again`);
      return 0;
    }
    throw new UsageError('backup: expected create, list, verify ID, prune or restore ID (see haven backup --help)');
  },
};
