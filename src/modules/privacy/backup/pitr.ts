// Point-in-time recovery of the embedded database: encrypted base backups
// (pg_basebackup -Ft -X none, streamed through HVN1 like the dumps) catalogued
// by signed manifests under basebackups/<id>/ in the default region's backup
// location, the archived WAL beside them (wal.ts), pruning of both with the
// backup tiers, and `restore --at TIME` into a fresh data dir: the latest base
// backup finished before TIME, replayed to TIME, promoted, then the erasure
// ledger re-applied (restore.ts finishRestore) before anything serves it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import type { Config } from '../../../config.ts';
import { decryptBuffer, decryptStream, encryptBuffer, encryptStream } from '../../../platform/crypto/stream.ts';
import { embeddedDatabaseOwner, startEmbeddedPostgres } from '../../../platform/db/embedded.ts';
import { AppError } from '../../../platform/errors.ts';
import type { Storage } from '../../../platform/storage/regions.ts';
import { ObjectNotFoundError } from '../../../platform/storage/types.ts';
import { backupKeyring, newBackupId, type Tier, tiers } from './manifest.ts';
import { connectionOf, major, markRestorePending, serverVersion, spawnTool } from './pgtools.ts';
import { finishRestore, type OpenedHaven, readMasterKey } from './restore.ts';
import { expiryOf, type Retention } from './tiers.ts';
import { installWalSettings, listSegments, segmentPosition, WAL_COMMAND_MARK, walSettingsOf, walStoreOf } from './wal.ts';

const run = promisify(execFile);

