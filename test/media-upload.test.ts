// Resumable uploads through the real tus client and raw tus requests: who may
// upload, the video the upload creates, quotas, resuming after a dropped
// connection and after a restart of Haven, a client lying about its length,
// two PATCHes racing, cancelling, and the sweep of abandoned uploads.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { addMember } from '../src/modules/identity/users.ts';
import { setTenantLimits } from '../src/modules/media/quotas.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { type Owner, PASSWORD, signedInOwner, stagingFiles, tusUpload, videoOf, waitForStatus } from './fixtures/media-harness.ts';
import { createUpload, expectEnvelope, slowPatch, tus } from './fixtures/media-http.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let clip: Buffer;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'haven-upload-'));
  clip = readFileSync(makeClip(dir, 'talk', { width: 320, height: 240, seconds: 5 }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function auditActions(haven: TestHaven, owner: Owner, videoId: string): Promise<string[]> {
  const rows = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('audit_events').select('action').where('target_id', '=', videoId).orderBy('id').execute());
  return rows.map((r) => r.action);
}

describe('tus uploads', () => {
  let haven: TestHaven;
  let owner: Owner;
  before(async () => {
    haven = await startTestHaven();
    owner = await signedInOwner(haven);
  });
  after(() => haven.stop());

  test('only members with videos:write may upload, and every refusal is an error envelope', async () => {
    const anonymous = await fetch(`${haven.url}/api/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } });
    expectError({ status: anonymous.status, body: await anonymous.json(), headers: anonymous.headers }, 401, 'unauthenticated');

    const noCsrf = await fetch(`${haven.url}/api/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10', cookie: owner.api.cookie! } });
    expectError({ status: noCsrf.status, body: await noCsrf.json(), headers: noCsrf.headers }, 403, 'csrf_failed');

    const readOnly = new ApiClient(haven.url);
    readOnly.token = (await owner.api.post('/api/v1/account/tokens', { name: 'reader', scopes: ['videos:read'] })).body.token;
    const refused = await createUpload(readOnly, 10);
    expectEnvelope(refused.res, 403, 'forbidden');

    const writer = new ApiClient(haven.url);
    writer.token = (await owner.api.post('/api/v1/account/tokens', { name: 'uploader', scopes: ['videos:write', 'videos:read'] })).body.token;
    const created = await createUpload(writer, 10);
    assert.equal(created.res.status, 201, JSON.stringify(created.res.body));

    const noVersion = await owner.api.call('POST', '/api/v1/uploads', undefined, { 'upload-length': '10' });
    expectError(noVersion, 412, 'tus_version_required');

    // Another member of the same organization cannot touch this person's upload.
    await haven.platform.db.withTenant(owner.tenantId, (tx) => addMember(tx, owner.tenantId, { email: 'editor@media.test', password: PASSWORD, role: 'editor', emailVerified: true }));
    const editor = new ApiClient(haven.url);
    await editor.signIn('editor@media.test', PASSWORD);
    const mine = await createUpload(owner.api, 10);
    assert.equal((await tus(editor, 'HEAD', mine.path)).status, 404);
    expectEnvelope(await tus(editor, 'PATCH', mine.path, { 'upload-offset': '0' }, Buffer.alloc(10)), 404, 'upload_not_found');
    assert.equal((await tus(writer, 'HEAD', mine.path)).status, 200, 'the same person with a token may resume it');
    expectEnvelope(await tus(owner.api, 'PATCH', '/api/v1/uploads/not-an-upload-id', { 'upload-offset': '0' }, Buffer.alloc(1)), 404, 'upload_not_found');
  });

  test('creating an upload creates the video in the tenant\'s region, with its audit event, in a private staging dir', async () => {
    const { res, path, videoId } = await createUpload(owner.api, clip.length, { filename: 'Quarterly review.mov' });
    assert.equal(res.status, 201);
    assert.match(path, /^\/api\/v1\/uploads\/[a-f0-9]{32}$/);
    const video = await videoOf(owner.api, videoId);
    assert.equal(video.status, 'uploading');
    assert.equal(video.title, 'Quarterly review');
    assert.equal(video.playable, false);
    assert.deepEqual(await auditActions(haven, owner, videoId), ['video.upload.create']);
    const upload = await owner.api.get(path);
    assert.deepEqual({ ...upload.body, expiresAt: undefined }, { id: path.split('/').pop(), videoId, sizeBytes: clip.length, receivedBytes: 0, complete: false, expiresAt: undefined });
    for (const d of ['', '/uploads']) assert.equal(statSync(join(haven.dataDir, 'staging', owner.region) + d).mode & 0o777, 0o700);
    const titled = await createUpload(owner.api, 10, { filename: 'x.mp4', title: 'Launch keynote' });
    assert.equal((await videoOf(owner.api, titled.videoId)).title, 'Launch keynote');
  });

  test('lengths: deferred lengths are refused, files above the tenant\'s limit and beyond its storage quota too', async () => {
    const deferred = await tus(owner.api, 'POST', '/api/v1/uploads', { 'upload-defer-length': '1' });
    expectEnvelope(deferred, 400, 'upload_length_required');
    await haven.platform.db.withTenant(owner.tenantId, (tx) => setTenantLimits(tx, owner.tenantId, { maxFileBytes: 1000, storageBytes: 5000 }));
    try {
      expectEnvelope((await createUpload(owner.api, 1001)).res, 413, 'file_too_large');
      const used = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('uploads').select(sql<number>`sum(size_bytes)`.as('n')).where('completed_at', 'is', null).executeTakeFirstOrThrow());
      await haven.platform.db.withTenant(owner.tenantId, (tx) => setTenantLimits(tx, owner.tenantId, { storageBytes: Number(used.n) + 1500 }));
      assert.equal((await createUpload(owner.api, 1000)).res.status, 201);
      const over = await createUpload(owner.api, 1000);
      expectEnvelope(over.res, 413, 'storage_quota_exceeded');
      assert.equal(over.videoId, '', 'no video was created');
    } finally {
      await haven.platform.db.withTenant(owner.tenantId, (tx) => setTenantLimits(tx, owner.tenantId, { maxFileBytes: null, storageBytes: null }));
    }
  });

  test('an upload cut off mid-request resumes from the last byte received, and the stored source is the file', async () => {
    const { path, videoId } = await createUpload(owner.api, clip.length, { filename: 'resumed.mov' });
    const half = Math.floor(clip.length / 2);
    const patch = slowPatch(owner.api, path, 0);
    await patch.write(clip.subarray(0, half));
    const staged = join(haven.dataDir, 'staging', owner.region, 'uploads', path.split('/').pop()!);
    for (let i = 0; i < 100 && statSync(staged).size < half; i++) await sleep(20);
    patch.cut();
    assert.equal(await patch.done, undefined, 'the connection was dropped');

    let offset = 0;
    for (let i = 0; i < 50; i++) {
      const head = await tus(owner.api, 'HEAD', path);
      offset = Number(head.headers['upload-offset']);
      if (head.status === 200 && offset === half) break;
      await sleep(100);
    }
    assert.equal(offset, half, 'every byte sent before the cut was kept');

    const offsets: string[] = [];
    await tusUpload(haven.url, owner.api, clip, {
      uploadUrl: `${haven.url}${path}`,
      onBeforeRequest: (req) => { if (req.getMethod() === 'PATCH') offsets.push(req.getHeader('Upload-Offset')!); },
    });
    assert.deepEqual(offsets, [String(half)], 'the client sent only the rest');
    const ready = await waitForStatus(owner.api, videoId, 'ready');
    const stored = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select(['source_sha256', 'source_size_bytes']).where('id', '=', videoId).executeTakeFirstOrThrow());
    assert.equal(stored.source_sha256, sha256(clip));
    assert.equal(stored.source_size_bytes, clip.length);
    assert.equal(ready.playable, true);
    assert.deepEqual((await auditActions(haven, owner, videoId)).slice(0, 2), ['video.upload.create', 'video.upload.complete']);
  });

  test('a client lying about its length cannot write past it; the upload stays open and is swept when abandoned', async () => {
    const { path, videoId } = await createUpload(owner.api, 1000, { filename: 'liar.mov' });
    expectEnvelope(await tus(owner.api, 'PATCH', path, { 'upload-offset': '0' }, Buffer.alloc(2000, 7)), 413, 'upload_length_exceeded');
    assert.equal((await tus(owner.api, 'HEAD', path)).headers['upload-offset'], '0');

    // Without Content-Length the excess is only seen as it streams in: the server stops at the declared length.
    const chunked = slowPatch(owner.api, path, 0);
    await chunked.write(Buffer.alloc(600, 1));
    await chunked.write(Buffer.alloc(600, 2));
    chunked.end();
    const res = await chunked.done;
    if (res) expectEnvelope(res, 413, 'upload_length_exceeded');
    const offset = Number((await tus(owner.api, 'HEAD', path)).headers['upload-offset']);
    assert.ok(offset <= 1000, `offset ${offset} stays within the declared length`);
    assert.equal((await videoOf(owner.api, videoId)).status, 'uploading');

    await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.updateTable('uploads').set({ expires_at: sql`now() - interval '1 minute'` }).where('video_id', '=', videoId).execute());
    const swept = await haven.modules.media.uploads.expire(owner.region);
    assert.ok(swept.expired >= 1);
    expectError(await owner.api.get(`/api/v1/videos/${videoId}`), 404, 'video_not_found');
    assert.ok(!stagingFiles(haven.dataDir, owner.region).some((f) => f.includes(path.split('/').pop()!)), 'its staged bytes are gone');
    const audit = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('audit_events').select('action').where('target_id', '=', videoId).execute());
    assert.ok(audit.some((a) => a.action === 'video.upload.expire'));
  });

  test('two PATCHes at once: the second is refused with 409 while the first writes, and a stale offset is a 409 too', async () => {
    const body = Buffer.alloc(64 * 1024, 3);
    const { path } = await createUpload(owner.api, body.length, { filename: 'race.mov' });
    const first = slowPatch(owner.api, path, 0, { contentLength: body.length });
    await first.write(body.subarray(0, 1024));
    await sleep(200);
    const second = await tus(owner.api, 'PATCH', path, { 'upload-offset': '0' }, body);
    expectEnvelope(second, 409, 'upload_locked');
    await first.write(body.subarray(1024));
    first.end();
    assert.equal((await first.done)?.status, 204);
    const again = await tus(owner.api, 'PATCH', path, { 'upload-offset': '0' }, body);
    assert.equal(again.status, 409);
  });

  test('cancelling removes the upload, its staged bytes and its video; a finished upload cannot be cancelled', async () => {
    const { path, videoId } = await createUpload(owner.api, 100, { filename: 'oops.mov' });
    await tus(owner.api, 'PATCH', path, { 'upload-offset': '0' }, Buffer.alloc(40));
    const res = await tus(owner.api, 'DELETE', path);
    assert.equal(res.status, 204);
    expectError(await owner.api.get(`/api/v1/videos/${videoId}`), 404, 'video_not_found');
    assert.ok(!stagingFiles(haven.dataDir, owner.region).some((f) => f.includes(path.split('/').pop()!)));
    expectError(await owner.api.get(path), 404, 'upload_not_found');

    const done = await createUpload(owner.api, 10, { filename: 'tiny.mov' });
    assert.equal((await tus(owner.api, 'PATCH', done.path, { 'upload-offset': '0' }, Buffer.alloc(10))).status, 204);
    expectEnvelope(await tus(owner.api, 'DELETE', done.path), 400, 'upload_complete');
  });
});

