// The storage-touching privacy operations on the S3 driver: one Haven whose
// only region stores its media in an S3 bucket (s3rver on loopback) and its
// backups in the same bucket under another prefix, configured as an operator
// would. Real clips go through the media pipeline; what the bucket holds is
// read with the AWS SDK directly (test/fixtures/s3-bucket.ts), not through
// Haven's store. In order: an access archive, a backup, an erasure, the
// restore drill, the residency report, the trash purge, offboarding, and
// the pruning of backups.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import pg from 'pg';
import { startHaven } from '../src/main.ts';
import { systemContext } from '../src/modules/identity/actor.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { backupKeys, type Manifest } from '../src/modules/privacy/backup/manifest.ts';
import { type OpenedHaven, restoreBackup } from '../src/modules/privacy/backup/restore.ts';
import { verifyCertificate } from '../src/modules/privacy/offboarding/index.ts';
import { seeTrash } from '../src/modules/privacy/trash/index.ts';
import type { Config } from '../src/config.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { type Owner, PASSWORD, signedInOwner, tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { type S3Server, startS3rver } from './fixtures/media-s3rver.ts';
import { type Bucket, openBucket } from './fixtures/s3-bucket.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { parseMail } from './helpers/mime.ts';
import { runHavenCommand } from './helpers/cli.ts';

const DAY = 86_400_000;
const MEDIA = 'media/';
const BACKUPS = 'backups/';

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const openRestored = async (config: Config): Promise<OpenedHaven> => {
  const h = await startHaven(config, { workers: false, http: false, logDestination: { write: () => undefined } });
  return { audit: h.modules.audit, databaseUrl: h.platform.db.ownerUrl, reapplyErasureLedger: () => h.modules.privacy.erasure.reapplyLedger(), close: () => h.close() };
};

