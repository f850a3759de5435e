// Restore drills on real PostgreSQL (the run's server: embedded, or the
// machine's when DATABASE_URL names it): encrypted tiered backups, restore
// into an empty database and into a fresh embedded data dir with the erasure
// ledger re-applied, refusal of corrupt, tampered and keyless backups, and
// pruning by tier.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Config } from '../src/config.ts';
import { startHaven } from '../src/main.ts';
import { systemContext } from '../src/modules/identity/actor.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { backupKeys, type Manifest } from '../src/modules/privacy/backup/manifest.ts';
import { type OpenedHaven, restoreBackup } from '../src/modules/privacy/backup/restore.ts';
import { expiryOf, tierFor } from '../src/modules/privacy/backup/tiers.ts';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { insertVideo } from './helpers/library.ts';
import { runHavenCommand } from './helpers/cli.ts';
import { unusedPort } from './helpers/process.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

const openRestored = async (config: Config): Promise<OpenedHaven> => {
  const h = await startHaven(config, { workers: false, http: false, logDestination: { write: () => undefined } });
  return { audit: h.modules.audit, databaseUrl: h.platform.db.ownerUrl, reapplyErasureLedger: () => h.modules.privacy.erasure.reapplyLedger(), close: () => h.close() };
};

describe('backup tiers', () => {
  test('the first backup of a week is weekly, of a day daily, the rest hourly; each expires by its tier', () => {
    const monday = new Date('2026-11-30T10:00:00Z');
    assert.equal(tierFor(monday, []), 'weekly');
    const existing = [{ tier: 'weekly' as const, createdAt: monday }];
    assert.equal(tierFor(new Date('2026-11-30T11:00:00Z'), existing), 'hourly');
    assert.equal(tierFor(new Date('2026-12-01T00:05:00Z'), existing), 'daily');
    assert.equal(tierFor(new Date('2026-12-07T00:05:00Z'), existing), 'weekly');
    const r = { hourlyHours: 24, dailyDays: 7, weeklyDays: 30 };
    assert.equal(expiryOf('hourly', monday, r).getTime() - monday.getTime(), DAY);
    assert.equal(expiryOf('daily', monday, r).getTime() - monday.getTime(), 7 * DAY);
    assert.equal(expiryOf('weekly', monday, r).getTime() - monday.getTime(), 30 * DAY);
  });
});

