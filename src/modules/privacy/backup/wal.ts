// WAL archiving of the embedded PostgreSQL for point-in-time recovery. The
// server's archive_command runs wal-command.ts (with Haven's own Node binary),
// which encrypts each finished segment (HVN1) under a key derived from the
// master key and writes it to wal/<segment>.hvn in the default region's
// backup location. The command runs as the database's system user, which
// cannot read Haven's secrets; it gets a small settings file instead holding
// only the derived WAL key and the location. That user already reads every
// row in the clear, so the WAL key gives it nothing new.
import { hkdfSync } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Config, storageLocationSchema } from '../../../config.ts';
import { embeddedDatabaseOwner, type EmbeddedSettings } from '../../../platform/db/embedded.ts';
import { createObjectStore } from '../../../platform/storage/index.ts';
import { createFsStore } from '../../../platform/storage/fs.ts';
import type { ObjectStore } from '../../../platform/storage/types.ts';

export const walSettingsSchema = z.object({
  /** base64 of the 32-byte WAL key (HKDF of the master key, haven:backup:wal-archive). */
  key: z.string().min(40),
  location: storageLocationSchema,
  /** Where an fs location without a path lives (<dataDir>/backups/<region>). */
  fsRoot: z.string(),
});
export type WalSettings = z.infer<typeof walSettingsSchema>;

export const walKey = (masterKey: Buffer) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'haven:backup:wal-archive', 32));

/** A WAL segment or timeline history file name, as PostgreSQL passes them (%f). */
export const WAL_NAME = /^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$|^[0-9A-F]{8}\.history$/;
const SEGMENT = /^[0-9A-F]{24}$/;

/**
 * The store the WAL lives in and the key prefix within it. For a filesystem
 * location it is its own store rooted at <location>/wal, so the database
 * user (who owns only that directory) can stage and rename files there.
 */
export function walStoreOf(s: Pick<WalSettings, 'location' | 'fsRoot'>): { store: ObjectStore; prefix: string } {
  if (s.location.driver === 'fs') return { store: createFsStore(join(s.location.path ?? s.fsRoot, 'wal')), prefix: '' };
  return { store: createObjectStore(s.location, s.fsRoot), prefix: 'wal/' };
}

export function walSettingsOf(config: Config, masterKey: Buffer): WalSettings {
  const home = config.defaultRegion;
  return {
    key: walKey(masterKey).toString('base64'),
    location: config.regions[home]!.backup ?? { driver: 'fs' },
    fsRoot: join(config.dataDir, 'backups', home),
  };
}

const COMMAND = fileURLToPath(new URL('./wal-command.ts', import.meta.url));
/** Marks an archive_command as Haven's (base backups refuse a server that archives elsewhere). */
export const WAL_COMMAND_MARK = 'wal-command.ts';

/**
 * Writes the settings file the database user's command reads (in
 * <dataDir>/wal-archive/, owned by that user, 0600) and returns the command
 * line for `mode` (archive: %p %f; restore: %f %p).
 */
export async function installWalSettings(dataDir: string, settings: WalSettings, file: 'archive.json' | 'restore.json'): Promise<string> {
  const owner = await embeddedDatabaseOwner();
  const dir = join(dataDir, 'wal-archive');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(settings), { mode: 0o600 });
  if (settings.location.driver === 'fs') {
    // The location itself must be traversable by the database user; only wal/ is its own.
    const root = settings.location.path ?? settings.fsRoot;
    mkdirSync(root, { recursive: true });
    const walDir = join(root, 'wal');
    mkdirSync(walDir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(walDir, owner.uid, owner.gid);
  }
  if (owner) { chownSync(dir, owner.uid, owner.gid); chownSync(path, owner.uid, owner.gid); }
  const q = (s: string) => `"${s}"`;
  return file === 'archive.json'
    ? `${q(process.execPath)} ${q(COMMAND)} archive "%p" "%f" ${q(path)}`
    : `${q(process.execPath)} ${q(COMMAND)} restore "%f" "%p" ${q(path)}`;
}

/**
 * The embedded server's settings for `haven serve`: WAL archiving into the
 * default region's backup location when backupWalArchive is on. main.ts
 * passes the result to startEmbeddedPostgres.
 */
export async function embeddedWalSettings(config: Config, masterKey: Buffer): Promise<EmbeddedSettings> {
  if (config.databaseUrl || config.backupWalArchive !== 'on') return {};
  const archiveCommand = await installWalSettings(config.dataDir, walSettingsOf(config, masterKey), 'archive.json');
  return { archiveCommand, archiveTimeoutSeconds: config.backupWalArchiveTimeoutSeconds };
}

/** Archived segments (not history files), oldest first by name. */
export async function listSegments(s: Pick<WalSettings, 'location' | 'fsRoot'>): Promise<{ name: string; key: string; modified: Date; size: number }[]> {
  const { store, prefix } = walStoreOf(s);
  const found: { name: string; key: string; modified: Date; size: number }[] = [];
  for await (const o of store.list(prefix)) {
    const name = o.key.slice(prefix.length).replace(/\.hvn$/, '');
    if (o.key.endsWith('.hvn') && SEGMENT.test(name)) found.push({ name, key: o.key, modified: o.modified, size: o.size });
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Position of a segment within its timeline (log and segment number), comparable across timelines. */
export const segmentPosition = (name: string) => name.slice(8);