const part = z.object({ key: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const baseManifestSchema = z.object({
  format: z.literal('haven-basebackup/1'),
  id: z.string().regex(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/),
  tier: z.enum(tiers),
  createdAt: z.iso.datetime(),
  /** When pg_basebackup returned: the earliest time a restore from this base backup can reach. */
  finishedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  region: z.string(),
  serverVersion: z.string(),
  timeline: z.string().regex(/^[0-9A-F]{8}$/),
  /** The WAL segment current when the backup began: every older segment is unneeded by it. */
  walStart: z.string().regex(/^[0-9A-F]{24}$/),
  plainSize: z.number().int().nonnegative(),
  plainSha256: z.string().regex(/^[0-9a-f]{64}$/),
  stored: part,
  /** Signing, pseudonym and database superuser password, under the data key. */
  secrets: part,
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});
export type BaseManifest = z.infer<typeof baseManifestSchema>;

const baseKeys = (id: string) => ({
  prefix: `basebackups/${id}/`,
  manifest: `basebackups/${id}/manifest.json`,
  key: `basebackups/${id}/key.json`,
  base: `basebackups/${id}/base.tar.hvn`,
  secrets: `basebackups/${id}/secrets.json.hvn`,
});

function digestTap(): Transform & { sha256(): string; size: number } {
  const hash = createHash('sha256');
  const tap = new Transform({ transform(chunk: Buffer, _e, cb) { hash.update(chunk); tap.size += chunk.length; cb(null, chunk); } }) as Transform & { sha256(): string; size: number };
  tap.size = 0;
  let digest: string | undefined;
  tap.sha256 = () => (digest ??= hash.digest('hex'));
  return tap;
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream as AsyncIterable<Buffer>) parts.push(p);
  return Buffer.concat(parts);
}

async function one<T extends pg.QueryResultRow>(url: string, text: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try { return (await client.query<T>(text)).rows[0]!; } finally { await client.end(); }
}

export interface PitrDeps {
  config: Config;
  storage: Storage;
  masterKey: Buffer;
  retention: Retention;
  /** Owner connection of the archiving server (base backups only). */
  databaseUrl?: string;
  /** Root secrets carried inside base backups (base backups only). */
  signingKey?: Buffer;
  pseudonymKey?: Buffer;
  clock: () => Date;
}

export function createPitr(deps: PitrDeps) {
  const { config } = deps;
  const home = config.defaultRegion;
  const keyring = backupKeyring(deps.masterKey);
  const location = () => deps.storage.backupForRegion(home);
  const wal = walSettingsOf(config, deps.masterKey);

  async function manifestOf(id: string): Promise<BaseManifest> {
    const text = await readObject(baseKeys(id).manifest);
    if (!text) throw new AppError('backup_not_found', 404, `No base backup ${id} in the backup location of region ${home}.`);
    let parsed: BaseManifest;
    try { parsed = baseManifestSchema.parse(JSON.parse(text.toString('utf8'))); } catch {
      throw new AppError('backup_manifest_invalid', 422, `The manifest of base backup ${id} is not a valid Haven base-backup manifest.`);
    }
    const { signature, ...unsigned } = parsed;
    if (parsed.id !== id || !keyring.signatureMatches(unsigned, signature)) {
      throw new AppError('backup_manifest_tampered', 422, `The manifest of base backup ${id} fails its signature check: it was altered, or signed under another master key.`);
    }
    return parsed;
  }

  async function readObject(key: string): Promise<Buffer | undefined> {
    try { return await readAll(await location().get(key)); } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  async function dataKeyOf(id: string): Promise<Buffer> {
    const stored = await readObject(baseKeys(id).key);
    if (!stored) throw new AppError('backup_key_missing', 422, `The key of base backup ${id} is missing from the backup location (it may have been crypto-shredded on expiry).`);
    return keyring.openDataKey(id, stored.toString('utf8'));
  }

  const pitr = {
    /** Whether the server archives its WAL with Haven's command (a base backup is useless otherwise). */
    async archiving(url: string): Promise<boolean> {
      const row = await one<{ mode: string; command: string }>(url, `select current_setting('archive_mode') as mode, current_setting('archive_command') as command`);
      return row.mode !== 'off' && row.command.includes(WAL_COMMAND_MARK);
    },

    async createBase(tier: Tier): Promise<BaseManifest> {
      const url = deps.databaseUrl;
      if (!url || !deps.signingKey || !deps.pseudonymKey) throw new AppError('backup_no_database', 500, 'This backup engine has no database (or root secrets) to back up.');
      if (!(await pitr.archiving(url))) {
        throw new AppError('pitr_not_archiving', 409, 'The database server does not archive its WAL with Haven (HAVEN_BACKUP_WAL_ARCHIVE=on, embedded database only); a base backup could not be replayed to any point in time.');
      }
      const server = await serverVersion(url);
      const { stdout } = await run('pg_basebackup', ['--version']).catch(() => { throw new AppError('backup_tool_missing', 500, 'pg_basebackup was not found on PATH; install PostgreSQL\'s client tools (Debian: postgresql-client) of the server\'s major version.'); });
      const toolVersion = /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(stdout)?.[1] ?? '0';
      if (major(toolVersion) !== major(server)) {
        throw new AppError('backup_version_mismatch', 500, `pg_basebackup on PATH is version ${toolVersion} but the database server runs PostgreSQL ${server}; install pg_basebackup ${major(server)}.`);
      }
      const start = await one<{ seg: string }>(url, 'select pg_walfile_name(pg_current_wal_lsn()) as seg');
      const now = deps.clock();
      const id = newBackupId(now);
      const keys = baseKeys(id);
      const { key, stored } = keyring.newDataKey(id);
      const loc = location();
      try {
        await loc.put(keys.key, Buffer.from(stored));
        const conn = connectionOf(url);
        // -X none: the WAL comes from the archive; the server waits until the backup's last segment is archived.
        const tool = spawnTool('pg_basebackup', ['-D', '-', '-Ft', '-X', 'none', '--checkpoint=fast', '--no-password', '-d', conn.url], conn.env);
        tool.child.stdin.end();
        const plain = digestTap();
        const cipher = digestTap();
        const body = new PassThrough();
        const flowing = pipeline(tool.child.stdout, plain, encryptStream(key, { chunkSize: 1024 * 1024 }), cipher, body);
        await Promise.all([loc.put(keys.base, body), flowing, tool.done]);
        const password = decodeURIComponent(new URL(url).password);
        const sealed = encryptBuffer(key, Buffer.from(JSON.stringify({ signingKey: deps.signingKey.toString('base64'), pseudonymKey: deps.pseudonymKey.toString('base64'), databasePassword: password })));
        await loc.put(keys.secrets, sealed);
        const unsigned = {
          format: 'haven-basebackup/1' as const, id, tier,
          createdAt: now.toISOString(), finishedAt: deps.clock().toISOString(),
          expiresAt: expiryOf(tier, now, deps.retention).toISOString(),
          region: home, serverVersion: server, timeline: start.seg.slice(0, 8), walStart: start.seg,
          plainSize: plain.size, plainSha256: plain.sha256(),
          stored: { key: keys.base, size: cipher.size, sha256: cipher.sha256() },
          secrets: { key: keys.secrets, size: sealed.length, sha256: sha256(sealed) },
        };
        const manifest: BaseManifest = { ...unsigned, signature: keyring.signatureOf(unsigned) };
        await loc.put(keys.manifest, Buffer.from(JSON.stringify(manifest, null, 2)));
        return manifest;
      } catch (err) {
        await pitr.remove(id).catch(() => undefined);
        throw err;
      }
    },

    /** Verified base backups, oldest first; unverifiable ones and ones without a manifest by id. */
    async list(): Promise<{ bases: BaseManifest[]; broken: { id: string; problem: string }[]; incomplete: string[] }> {
      const complete = new Set<string>();
      const all = new Set<string>();
      for await (const o of location().list('basebackups/')) {
        const [, id, name] = o.key.split('/');
        if (!id) continue;
        all.add(id);
        if (name === 'manifest.json') complete.add(id);
      }
      const bases: BaseManifest[] = [];
      const broken: { id: string; problem: string }[] = [];
      for (const id of [...complete].sort()) {
        try { bases.push(await manifestOf(id)); } catch (err) { broken.push({ id, problem: (err as Error).message }); }
      }
      return { bases, broken, incomplete: [...all].filter((id) => !complete.has(id)).sort() };
    },

    async remove(id: string): Promise<void> {
      const keys = baseKeys(id);
      await location().delete(keys.key);
      await location().deletePrefix(keys.prefix);
    },

    /**
     * Expired base backups go (key first), then every WAL segment older than
     * the oldest base backup kept: no restore can use it. Without any base
     * backup, segments older than a day go (one may be starting right now).
     */
    async prune(now: Date): Promise<{ removed: { id: string; reason: string }[]; walRemoved: number }> {
      const { bases, broken, incomplete } = await pitr.list();
      const removed: { id: string; reason: string }[] = [];
      const kept: BaseManifest[] = [];
      for (const b of bases) {
        if (new Date(b.expiresAt).getTime() <= now.getTime()) removed.push({ id: b.id, reason: 'expired' }); else kept.push(b);
      }
      const longest = Math.max(deps.retention.hourlyHours * 3600_000, Math.max(deps.retention.dailyDays, deps.retention.weeklyDays) * 86400_000);
      const stamp = (id: string) => new Date(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`).getTime();
      for (const id of incomplete) if (now.getTime() - stamp(id) >= 86400_000) removed.push({ id, reason: 'incomplete' });
      for (const b of broken) if (now.getTime() - stamp(b.id) >= longest) removed.push({ id: b.id, reason: 'unverifiable' });
      for (const r of removed) await pitr.remove(r.id);

      const oldest = kept[0];
      const { store } = walStoreOf(wal);
      let walRemoved = 0;
      for (const s of await listSegments(wal)) {
        const unneeded = oldest
          ? s.name.slice(0, 8) <= oldest.timeline && segmentPosition(s.name) < segmentPosition(oldest.walStart)
          : now.getTime() - s.modified.getTime() >= 86400_000;
        if (unneeded) { await store.delete(s.key); walRemoved += 1; }
      }
      return { removed, walRemoved };
    },

    /** Archived WAL: segment count, bytes, and the newest segment's time (what a restore can reach at most). */
    async walStatus(): Promise<{ segments: number; bytes: number; newest?: string }> {
      const segs = await listSegments(wal);
      const newest = segs.reduce<Date | undefined>((t, s) => (!t || s.modified > t ? s.modified : t), undefined);
      return { segments: segs.length, bytes: segs.reduce((n, s) => n + s.size, 0), newest: newest?.toISOString() };
    },

    /** The base backup a restore to `at` starts from: the latest one finished before it. */
    async baseFor(at: Date): Promise<BaseManifest> {
      const { bases } = await pitr.list();
      const usable = bases.filter((b) => new Date(b.finishedAt).getTime() <= at.getTime());
      const base = usable.at(-1);
      if (!base) {
        const first = bases[0];
        throw new AppError('pitr_no_base_backup', 422, first
          ? `No base backup finished before ${at.toISOString()}; the earliest point a restore can reach is ${first.finishedAt}.`
          : 'There is no base backup to recover from (haven backup base makes one; the scheduled backup makes one daily when WAL archiving is on).');
      }
      return base;
    },

    /**
     * Unpacks the base backup into <target>/postgres, replays archived WAL up to
     * `at`, promotes, and marks the database restore-pending. Returns the base
     * backup and the secrets it carried.
     */
    async recoverInto(targetDataDir: string, port: number, at: Date): Promise<{ base: BaseManifest; secrets: { signingKey: Buffer; pseudonymKey: Buffer; databasePassword: string } }> {
      const base = await pitr.baseFor(at);
      const pgData = join(targetDataDir, 'postgres');
      if (existsSync(join(pgData, 'PG_VERSION'))) throw new AppError('restore_target_not_empty', 409, `${targetDataDir} already holds a database; restore into a new, empty data dir.`);
      const key = await dataKeyOf(base.id);
      const sealed = await readObject(base.secrets.key);
      if (!sealed || sha256(sealed) !== base.secrets.sha256) throw new AppError('backup_corrupt', 422, `The sealed secrets of base backup ${base.id} are missing or do not match its manifest.`);
      const secrets = JSON.parse(decryptBuffer(key, sealed).toString('utf8')) as { signingKey: string; pseudonymKey: string; databasePassword: string };

      mkdirSync(pgData, { recursive: true, mode: 0o700 });
      const owner = await embeddedDatabaseOwner();
      const tar = spawnTool('tar', ['-x', '-f', '-', '-C', pgData], process.env);
      tar.child.stdout.resume();
      const cipher = digestTap();
      const plain = digestTap();
      try {
        await Promise.all([pipeline(await location().get(base.stored.key), cipher, decryptStream(key), plain, tar.child.stdin), tar.done]);
      } catch (err) {
        rmSync(pgData, { recursive: true, force: true });
        const code = (err as { code?: string }).code;
        if (code === 'ciphertext_tampered' || code === 'ciphertext_truncated') throw new AppError('backup_corrupt', 422, `The base backup ${base.id} is corrupt; it fails its integrity check.`);
        throw err;
      }
      if (cipher.sha256() !== base.stored.sha256 || plain.sha256() !== base.plainSha256) {
        rmSync(pgData, { recursive: true, force: true });
        throw new AppError('backup_corrupt', 422, `The base backup ${base.id} does not match the SHA-256 its signed manifest records.`);
      }
      if (owner) await run('chown', ['-R', `${owner.uid}:${owner.gid}`, pgData]);

      // The restored cluster keeps the source's superuser password; the target data dir must know it.
      const secretsDir = join(targetDataDir, 'secrets');
      mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
      writeFileSync(join(secretsDir, 'embedded-db-password'), secrets.databasePassword, { mode: 0o600 });

      const restoreCommand = await installWalSettings(targetDataDir, wal, 'restore.json');
      const autoConf = join(pgData, 'postgresql.auto.conf');
      const before = existsSync(autoConf) ? readFileSync(autoConf, 'utf8') : '';
      const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
      writeFileSync(autoConf, `${before}\n# haven point-in-time restore\nrestore_command = ${q(restoreCommand)}\nrecovery_target_time = ${q(at.toISOString().replace('T', ' ').replace('Z', '+00'))}\nrecovery_target_action = 'promote'\n`);
      writeFileSync(join(pgData, 'recovery.signal'), '');
      if (owner) await run('chown', [`${owner.uid}:${owner.gid}`, autoConf, join(pgData, 'recovery.signal')]);

      let server;
      try {
        server = await startEmbeddedPostgres(targetDataDir, port, () => undefined);
      } catch (err) {
        throw new AppError('pitr_recovery_failed', 500, `Recovery to ${at.toISOString()} did not complete (if the time is later than the newest archived WAL, pick an earlier one; haven backup list shows it): ${(err as Error).message}`);
      }
      try {
        const deadline = Date.now() + 10 * 60_000;
        for (;;) {
          const { r } = await one<{ r: boolean }>(server.url, 'select pg_is_in_recovery() as r');
          if (!r) break;
          if (Date.now() > deadline) throw new AppError('pitr_recovery_failed', 500, `Recovery to ${at.toISOString()} did not finish within 10 minutes (see ${join(pgData, 'server.log')}).`);
          await new Promise((res) => setTimeout(res, 200));
        }
        await markRestorePending(server.url, `pitr-${base.id}`);
      } finally {
        await server.stop();
      }
      writeFileSync(autoConf, before);
      rmSync(join(targetDataDir, 'wal-archive', 'restore.json'), { force: true });
      return { base, secrets: { signingKey: Buffer.from(secrets.signingKey, 'base64'), pseudonymKey: Buffer.from(secrets.pseudonymKey, 'base64'), databasePassword: secrets.databasePassword } };
    },
  };
  return pitr;
}
export type Pitr = ReturnType<typeof createPitr>;

/**
 * haven backup restore --at TIME: recover the embedded database of a fresh
 * data dir to TIME, then (as every restore) install the secrets and ledger,
 * re-apply the erasure ledger and record the restore before it serves.
 */
export async function restoreAt(req: {
  source: Config; storage: Storage; target: Config; at: Date;
  open(target: Config): Promise<OpenedHaven>;
  loadLedger(): Promise<Buffer | undefined>;
  retention: Retention;
}): Promise<{ base: BaseManifest; ledger: { entries: number; reErased: number } }> {
  if (req.target.databaseUrl) throw new AppError('pitr_needs_data_dir', 400, 'A point-in-time restore goes into a fresh embedded data dir (--into-data-dir DIR, or HAVEN_DATA_DIR without DATABASE_URL); for an external server use its own tooling (docs/operations.md).');
  const masterKey = readMasterKey(req.source);
  const pitr = createPitr({ config: req.source, storage: req.storage, masterKey, retention: req.retention, clock: () => new Date() });
  const { base, secrets } = await pitr.recoverInto(req.target.dataDir, req.target.embeddedDatabasePort, req.at);
  const finished = await finishRestore(req, { loadLedger: req.loadLedger }, { masterKey, signingKey: secrets.signingKey, pseudonymKey: secrets.pseudonymKey },
    { type: 'backup', id: `pitr-${base.id}` }, { at: req.at.toISOString(), base: base.id, baseFinishedAt: base.finishedAt, into: 'embedded' });
  return { base, ledger: finished.ledger };
}