describe('resuming across a restart of Haven', () => {
  test('an upload started before the restart completes after it, byte-exact', async () => {
    const first = await startTestHaven();
    const owner = await signedInOwner(first);
    let second: TestHaven | undefined;
    try {
      const { path, videoId } = await createUpload(owner.api, clip.length, { filename: 'restart.mov' });
      const part = Math.floor(clip.length / 3);
      assert.equal((await tus(owner.api, 'PATCH', path, { 'upload-offset': '0' }, clip.subarray(0, part))).status, 204);
      await first.close();

      second = await startTestHaven({ database: first.database, config: { dataDir: first.dataDir } });
      const api = new ApiClient(second.url);
      await api.signIn('owner@media.test', PASSWORD);
      const head = await tus(api, 'HEAD', path);
      assert.equal(head.headers['upload-offset'], String(part), 'the new process knows the offset from disk and database');
      await tusUpload(second.url, api, clip, { uploadUrl: `${second.url}${path}` });
      await waitForStatus(api, videoId, 'ready');
      const stored = await second.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select('source_sha256').where('id', '=', videoId).executeTakeFirstOrThrow());
      assert.equal(stored.source_sha256, sha256(clip));
      assert.deepEqual(stagingFiles(first.dataDir, owner.region), []);
    } finally {
      await second?.stop(); // its own (unused) temp dir goes; the shared database stays for the cleanup below
      await first.close().catch(() => undefined);
      await first.database.drop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
