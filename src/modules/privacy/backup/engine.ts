// Logical backups of Haven's database: pg_dump -Fc streamed through HVN1
// encryption into the default region's backup location, an object-key
// manifest per region into that region's own backup location, and a signed
// manifest over all of it. Verify and restore check every part before use.
// Platform-level only (config, storage, keys, a database URL): no module
// reaches in, so the CLI can run it against a database that is not serving.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../../../config.ts';
import { decryptBuffer, decryptStream, encryptBuffer, encryptStream } from '../../../platform/crypto/stream.ts';
import { AppError } from '../../../platform/errors.ts';
import type { Storage } from '../../../platform/storage/regions.ts';
import { type ObjectStore, ObjectNotFoundError } from '../../../platform/storage/types.ts';
import { backupKeyring, backupKeys, backupTime, type Manifest, newBackupId, type Tier } from './manifest.ts';
import { assertDumpMatchesServer, connectionOf, isEmptyDatabase, major, markRestorePending, spawnTool, toolVersion } from './pgtools.ts';
import { expiryOf, type Retention, tierFor } from './tiers.ts';

/** The master key opens backups; the signing and pseudonym keys are only needed to make one (they travel inside it). */
export interface BackupSecrets { masterKey: Buffer; signingKey?: Buffer; pseudonymKey?: Buffer }

export interface BackupEngineDeps {
  config: Config;
  storage: Storage;
  /** Owner connection of the database to back up (create only; restores work without one). */
  databaseUrl?: string;
  secrets: BackupSecrets;
  retention: Retention;
}

export interface BackupListing {
  id: string;
  tier: Tier;
  createdAt: string;
  expiresAt: string;
  /** Bytes stored for the database dump (encrypted). */
  size: number;
  objects: number;
}

export interface BrokenBackup { id: string; problem: string }

/** The secrets a restore needs besides the master key (so a fresh data dir can be rebuilt). */
export interface RestoredSecrets { signingKey: Buffer; pseudonymKey: Buffer }

/** A stream stage that hashes and counts what passes through. */
function digestTap(): Transform & { sha256(): string; size: number } {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) { hash.update(chunk); tap.size += chunk.length; cb(null, chunk); },
  }) as Transform & { sha256(): string; size: number };
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

async function readObject(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  try {
    return await readAll(await store.get(key));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

const LEDGER_KEY = 'erasure-ledger/erasure-ledger.ndjson.hvn';

const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });

