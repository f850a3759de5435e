// Replacing a ready video's source through tus (Upload-Metadata `replaces`):
// refusals leave the video as it was, one replacement at a time, other
// tenants' ids are unknown, and an accepted file becomes a new version with
// history, a decodable ladder and no objects of the old one left.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { makeClip, makeTextFile } from './fixtures/media-clips.ts';
import { authHeaders, decryptedRendition, objectsOfVideo, type Owner, signedInOwner, tusUpload, videoOf, waitForStatus } from './fixtures/media-harness.ts';

let dir: string;
let haven: TestHaven;
let owner: Owner;
let videoId: string;
/** The shortest grace the setting allows, so the retirement is seen without waiting out the default 30 s. */
const GRACE_SECONDS = 10;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'haven-replace-'));
  haven = await startTestHaven({ config: { mediaReplacedLadderGraceSeconds: GRACE_SECONDS } });
  owner = await signedInOwner(haven);
  const first = readFileSync(makeClip(dir, 'first', { width: 640, height: 360, seconds: 2 }));
  ({ videoId } = await tusUpload(haven.url, owner.api, first, { title: 'Quarterly update' }));
  await waitForStatus(owner.api, videoId, 'ready');
});
after(async () => {
  await haven.stop();
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A tus creation request without any bytes (the upload stays open). */
async function openUpload(who: Owner, replaces: string, length = 1000): Promise<Response> {
  return fetch(`${haven.url}/api/v1/uploads`, {
    method: 'POST',
    headers: { ...authHeaders(who.api), 'tus-resumable': '1.0.0', 'upload-length': String(length), 'upload-metadata': `filename ${b64('new.mov')},replaces ${b64(replaces)}` },
  });
}

async function auditOf(id: string): Promise<{ action: string; outcome: string; details: any }[]> {
  return haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('audit_events').select(['action', 'outcome', 'details']).where('target_id', '=', id).orderBy('id').execute()) as any;
}

function probeDuration(bytes: Buffer): number {
  const file = join(dir, `probe-${Date.now()}.mp4`);
  writeFileSync(file, bytes);
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

async function versions(): Promise<{ current: number; items: any[] }> {
  const res = await owner.api.get(`/api/v1/videos/${videoId}/versions`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as any;
}

/** Waits until ingest has dealt with the replacement (audit video.source.replace, either outcome). */
async function replacementSettled(count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await auditOf(videoId)).filter((e) => e.action === 'video.source.replace').length < count) {
    if (Date.now() > deadline) assert.fail('the replacement was never decided');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('replacing a video\'s source', () => {
  test('another tenant\'s video is unknown (404); a malformed id is refused (400)', async () => {
    const other = await signedInOwner(haven, 'Other Org', 'other@media.test');
    const res = await openUpload(other, videoId);
    assert.equal(res.status, 404, await res.text());
    const bad = await openUpload(owner, 'not-a-video-id');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.code, 'upload_metadata_invalid');
  });

  test('a second replacement while one is under way → 409; cancelling the first frees the video', async () => {
    const first = await openUpload(owner, videoId);
    assert.equal(first.status, 201, await first.text());
    assert.equal(first.headers.get('haven-video-id'), videoId);
    const second = await openUpload(owner, videoId);
    assert.equal(second.status, 409);
    assert.equal(((await second.json()) as any).error.code, 'replacement_in_progress');
    assert.equal((await videoOf(owner.api, videoId)).status, 'ready', 'the video stays ready while its new source arrives');

    const cancel = await fetch(new URL(first.headers.get('location')!, `${haven.url}/api/v1/uploads/`), { method: 'DELETE', headers: { ...authHeaders(owner.api), 'tus-resumable': '1.0.0' } });
    assert.equal(cancel.status, 204, await cancel.text());
    assert.equal((await videoOf(owner.api, videoId)).status, 'ready', 'cancelling the replacement keeps the video');
    assert.ok((await auditOf(videoId)).some((e) => e.action === 'video.source.upload.cancel'));
  });

  test('a text file is refused: the video keeps its version and still plays', async () => {
    const before = await versions();
    await tusUpload(haven.url, owner.api, readFileSync(makeTextFile(dir)), { metadata: { filename: 'notes.mp4', replaces: videoId } });
    await replacementSettled(1);
    const refused = (await auditOf(videoId)).find((e) => e.action === 'video.source.replace')!;
    assert.equal(refused.outcome, 'failed');
    assert.equal(refused.details.code, 'not_media');
    const video = await videoOf(owner.api, videoId);
    assert.equal(video.status, 'ready');
    assert.deepEqual(await versions(), before, 'no version was recorded');
    const rendition = await decryptedRendition(haven, owner, videoId, '360p');
    assert.ok(Math.abs(probeDuration(rendition.bytes) - 2) < 0.5, 'the old version still decodes');
  });

  test('a different clip becomes version 2: history keeps version 1, the new ladder decodes, the old objects are gone', async () => {
    const old = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select(['source_sha256', 'source_size_bytes', 'duration_ms']).where('id', '=', videoId).executeTakeFirstOrThrow());
    const oldObjects = await objectsOfVideo(haven, owner, videoId);
    assert.ok(oldObjects.some((k) => k.includes('/hls/360p/')));
    const second = readFileSync(makeClip(dir, 'second', { width: 320, height: 240, seconds: 4 }));
    await tusUpload(haven.url, owner.api, second, { metadata: { filename: 'second.mov', replaces: videoId } });
    await replacementSettled(2);
    const video = await waitForStatus(owner.api, videoId, 'ready');

    const history = await versions();
    assert.equal(history.current, 2);
    assert.equal(history.items.length, 1);
    assert.equal(history.items[0].version, 1);
    assert.equal(history.items[0].reason, 'replaced');
    assert.equal(history.items[0].durationMs, Number(old.duration_ms));
    assert.equal(history.items[0].sourceSha256, old.source_sha256);
    assert.equal(history.items[0].width, 640);
    assert.equal(Number(history.items[0].sourceSizeBytes), Number(old.source_size_bytes));

    assert.deepEqual(video.renditions.map((r: any) => r.name).filter((n: string) => n !== 'audio'), ['240p']);
    // The new ladder is generation 1 (media-generations.test.ts plays through the switch).
    const rendition = await decryptedRendition(haven, owner, videoId, 'g1-240p');
    assert.ok(Math.abs(probeDuration(rendition.bytes) - 4) < 0.5, 'the new rendition decodes at the new length');

    const objects = await objectsOfVideo(haven, owner, videoId);
    const deadline = Date.now() + (GRACE_SECONDS + 60) * 1000;
    let now = objects;
    while (now.some((k) => /\/hls\/(240p|360p|audio)\//.test(k)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      now = await objectsOfVideo(haven, owner, videoId);
    }
    assert.ok(!now.some((k) => /\/hls\/(240p|360p|audio)\//.test(k)), 'the old ladder is gone after its grace period');
    assert.ok(now.some((k) => k.includes('/hls/g1-240p/')), 'the new ladder stays');
    const events = (await auditOf(videoId)).map((e) => `${e.action}:${e.outcome}`);
    for (const e of ['video.version.create:success', 'video.source.replace:success']) assert.ok(events.includes(e), `${e} in ${events}`);
    assert.equal(events.filter((e) => e.startsWith('video.ready')).length, 2, 'video.ready again for the new version');
  });
});
