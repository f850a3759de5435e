// Data residency: the storage layer refuses to write a tenant's objects
// outside its region's jurisdiction (fs and S3 locations), start-up refuses a
// configuration that maps a region to a location of another jurisdiction,
// and `haven residency report` flags objects planted in the wrong place.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { assertLocationAllowed, ResidencyError } from '../src/platform/storage/regions.ts';
import { startS3rver, type S3Server } from './fixtures/media-s3rver.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { runHavenCommand } from './helpers/cli.ts';

const PASSWORD = 'correct horse battery staple';

describe('residency', () => {
  let s3: S3Server;
  let database: TestDatabase;
  let haven: TestHaven;
  let euRoot: string;
  let env: Record<string, string>;
  let regions: Record<string, unknown>;
  let euTenant: string;
  let chTenant: string;

  before(async () => {
    s3 = await startS3rver('haven-ch');
    database = await createTestDatabase();
    euRoot = mkdtempSync(join(tmpdir(), 'haven-residency-eu-'));
    regions = {
      eu: { jurisdiction: 'EU', storage: { driver: 'fs', path: euRoot } },
      ch: { jurisdiction: 'CH', storage: { driver: 's3', bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, prefix: 'haven', jurisdiction: 'CH' } },
    };
    const keys = sharedKeys();
    haven = await startTestHaven({ database, config: { ...keys, regions: regions as never, defaultRegion: 'eu' }, haven: { workers: false } });
    env = { DATABASE_URL: database.url, HAVEN_DATA_DIR: haven.dataDir, HAVEN_MASTER_KEY: keys.masterKey!, HAVEN_SIGNING_KEY: keys.signingKey!, HAVEN_PSEUDONYM_KEY: keys.pseudonymKey!, HAVEN_REGIONS: JSON.stringify(regions), HAVEN_DEFAULT_REGION: 'eu' };
    euTenant = (await haven.modules.setup({ tenantName: 'Euro Org', adminEmail: 'owner@eu.test', adminPassword: PASSWORD, region: 'eu' })).tenant.id;
    chTenant = (await haven.modules.setup({ tenantName: 'Swiss Org', adminEmail: 'owner@ch.test', adminPassword: PASSWORD, region: 'ch' })).tenant.id;
  });
  after(async () => {
    await haven?.stop();
    await s3?.close();
    await database?.drop();
    rmSync(euRoot, { recursive: true, force: true });
  });

  test('a region\'s store writes its own tenants\' objects and refuses other jurisdictions\' (fs and S3)', async () => {
    const { storage } = haven.platform;
    const eu = storage.forRegion('eu');
    const ch = storage.forRegion('ch');
    assert.equal((await eu.put(`t/${euTenant}/v/x/original.hvn`, Buffer.from('eu data'))).size, 7);
    assert.equal((await ch.put(`t/${chTenant}/v/y/original.hvn`, Buffer.from('swiss data'))).size, 10);

    await assert.rejects(ch.put(`t/${euTenant}/v/x/copy.hvn`, Buffer.from('eu data')), (err: Error) =>
      err instanceof ResidencyError && /refusing to write .* to region ch \(CH\): tenant .* lives in region eu \(EU\)/.test(err.message));
    await assert.rejects(eu.put(`t/${chTenant}/v/y/copy.hvn`, Buffer.from('swiss data')), ResidencyError);
    // Nothing was written by the refused calls.
    assert.equal(await ch.head(`t/${euTenant}/v/x/copy.hvn`), undefined);
    assert.equal(await eu.head(`t/${chTenant}/v/y/copy.hvn`), undefined);
    // A tenant nobody knows cannot be placed anywhere; platform objects need no tenant.
    await assert.rejects(eu.put(`t/${randomUUID()}/v/z/original.hvn`, Buffer.from('?')), /no tenant .* exists/);
    await eu.put('.haven/marker', Buffer.from('platform'));
  });

  test('exports and backups get the same rule as a function', () => {
    const cfg = haven.config;
    assertLocationAllowed(cfg, 'eu', 'eu');
    assertLocationAllowed(cfg, 'eu', { driver: 'fs', path: '/x', jurisdiction: 'eu' });
    assert.throws(() => assertLocationAllowed(cfg, 'eu', 'ch'), /region ch's storage is in CH; a tenant of region eu may only be written to EU/);
    assert.throws(() => assertLocationAllowed(cfg, 'ch', { driver: 's3', bucket: 'aws-bucket', region: 'eu-central-1', forcePathStyle: true, prefix: '' }), /is in EU/);
    assert.throws(() => assertLocationAllowed(cfg, 'ch', { driver: 'fs', path: '/x' }), /declares no jurisdiction/);
    haven.platform.storage.assertLocationAllowed('ch', { driver: 's3', bucket: 'aws-bucket', region: 'eu-central-2', forcePathStyle: true, prefix: '' });
  });

  test('configuration mapping a region to a location of another jurisdiction is refused (exit 2, one line)', async () => {
    const bad = (r: unknown) => () => loadConfig({ HAVEN_CONFIG: '', HAVEN_REGIONS: JSON.stringify(r), HAVEN_DEFAULT_REGION: 'eu' });
    assert.throws(bad({ eu: { jurisdiction: 'EU', storage: { driver: 's3', bucket: 'media', endpoint: 'https://s3.example', jurisdiction: 'US' } } }), (err: Error) =>
      err instanceof ConfigError && /regions.eu: its storage location is in jurisdiction US but the region is EU/.test(err.message));
    // AWS without an endpoint: the bucket's AWS region says where it is.
    assert.throws(bad({ eu: { jurisdiction: 'EU', storage: { driver: 's3', bucket: 'media', region: 'us-east-1' } } }), /in jurisdiction US but the region is EU/);
    assert.throws(bad({ eu: { jurisdiction: 'EU', storage: { driver: 'fs', path: '/srv/media' } }, ch: { jurisdiction: 'CH', storage: { driver: 'fs', path: '/srv/media' } } }),
      /regions.ch: shares its storage location with region eu of jurisdiction EU/);
    assert.throws(bad({ eu: { jurisdiction: 'EU', storage: { driver: 'fs' }, backup: { driver: 'fs', path: '/b', jurisdiction: 'US' } } }), /regions.eu.backup/);
    loadConfig({ HAVEN_CONFIG: '', HAVEN_REGIONS: JSON.stringify({ eu: { jurisdiction: 'EU', storage: { driver: 's3', bucket: 'media', region: 'eu-west-1' } } }), HAVEN_DEFAULT_REGION: 'eu' });

    const r = await runHavenCommand(['residency', 'report'], { ...env, HAVEN_REGIONS: JSON.stringify({ eu: { jurisdiction: 'EU', storage: { driver: 'fs', path: euRoot, jurisdiction: 'CH' } } }) });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^haven: invalid configuration: regions \(HAVEN_REGIONS\): regions.eu: its storage location is in jurisdiction CH but the region is EU/);
  });

  test('haven residency report lists every object and flags the ones out of place', async () => {
    // Planted behind Haven's back, straight onto the EU disk: a Swiss tenant's object, and one of no tenant.
    const stray = randomUUID();
    mkdirSync(join(euRoot, 't', chTenant, 'v', 'p'), { recursive: true });
    writeFileSync(join(euRoot, 't', chTenant, 'v', 'p', 'original.hvn'), 'misplaced');
    mkdirSync(join(euRoot, 't', stray), { recursive: true });
    writeFileSync(join(euRoot, 't', stray, 'leftover.bin'), 'orphan');

    const r = await runHavenCommand(['residency', 'report', '--json'], env);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    const byKey = new Map<string, any>(report.objects.map((o: any) => [`${o.region}:${o.key}`, o]));
    assert.equal(byKey.get(`eu:t/${euTenant}/v/x/original.hvn`).flag, null);
    assert.equal(byKey.get(`ch:t/${chTenant}/v/y/original.hvn`).flag, null);
    assert.equal(byKey.get(`ch:t/${chTenant}/v/y/original.hvn`).jurisdiction, 'CH');
    const misplaced = byKey.get(`eu:t/${chTenant}/v/p/original.hvn`);
    assert.deepEqual([misplaced.flag, misplaced.jurisdiction, misplaced.tenantRegion, misplaced.tenantJurisdiction], ['outside_jurisdiction', 'EU', 'ch', 'CH']);
    assert.equal(byKey.get(`eu:t/${stray}/leftover.bin`).flag, 'unknown_tenant');
    assert.equal(byKey.get('eu:.haven/marker').tenantId, null);
    assert.equal(report.flagged, 2);
    assert.deepEqual(report.regions.map((x: any) => [x.region, x.driver, x.jurisdiction]), [['eu', 'fs', 'EU'], ['ch', 's3', 'CH']]);

    const text = await runHavenCommand(['residency', 'report', '--tenant', 'swiss-org'], env);
    assert.equal(text.status, 1, text.stderr);
    assert.match(text.stdout, new RegExp(`eu/EU  t/${chTenant}/v/p/original.hvn  9 B  swiss-org \\(ch/CH\\)  FLAGGED: outside the tenant's jurisdiction CH`));
    assert.match(text.stdout, new RegExp(`ch/CH  t/${chTenant}/v/y/original.hvn  10 B  swiss-org`));
    assert.doesNotMatch(text.stdout, new RegExp(euTenant));
    assert.match(text.stdout, /1 object\(s\) FLAGGED/);

    rmSync(join(euRoot, 't', chTenant), { recursive: true });
    rmSync(join(euRoot, 't', stray), { recursive: true });
    const clean = await runHavenCommand(['residency', 'report'], env);
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /every object is inside its tenant's jurisdiction/);
  });
});