describe('restore drill', () => {
  let haven: TestHaven;
  let now: Date;
  let tenantId: string;
  let region: string;
  let first: Manifest;
  const keptEmail = 'kept@drill.test';
  const erasedEmail = 'erased@drill.test';
  let deletedVideo: string;
  let keptVideo: string;
  const targets: TestDatabase[] = [];
  const dirs: string[] = [];

  const backups = () => haven.modules.privacy.backup;
  const location = () => join(haven.dataDir, 'backups', 'default');
  const tick = () => { now = new Date(now.getTime() + 60_000); };

  before(async () => {
    haven = await startTestHaven({ haven: { workers: false } });
    const today = new Date();
    now = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 10));
    haven.platform.clock = { now: () => now };
    const { tenant } = await haven.modules.setup({ tenantName: 'Drill', adminEmail: 'owner@drill.test', adminPassword: 'correct horse battery staple' });
    tenantId = tenant.id;
    region = tenant.region;
    await haven.platform.db.withTenant(tenantId, async (tx) => {
      await addMember(tx, tenantId, { email: keptEmail, password: 'correct horse battery staple', role: 'viewer', emailVerified: true });
      await addMember(tx, tenantId, { email: erasedEmail, password: 'correct horse battery staple', role: 'editor', emailVerified: true });
    });
    keptVideo = await insertVideo(haven, { tenantId, region }, { title: 'Quarterly review' });
    deletedVideo = await insertVideo(haven, { tenantId, region }, { title: 'Deleted after the backup' });

    first = await backups().create();

    // After the backup: one video is deleted for good, one person is erased.
    await haven.platform.db.withTenant(tenantId, (tx) => tx.deleteFrom('videos').where('id', '=', deletedVideo).execute());
    await haven.modules.privacy.erasure.eraseSubject({ email: erasedEmail }, systemContext('privacy.test'));
    const left = await query(haven.database.url, 'select 1 from users where email_normalized = $1', [erasedEmail]);
    assert.equal(left.length, 0, 'the erasure removed the person from the live database');
  });

  after(async () => {
    await haven?.stop();
    for (const t of targets) await t.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a backup is encrypted, signed, listed with tier and expiry, and audited', async () => {
    assert.equal(first.tier, 'weekly');
    assert.equal(first.expiresAt, new Date(now.getTime() + 30 * DAY).toISOString());
    const stored = readFileSync(join(location(), backupKeys(first.id).database));
    assert.equal(stored.subarray(0, 4).toString('latin1'), 'HVN1');
    assert.ok(!stored.includes(Buffer.from('Quarterly review')), 'no plaintext in the stored dump');
    assert.ok(!stored.includes(Buffer.from('PGDMP')), 'the pg_dump archive header is not visible');
    assert.ok(first.objects.default, 'an object-key manifest of the region');
    const { backups: listed } = await backups().list();
    assert.deepEqual(listed.map((b) => [b.id, b.tier, b.expiresAt]), [[first.id, 'weekly', first.expiresAt]]);
    assert.ok(listed[0]!.size > 0);
    const audit = await query<{ details: unknown }>(haven.database.url, `select details from audit_events where action = 'backup.create' and target_id = $1`, [first.id]);
    assert.equal(audit.length, 1);
    await backups().verify(first.id);
  });

  test('haven backup list and verify read the backup location with the master key alone', async () => {
    const env = { HAVEN_CONFIG: '', HAVEN_DATA_DIR: haven.dataDir };
    const list = await runHavenCommand(['backup', 'list'], env);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${first.id}  weekly  .* expires ${first.expiresAt}$`, 'm'));
    const verify = await runHavenCommand(['backup', 'verify', first.id], env);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, new RegExp(`backup ${first.id}: ok`));
    const fresh = mkdtempSync(join(tmpdir(), 'haven-nokey-'));
    dirs.push(fresh);
    const noKey = await runHavenCommand(['backup', 'list'], { HAVEN_CONFIG: '', HAVEN_DATA_DIR: fresh });
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /^haven: No master key: set HAVEN_MASTER_KEY/);
  });

  test('restore into an empty database: deleted data is back, erased data is not, and the restore is audited', async () => {
    const target = await createTestDatabase({ empty: true });
    targets.push(target);
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-restore-'));
    dirs.push(dataDir);
    const report = await restoreBackup({
      source: haven.config, storage: haven.platform.storage, id: first.id,
      target: { ...haven.config, databaseUrl: target.url, dataDir }, open: openRestored,
    });
    assert.equal(report.target, 'database_url');
    assert.ok(report.ledger.entries >= 1 && report.ledger.reErased >= 1, JSON.stringify(report.ledger));

    const videos = (await query<{ id: string }>(target.url, 'select id::text from videos where tenant_id = $1', [tenantId])).map((r) => r.id).sort();
    assert.deepEqual(videos, [keptVideo, deletedVideo].sort(), 'the video deleted after the backup is back');
    assert.equal((await query(target.url, 'select 1 from users where email_normalized = $1', [keptEmail])).length, 1);
    assert.equal((await query(target.url, 'select 1 from users where email_normalized = $1', [erasedEmail])).length, 0, 'the erased person stays erased');
    const restored = await query(target.url, `select 1 from audit_events where action = 'backup.restore' and target_id = $1`, [first.id]);
    assert.equal(restored.length, 1);
    const [mark] = await query<{ c: string | null }>(target.url, `select shobj_description(oid, 'pg_database') as c from pg_database where datname = current_database()`);
    assert.equal(mark!.c, null, 'the finished restore cleared its restore-pending mark');
    // The fresh data dir got the secrets the backup carries, and the ledger to continue.
    assert.ok(existsSync(join(dataDir, 'secrets', 'signingKey.key')));
    assert.ok(existsSync(join(dataDir, 'privacy', 'erasure-ledger.ndjson')));

    await rejectsWith(
      restoreBackup({ source: haven.config, storage: haven.platform.storage, id: first.id, target: { ...haven.config, databaseUrl: target.url, dataDir }, open: openRestored }),
      'restore_target_not_empty', /only into an empty database/,
    );
  });

  test('restore into a fresh embedded data dir (initdb a new cluster)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-restore-embedded-'));
    dirs.push(dataDir);
    const port = await unusedPort();
    const target: Config = { ...haven.config, databaseUrl: undefined, dataDir, embeddedDatabasePort: port };
    const report = await restoreBackup({ source: haven.config, storage: haven.platform.storage, id: first.id, target, open: openRestored });
    assert.equal(report.target, 'embedded');
    const pgServer = await startEmbeddedPostgres(dataDir, port, () => undefined);
    try {
      assert.equal((await query(pgServer.url, 'select 1 from videos where id = $1', [deletedVideo])).length, 1);
      assert.equal((await query(pgServer.url, 'select 1 from users where email_normalized = $1', [erasedEmail])).length, 0);
      assert.equal((await query(pgServer.url, 'select 1 from users where email_normalized = $1', [keptEmail])).length, 1);
    } finally {
      await pgServer.stop();
    }
  });

  test('a database whose restore did not finish (ledger not re-applied) refuses to serve', async () => {
    const target = await createTestDatabase({ empty: true });
    targets.push(target);
    await backups().engine().restoreInto(first.id, target.url);
    assert.equal((await query(target.url, 'select 1 from videos where id = $1', [deletedVideo])).length, 1, 'the dump went in');
    await assert.rejects(
      startHaven({ ...haven.config, databaseUrl: target.url, port: 0 }, { workers: false, http: true, logDestination: { write: () => undefined } }),
      new RegExp(`unfinished restore of backup ${first.id}`),
    );
  });

  test('a corrupted dump, a tampered manifest and a missing key are refused with clear messages', async () => {
    tick();
    const corrupt = await backups().create();
    const dumpFile = join(location(), backupKeys(corrupt.id).database);
    const bytes = readFileSync(dumpFile);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(dumpFile, bytes);
    await rejectsWith(backups().verify(corrupt.id), 'backup_corrupt', /corrupt.*integrity check/);

    const target = await createTestDatabase({ empty: true });
    targets.push(target);
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-restore-'));
    dirs.push(dataDir);
    await rejectsWith(
      restoreBackup({ source: haven.config, storage: haven.platform.storage, id: corrupt.id, target: { ...haven.config, databaseUrl: target.url, dataDir }, open: openRestored }),
      'backup_corrupt', /will not be used/,
    );
    assert.equal((await query(target.url, `select 1 from pg_tables where schemaname = 'public'`)).length, 0, 'nothing was restored');

    tick();
    const tampered = await backups().create();
    const manifestFile = join(location(), backupKeys(tampered.id).manifest);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    manifest.expiresAt = new Date(now.getTime() + 365 * DAY).toISOString();
    writeFileSync(manifestFile, JSON.stringify(manifest));
    await rejectsWith(backups().verify(tampered.id), 'backup_manifest_tampered', /fails its signature check/);
    const { broken } = await backups().list();
    assert.deepEqual(broken.map((b) => b.id), [tampered.id]);

    tick();
    const keyless = await backups().create();
    unlinkSync(join(location(), backupKeys(keyless.id).key));
    await rejectsWith(backups().verify(keyless.id), 'backup_key_missing', /key .* is missing/);

    await rejectsWith(backups().verify('20200101T000000Z-00000000'), 'backup_not_found', /No backup/);
  });

  test('a machine that lost its ledger file re-applies erasures from the copy in the backup location', async () => {
    tick();
    await backups().create(); // each backup run refreshes the ledger copy
    const target = await createTestDatabase({ empty: true });
    targets.push(target);
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-restore-'));
    dirs.push(dataDir);
    const report = await restoreBackup({
      source: haven.config, storage: haven.platform.storage, id: first.id, ledgerPath: join(dataDir, 'lost-ledger.ndjson'),
      target: { ...haven.config, databaseUrl: target.url, dataDir }, open: openRestored,
    });
    assert.ok(report.ledger.entries >= 1 && report.ledger.reErased >= 1, JSON.stringify(report.ledger));
    assert.equal((await query(target.url, 'select 1 from users where email_normalized = $1', [erasedEmail])).length, 0);
  });

  test('pruning deletes expired backups by tier, and nothing outlives a month', async () => {
    const before = (await backups().list()).backups;
    const hourly = before.filter((b) => b.tier === 'hourly').map((b) => b.id);
    assert.ok(hourly.length >= 2, 'the later backups of the day are hourly');
    const dirsOf = () => (existsSync(join(location(), 'backups')) ? readdirSync(join(location(), 'backups')).sort() : []);

    now = new Date(now.getTime() + 25 * HOUR);
    const day = await backups().prune();
    assert.deepEqual(day.removed.map((r) => r.id).sort(), hourly.sort());
    for (const id of hourly) assert.ok(!dirsOf().includes(id), `${id} was deleted from the backup location`);
    assert.ok(dirsOf().includes(first.id), 'the weekly backup is kept');

    now = new Date(now.getTime() + 31 * DAY);
    await backups().prune();
    assert.deepEqual(dirsOf(), [], 'after a month no backup (not even an unverifiable one) is left');
    const pruned = await query(haven.database.url, `select 1 from audit_events where action = 'backup.prune'`);
    assert.equal(pruned.length, 2);
  });
});