export function createBackupEngine(deps: BackupEngineDeps) {
  const { config, storage, secrets } = deps;
  const keyring = backupKeyring(secrets.masterKey);
  const home = config.defaultRegion;
  const location = () => storage.backupForRegion(home);
  const notFound = (id: string) => new AppError('backup_not_found', 404, `No backup ${id} in the backup location of region ${home}.`);

  async function manifestOf(id: string): Promise<Manifest> {
    if (!/^\d{8}T\d{6}Z-[0-9a-f]{8}$/.test(id)) throw new AppError('backup_id_invalid', 400, `"${id}" is not a backup id (they look like 20260101T000000Z-0a1b2c3d; see haven backup list).`);
    const text = await readObject(location(), backupKeys(id).manifest);
    if (!text) throw notFound(id);
    return keyring.verify(id, text.toString('utf8'));
  }

  async function dataKeyOf(id: string): Promise<Buffer> {
    const stored = await readObject(location(), backupKeys(id).key);
    if (!stored) throw new AppError('backup_key_missing', 422, `The key of backup ${id} is missing from the backup location, so the backup cannot be decrypted (it may have been crypto-shredded on expiry).`);
    return keyring.openDataKey(id, stored.toString('utf8'));
  }

  /** Ids in the home location: complete (with a manifest) and not. */
  async function scan(): Promise<{ complete: Set<string>; all: Set<string> }> {
    const complete = new Set<string>();
    const all = new Set<string>();
    for await (const o of location().list('backups/')) {
      const [, id, name] = o.key.split('/');
      if (!id) continue;
      all.add(id);
      if (name === 'manifest.json') complete.add(id);
    }
    return { complete, all };
  }

  async function objectManifest(region: string): Promise<{ body: Buffer; count: number; bytes: number }> {
    const objects: { key: string; size: number; etag: string }[] = [];
    let bytes = 0;
    for await (const o of storage.forRegion(region).list('')) {
      objects.push({ key: o.key, size: o.size, etag: o.etag });
      bytes += o.size;
    }
    objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { body: Buffer.from(JSON.stringify({ region, objects })), count: objects.length, bytes };
  }

  /** Streams the database dump of a verified backup through decryption into `into`, checking both digests. */
  async function readDump(manifest: Manifest, key: Buffer, into: Writable): Promise<void> {
    const id = manifest.id;
    let source: Readable;
    try {
      source = await location().get(manifest.database.stored.key);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new AppError('backup_incomplete', 422, `The database dump of backup ${id} is missing from the backup location.`);
      throw err;
    }
    const cipher = digestTap();
    const plain = digestTap();
    try {
      await pipeline(source, cipher, decryptStream(key), plain, into);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ciphertext_tampered' || code === 'ciphertext_truncated') {
        throw new AppError('backup_corrupt', 422, `The database dump of backup ${id} is corrupt (${code === 'ciphertext_truncated' ? 'truncated' : 'altered bytes'}); it fails its integrity check and will not be used.`);
      }
      throw err;
    }
    if (cipher.sha256() !== manifest.database.stored.sha256 || plain.sha256() !== manifest.database.plainSha256 || plain.size !== manifest.database.plainSize) {
      throw new AppError('backup_corrupt', 422, `The database dump of backup ${id} does not match the SHA-256 its signed manifest records; it will not be used.`);
    }
  }

  async function readSecrets(manifest: Manifest, key: Buffer): Promise<RestoredSecrets> {
    const sealed = await readObject(location(), manifest.secrets.key);
    if (!sealed || sha256(sealed) !== manifest.secrets.sha256) {
      throw new AppError('backup_corrupt', 422, `The sealed secrets of backup ${manifest.id} are missing or do not match the manifest.`);
    }
    const parsed = JSON.parse(decryptBuffer(key, sealed).toString('utf8')) as { signingKey: string; pseudonymKey: string };
    return { signingKey: Buffer.from(parsed.signingKey, 'base64'), pseudonymKey: Buffer.from(parsed.pseudonymKey, 'base64') };
  }

  const engine = {
    home,

    /** Makes one backup. The manifest is written last: a backup without one is incomplete and pruned. */
    async create(now: Date, opts: { tier?: Tier } = {}): Promise<Manifest> {
      const databaseUrl = deps.databaseUrl;
      const { signingKey, pseudonymKey } = secrets;
      if (!databaseUrl || !signingKey || !pseudonymKey) throw new AppError('backup_no_database', 500, 'This backup engine has no database (or root secrets) to back up.');
      const versions = await assertDumpMatchesServer(databaseUrl);
      const existing = await engine.list();
      const tier = opts.tier ?? tierFor(now, existing.backups.map((b) => ({ tier: b.tier, createdAt: new Date(b.createdAt) })));
      const id = newBackupId(now);
      const keys = backupKeys(id);
      const loc = location();
      const { key, stored } = keyring.newDataKey(id);
      try {
        await loc.put(keys.key, Buffer.from(stored));

        const conn = connectionOf(databaseUrl);
        const dump = spawnTool('pg_dump', ['-Fc', '--no-password', '-d', conn.url], conn.env);
        dump.child.stdin.end();
        const plain = digestTap();
        const cipher = digestTap();
        const body = new PassThrough();
        const flowing = pipeline(dump.child.stdout, plain, encryptStream(key, { chunkSize: 1024 * 1024 }), cipher, body);
        await Promise.all([loc.put(keys.database, body), flowing, dump.done]);

        const sealedSecrets = encryptBuffer(key, Buffer.from(JSON.stringify({ signingKey: signingKey.toString('base64'), pseudonymKey: pseudonymKey.toString('base64') })));
        await loc.put(keys.secrets, sealedSecrets);

        const objects: Manifest['objects'] = {};
        for (const region of storage.regions()) {
          const m = await objectManifest(region);
          await storage.backupForRegion(region).put(keys.objects, m.body);
          objects[region] = { key: keys.objects, size: m.body.length, sha256: sha256(m.body), count: m.count, bytes: m.bytes };
        }

        const manifest = keyring.sign({
          format: 'haven-backup/1', id, tier,
          createdAt: now.toISOString(),
          expiresAt: expiryOf(tier, now, deps.retention).toISOString(),
          region: home,
          database: {
            serverVersion: versions.server, pgDumpVersion: versions.pgDump,
            plainSize: plain.size, plainSha256: plain.sha256(),
            stored: { key: keys.database, size: cipher.size, sha256: cipher.sha256() },
          },
          secrets: { key: keys.secrets, size: sealedSecrets.length, sha256: sha256(sealedSecrets) },
          objects,
        });
        await loc.put(keys.manifest, Buffer.from(JSON.stringify(manifest, null, 2)));
        return manifest;
      } catch (err) {
        await engine.remove(id).catch(() => undefined);
        throw err;
      }
    },

    /** Complete backups, oldest first, and those whose manifest does not verify. */
    async list(): Promise<{ backups: BackupListing[]; broken: BrokenBackup[]; incomplete: string[] }> {
      const { complete, all } = await scan();
      const backups: BackupListing[] = [];
      const broken: BrokenBackup[] = [];
      for (const id of [...complete].sort()) {
        try {
          const m = await manifestOf(id);
          backups.push({ id, tier: m.tier, createdAt: m.createdAt, expiresAt: m.expiresAt, size: m.database.stored.size, objects: Object.values(m.objects).reduce((n, o) => n + o.count, 0) });
        } catch (err) {
          broken.push({ id, problem: (err as Error).message });
        }
      }
      return { backups, broken, incomplete: [...all].filter((id) => !complete.has(id)).sort() };
    },

    /** Reads every part of a backup and checks it against the signed manifest; throws the first problem. */
    async verify(id: string): Promise<{ manifest: Manifest; secrets: RestoredSecrets }> {
      const manifest = await manifestOf(id);
      const key = await dataKeyOf(id);
      await readDump(manifest, key, sink());
      const restoredSecrets = await readSecrets(manifest, key);
      for (const [region, part] of Object.entries(manifest.objects)) {
        if (!storage.regions().includes(region)) continue; // a region no longer configured here
        const body = await readObject(storage.backupForRegion(region), part.key);
        if (!body || sha256(body) !== part.sha256) {
          throw new AppError('backup_corrupt', 422, `The object-key manifest of region ${region} in backup ${id} is missing or does not match the signed manifest.`);
        }
      }
      return { manifest, secrets: restoredSecrets };
    },

    /** The object keys, sizes and etags each region held when the backup was made. */
    async objectKeys(id: string, region: string): Promise<{ key: string; size: number; etag: string }[]> {
      const manifest = await manifestOf(id);
      const part = manifest.objects[region];
      if (!part) return [];
      const body = await readObject(storage.backupForRegion(region), part.key);
      if (!body || sha256(body) !== part.sha256) throw new AppError('backup_corrupt', 422, `The object-key manifest of region ${region} in backup ${id} does not match the signed manifest.`);
      return (JSON.parse(body.toString('utf8')) as { objects: { key: string; size: number; etag: string }[] }).objects;
    },

    /**
     * Verifies the backup, then restores its dump into an empty database with
     * pg_restore (no owners or grants: the restored Haven grants its own app
     * role on start). The target is refused unless it is empty.
     */
    async restoreInto(id: string, targetUrl: string): Promise<{ manifest: Manifest; secrets: RestoredSecrets }> {
      const verified = await engine.verify(id);
      const restoreVersion = await toolVersion('pg_restore');
      if (major(restoreVersion) < major(verified.manifest.database.pgDumpVersion)) {
        throw new AppError('backup_version_mismatch', 500, `pg_restore ${restoreVersion} cannot read an archive made by pg_dump ${verified.manifest.database.pgDumpVersion}; install PostgreSQL ${major(verified.manifest.database.pgDumpVersion)} client tools.`);
      }
      if (!(await isEmptyDatabase(targetUrl))) {
        throw new AppError('restore_target_not_empty', 409, 'The restore target database already holds tables; restore only into an empty database (create a new one, or a fresh data dir).');
      }
      await markRestorePending(targetUrl, id);
      const conn = connectionOf(targetUrl);
      const restore = spawnTool('pg_restore', ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', '-d', conn.url], conn.env);
      restore.child.stdout.resume();
      const key = await dataKeyOf(id);
      await Promise.all([readDump(verified.manifest, key, restore.child.stdin), restore.done]);
      return verified;
    },

    /**
     * Keeps a copy of the erasure ledger (keyed hashes only, encrypted) in the
     * backup location, so a restore on a machine that lost its data dir can
     * still re-apply erasures. The ledger only grows; the copy is replaced.
     */
    async saveLedger(ledger: Buffer): Promise<void> {
      await location().put(LEDGER_KEY, encryptBuffer(keyring.ledgerKey, ledger));
    },
    async loadLedger(): Promise<Buffer | undefined> {
      const sealed = await readObject(location(), LEDGER_KEY);
      if (!sealed) return undefined;
      try {
        return decryptBuffer(keyring.ledgerKey, sealed);
      } catch {
        throw new AppError('backup_ledger_corrupt', 422, 'The copy of the erasure ledger in the backup location fails its integrity check; restore the ledger file by hand before restoring.');
      }
    },

    /** Deletes a backup everywhere: its key first (crypto-shredding any copy left behind), then its parts. */
    async remove(id: string): Promise<void> {
      const keys = backupKeys(id);
      await location().delete(keys.key);
      for (const region of storage.regions()) await storage.backupForRegion(region).deletePrefix(keys.prefix);
    },

    /**
     * Removes expired backups, incomplete ones older than a day, and ones whose
     * manifest fails verification once even the longest tier would have expired.
     */
    async prune(now: Date): Promise<{ removed: { id: string; tier?: Tier; reason: string }[] }> {
      const { backups, broken, incomplete } = await engine.list();
      const removed: { id: string; tier?: Tier; reason: string }[] = [];
      const longest = Math.max(deps.retention.hourlyHours * 3600_000, Math.max(deps.retention.dailyDays, deps.retention.weeklyDays) * 86400_000);
      const older = (id: string, ms: number) => { const t = backupTime(id); return !t || now.getTime() - t.getTime() >= ms; };
      for (const b of backups) if (new Date(b.expiresAt).getTime() <= now.getTime()) removed.push({ id: b.id, tier: b.tier, reason: 'expired' });
      for (const id of incomplete) if (older(id, 86400_000)) removed.push({ id, reason: 'incomplete' });
      for (const b of broken) if (older(b.id, longest)) removed.push({ id: b.id, reason: 'unverifiable' });
      for (const r of removed) await engine.remove(r.id);
      return { removed };
    },
  };
  return engine;
}
export type BackupEngine = ReturnType<typeof createBackupEngine>;