describe('privacy operations on the S3 driver', () => {
  let s3: S3Server;
  let bucket: Bucket;
  let haven: TestHaven;
  let keys: ReturnType<typeof sharedKeys>;
  let regions: Record<string, unknown>;
  let clip: Buffer;
  const dirs: string[] = [];
  const targets: TestDatabase[] = [];

  // Export Org: an editor who uploaded a clip asks for their data; the clip is later trashed and purged.
  let exporter: Owner;
  let editor: ApiClient;
  let exportVideo: string;
  // Alice: her own tenant and clip, erased.
  let alice: Owner;
  let aliceVideo: string;
  // Leaving Org: offboarded with its media.
  let leaving: Owner;
  let leavingVideo: string;
  let operator: ApiClient;
  let firstBackup: Manifest;

  const editorEmail = 'editor@export.test';
  const mediaKeys = (prefix = '') => bucket.keys(MEDIA + prefix);
  const backupKeysIn = (prefix = '') => bucket.keys(BACKUPS + prefix);

  before(async () => {
    s3 = await startS3rver('haven-eu');
    bucket = openBucket(s3);
    const location = { driver: 's3', bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true };
    regions = { eu: { jurisdiction: 'EU', storage: { ...location, prefix: 'media' }, backup: { ...location, prefix: 'backups' } } };
    keys = sharedKeys();
    haven = await startTestHaven({ env: { HAVEN_REGIONS: JSON.stringify(regions), HAVEN_DEFAULT_REGION: 'eu' }, config: keys });
    assert.equal(haven.platform.storage.forRegion('eu').driver, 's3');
    assert.equal(haven.platform.storage.backupForRegion('eu').driver, 's3');

    const dir = mkdtempSync(join(tmpdir(), 'privacy-s3-'));
    dirs.push(dir);
    clip = readFileSync(makeClip(dir, 'shared', { seconds: 2 }));

    exporter = await signedInOwner(haven, 'Export Org', 'owner@export.test');
    await haven.platform.db.withTenant(exporter.tenantId, (tx) => addMember(tx, exporter.tenantId, { email: editorEmail, password: PASSWORD, role: 'editor', emailVerified: true }));
    editor = new ApiClient(haven.url);
    await editor.signIn(editorEmail, PASSWORD);
    alice = await signedInOwner(haven, 'Alice Solo', 'alice@solo.test');
    leaving = await signedInOwner(haven, 'Leaving Org', 'owner@leaving.test');
    await signedInOwner(haven, 'Operator Org', 'operator@platform.test');
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'operator@platform.test'`);
    operator = new ApiClient(haven.url);
    await operator.signIn('operator@platform.test', PASSWORD);

    // One clip, three uploads through the real pipeline into the bucket.
    const uploads = await Promise.all([
      tusUpload(haven.url, editor, clip, { title: 'Editor clip' }),
      tusUpload(haven.url, alice.api, clip, { title: 'Holiday' }),
      tusUpload(haven.url, leaving.api, clip, { title: 'Quarterly review' }),
    ]);
    [exportVideo, aliceVideo, leavingVideo] = uploads.map((u) => u.videoId) as [string, string, string];
    await waitForStatus(editor, exportVideo, 'ready');
    await waitForStatus(alice.api, aliceVideo, 'ready');
    await waitForStatus(leaving.api, leavingVideo, 'ready');
  });

  after(async () => {
    await haven?.stop();
    bucket?.close();
    await s3?.close();
    for (const t of targets) await t.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('the pipeline stored every video in the bucket, nothing on local disk', async () => {
    for (const [owner, video] of [[exporter, exportVideo], [alice, aliceVideo], [leaving, leavingVideo]] as const) {
      const stored = await mediaKeys(`t/${owner.tenantId}/v/${video}/`);
      assert.ok(stored.includes(`${MEDIA}t/${owner.tenantId}/v/${video}/original.hvn`), JSON.stringify(stored));
      assert.ok(stored.some((k) => k.endsWith('/hls/master.m3u8')));
    }
    assert.deepEqual(readdirSync(haven.dataDir).filter((d) => d === 'storage' || d === 'backups'), [], 'no fs storage or backup directory was made');
  });

  test('access archive: encrypted in the bucket, holds the decrypted original, downloads once, swept after 7 days', async () => {
    assert.equal((await exporter.api.patch('/api/v1/privacy/dsar-settings', { exportMediaLimitBytes: 50 * 1024 * 1024 })).status, 200);
    const made = await editor.post('/api/v1/privacy/requests', { type: 'access' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    let row: Record<string, any> | undefined;
    for (let i = 0; i < 300 && !(row && ['complete', 'error'].includes(row.state)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      row = await haven.platform.db.withPlatform((tx) => tx.selectFrom('privacy_requests').selectAll().where('id', '=', made.body.id).executeTakeFirst());
    }
    assert.equal(row?.state, 'complete', row?.error);

    const stored = await haven.platform.db.withTenant(exporter.tenantId, (tx) => tx.selectFrom('privacy_exports').selectAll().executeTakeFirstOrThrow());
    assert.equal(stored.region, 'eu');
    assert.ok(stored.object_key.startsWith(`t/${exporter.tenantId}/privacy/exports/`));
    const raw = await bucket.read(MEDIA + stored.object_key);
    assert.equal(raw.subarray(0, 4).toString('latin1'), 'HVN1', 'the archive is encrypted in the bucket');
    assert.ok(!raw.includes(Buffer.from('manifest.json')) && !raw.includes(Buffer.from(editorEmail)), 'no plaintext in the bucket');

    // The link is mailed (to the outbox: no SMTP server here).
    const outbox = join(haven.dataDir, 'mail-outbox');
    const mails = readdirSync(outbox).filter((f) => f.endsWith('.eml')).map((f) => parseMail(readFileSync(join(outbox, f), 'utf8')));
    const text = mails.filter((m) => (m.headers.get('to') ?? '').includes(editorEmail)).map((m) => (m.text ?? '').replace(/=\r?\n/g, '').replace(/=3D/g, '=')).join('\n');
    const link = /(http\S+\/api\/v1\/privacy\/exports\/[A-Za-z0-9_-]+)/.exec(text)?.[1];
    assert.ok(link, 'an export link was mailed');
    const url = new URL(new URL(link).pathname, haven.url);

    const res = await fetch(url);
    assert.equal(res.status, 200);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const uploads = JSON.parse(strFromU8(files['uploads.json']!));
    assert.deepEqual(uploads.map((u: any) => [u.id, u.includedAs]), [[exportVideo, `media/${exportVideo}`]]);
    assert.deepEqual(Buffer.from(files[`media/${exportVideo}`]!), clip, 'the original, read from the bucket and decrypted, is the uploaded file');
    assert.equal(JSON.parse(strFromU8(files['manifest.json']!)).subject.email, editorEmail);
    const second = await fetch(url);
    expectError({ status: second.status, body: await second.json(), headers: new Headers() }, 410, 'export_link_used');

    await haven.platform.db.withTenant(exporter.tenantId, (tx) => tx.updateTable('privacy_exports').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', stored.id).execute());
    assert.equal(await haven.modules.privacy.dsar.sweepExports(), 1);
    assert.deepEqual(await mediaKeys(`t/${exporter.tenantId}/privacy/`), [], 'the archive is gone from the bucket');
    const audit = await haven.platform.db.withTenant(exporter.tenantId, (tx) => tx.selectFrom('audit_events').select('action').where('action', 'in', ['dsar.export.create', 'dsar.export.download', 'dsar.export.delete']).execute());
    assert.deepEqual(audit.map((a) => a.action).sort(), ['dsar.export.create', 'dsar.export.delete', 'dsar.export.download']);
  });

  test('a backup goes to the S3 backup location, encrypted, with the bucket\'s object manifest, and verifies', async () => {
    firstBackup = await haven.modules.privacy.backup.create();
    const parts = backupKeys(firstBackup.id);
    const stored = await backupKeysIn(`backups/${firstBackup.id}/`);
    assert.deepEqual(stored, [parts.database, parts.key, parts.manifest, parts.objects, parts.secrets].map((k) => BACKUPS + k).sort());
    const dump = await bucket.read(BACKUPS + parts.database);
    assert.equal(dump.subarray(0, 4).toString('latin1'), 'HVN1');
    assert.ok(!dump.includes(Buffer.from('PGDMP')) && !dump.includes(Buffer.from('Quarterly review')), 'no plaintext dump in the bucket');
    // The object manifest lists exactly what the media prefix of the bucket holds.
    const listed = JSON.parse((await bucket.read(BACKUPS + parts.objects)).toString('utf8')) as { objects: { key: string }[] };
    assert.deepEqual(listed.objects.map((o) => MEDIA + o.key).sort(), await mediaKeys());
    assert.equal(firstBackup.objects.eu!.count, listed.objects.length);
    assert.ok(listed.objects.length > 10);
    await haven.modules.privacy.backup.verify(firstBackup.id);

    // The CLI on a machine with the master key and the configuration, nothing else.
    const fresh = mkdtempSync(join(tmpdir(), 'privacy-s3-cli-'));
    dirs.push(fresh);
    const env = { HAVEN_DATA_DIR: fresh, HAVEN_MASTER_KEY: keys.masterKey!, HAVEN_REGIONS: JSON.stringify(regions), HAVEN_DEFAULT_REGION: 'eu' };
    const verify = await runHavenCommand(['backup', 'verify', firstBackup.id], env);
    assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, new RegExp(`backup ${firstBackup.id}: ok`));
  });

  test('erasure deletes the person\'s own media from the bucket and the verification passes', async () => {
    const prefix = `t/${alice.tenantId}/v/${aliceVideo}/`;
    const before = await mediaKeys(prefix);
    assert.ok(before.length > 5);
    const report = await haven.modules.privacy.erasure.eraseSubject({ email: 'alice@solo.test' }, systemContext('privacy.test'));
    assert.equal(report.state, 'done', JSON.stringify(report.verification?.findings));
    assert.equal(report.verification!.ok, true);
    assert.ok(report.verification!.storage.prefixesChecked >= 2, 'the verification listed her prefixes in the bucket');
    assert.equal(report.verification!.storage.objectsListed, 0, 'and found nothing left under them');
    assert.deepEqual(report.objects, [{ region: 'eu', location: 's3', deleted: before.length }]);
    assert.deepEqual(await mediaKeys(prefix), [], 'nothing of her video is left in the bucket');
    assert.equal((await query(haven.database.url, 'select 1 from videos where id = $1', [aliceVideo])).length, 0);
    // The other tenants' media stays.
    assert.ok((await mediaKeys(`t/${leaving.tenantId}/v/${leavingVideo}/`)).length > 5);
    assert.ok((await mediaKeys(`t/${exporter.tenantId}/v/${exportVideo}/`)).length > 5);
  });

  test('restore drill from the S3 backup location: into an empty database, the erased person stays erased', async () => {
    // A later backup refreshes the ledger copy in the bucket; the restore reads it, as a machine that lost its data dir would.
    await haven.modules.privacy.backup.create();
    assert.ok((await backupKeysIn('erasure-ledger/')).length === 1, 'the ledger copy is in the bucket');

    const target = await createTestDatabase({ empty: true });
    targets.push(target);
    const dataDir = mkdtempSync(join(tmpdir(), 'privacy-s3-restore-'));
    dirs.push(dataDir);
    const report = await restoreBackup({
      source: haven.config, storage: haven.platform.storage, id: firstBackup.id, ledgerPath: join(dataDir, 'lost-ledger.ndjson'),
      target: { ...haven.config, databaseUrl: target.url, dataDir }, open: openRestored,
    });
    assert.equal(report.target, 'database_url');
    assert.deepEqual(report.ledger, { entries: 1, reErased: 1 });
    const videos = (await query<{ id: string }>(target.url, 'select id::text from videos order by id')).map((r) => r.id);
    assert.deepEqual(videos, [exportVideo, leavingVideo].sort(), 'the backup\'s videos are back; the erased person\'s is not');
    assert.equal((await query(target.url, `select 1 from users where email_normalized = 'alice@solo.test'`)).length, 0);
    assert.equal((await query(target.url, 'select 1 from users where email_normalized = $1', [editorEmail])).length, 1);
    assert.equal((await query(target.url, `select 1 from audit_events where action = 'backup.restore' and target_id = $1`, [firstBackup.id])).length, 1);
    // Re-erasing in the restored database touched no one else's objects in the shared bucket.
    assert.ok((await mediaKeys(`t/${exporter.tenantId}/v/${exportVideo}/`)).length > 5);
  });

  test('the residency report lists the bucket\'s objects and flags one planted behind Haven\'s back', async () => {
    const stray = randomUUID();
    await bucket.write(`${MEDIA}t/${stray}/v/x/original.hvn`, Buffer.from('orphan'));
    const report = await haven.modules.privacy.residency.report();
    assert.deepEqual(report.regions.map((r) => [r.region, r.driver, r.jurisdiction]), [['eu', 's3', 'EU']]);
    assert.deepEqual(report.objects.map((o) => MEDIA + o.key).sort(), await mediaKeys(), 'every object in the bucket, nothing else');
    assert.equal(report.regions[0]!.objects, report.objects.length);
    const planted = report.objects.find((o) => o.key === `t/${stray}/v/x/original.hvn`);
    assert.deepEqual([planted?.flag, planted?.size], ['unknown_tenant', 6]);
    assert.equal(report.flagged, 1);
    for (const [owner, video] of [[exporter, exportVideo], [leaving, leavingVideo]] as const) {
      const media = report.objects.filter((o) => o.key.startsWith(`t/${owner.tenantId}/v/${video}/`));
      assert.ok(media.length > 5 && media.every((o) => o.flag === null && o.jurisdiction === 'EU' && o.tenantJurisdiction === 'EU' && o.tenantRegion === 'eu'));
    }
    // A tenant's own report holds only its objects.
    const own = await haven.modules.privacy.residency.report({ tenantId: exporter.tenantId });
    assert.ok(own.objects.length > 5 && own.objects.every((o) => o.tenantId === exporter.tenantId));
  });

  test('the trash purge deletes a video\'s whole prefix from the bucket, with its keys', async () => {
    const prefix = `t/${exporter.tenantId}/v/${exportVideo}/`;
    assert.ok((await mediaKeys(prefix)).length > 5);
    assert.equal((await exporter.api.delete(`/api/v1/videos/${exportVideo}`)).status, 200);
    assert.ok((await mediaKeys(prefix)).length > 5, 'the trash keeps the objects during the window');
    await haven.platform.db.withTenant(exporter.tenantId, async (tx) => {
      await seeTrash(tx);
      await tx.updateTable('videos').set({ purge_after: new Date(Date.now() - 1000) }).where('id', '=', exportVideo).execute();
    });
    const report = await haven.modules.privacy.trash.purgeDue();
    assert.equal(report.videos, 1);
    assert.ok(report.objects > 5);
    assert.deepEqual(await mediaKeys(prefix), []);
    assert.equal((await query(haven.database.url, 'select 1 from videos where id = $1', [exportVideo])).length, 0, 'the row and its wrapped keys are gone');
    assert.equal((await query(haven.database.url, `select 1 from audit_events where action = 'video.purge' and target_id = $1`, [exportVideo])).length, 1);
  });

  test('offboarding: the export comes from the bucket, then key, objects and rows are destroyed with a signed certificate', async () => {
    const off = await operator.post(`/api/v1/platform/tenants/${leaving.tenantId}/offboard`, { graceDays: 1, includeMedia: true });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const exportKey = `${MEDIA}t/${leaving.tenantId}/offboarding/export.zip.hvn`;
    const sealed = await bucket.read(exportKey);
    assert.equal(sealed.subarray(0, 4).toString('latin1'), 'HVN1');
    assert.ok(!sealed.includes(Buffer.from('Quarterly review')));

    const res = await fetch(new URL(off.body.downloadPath, haven.url), { headers: { cookie: leaving.api.cookie! } });
    assert.equal(res.status, 200);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(Buffer.from(files[`media/${leavingVideo}/original`]!), clip);
    const listed = JSON.parse(strFromU8(files['objects.json']!)) as { key: string; region: string }[];
    const inBucket = (await mediaKeys(`t/${leaving.tenantId}/`)).filter((k) => k !== exportKey);
    assert.deepEqual(listed.map((o) => MEDIA + o.key).sort(), inBucket);

    const tenantObjects = (await mediaKeys(`t/${leaving.tenantId}/`)).length;
    const backupObjects = (await backupKeysIn()).length;
    const [signed] = await haven.modules.privacy.offboarding.destroyDue(new Date(Date.now() + 2 * DAY));
    assert.ok(signed, 'the offboarding was due');
    const c = signed.certificate;
    assert.equal(c.tenant.id, leaving.tenantId);
    assert.ok(c.keys.destroyed >= 1 && c.keys.destroyedAt);
    assert.deepEqual(c.objects, [{ region: 'eu', jurisdiction: 'EU', driver: 's3', destroyed: tenantObjects, remaining: 0 }]);
    assert.equal(c.backups[0]!.copiesBefore, backupObjects, 'the certificate counts the copies in the S3 backup location');
    assert.deepEqual(c.rows.remaining, {});
    assert.ok(verifyCertificate(haven.platform.signingKey, signed));
    assert.deepEqual(await mediaKeys(`t/${leaving.tenantId}/`), [], 'nothing of the tenant is left in the bucket');
    const keysLeft = await query<{ wrapped_key: unknown }>(haven.database.url, 'select wrapped_key from tenant_keys where tenant_id = $1', [leaving.tenantId]);
    assert.ok(keysLeft.length > 0 && keysLeft.every((k) => k.wrapped_key === null));
    await assert.rejects(haven.platform.storage.forRegion('eu').put(`t/${leaving.tenantId}/late.bin`, Buffer.from('late')), /no tenant .* exists/);
  });

  test('expired backups are pruned from the S3 backup location, every part of them', async () => {
    const { backups } = await haven.modules.privacy.backup.list();
    assert.equal(backups.length, 2);
    const pruned = await haven.modules.privacy.backup.engine().prune(new Date(Date.now() + 32 * DAY));
    assert.deepEqual(pruned.removed.map((r) => r.id).sort(), backups.map((b) => b.id).sort());
    assert.deepEqual(await backupKeysIn('backups/'), [], 'no backup part is left in the bucket');
    assert.deepEqual((await haven.modules.privacy.backup.list()).backups, []);
  });
});
