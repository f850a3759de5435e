// Upload → ready through the whole pipeline on real ffmpeg: the ladder, the
// lowest rendition playable first, every rendition decodable after
// decrypting it with the key from the database, nothing identifying in any
// output, progress over server-sent events; and every kind of bad input
// ending in a failed video with its reason and nothing left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTenantLimits } from '../src/modules/media/quotas.ts';
import { imageKey, masterPlaylistKey, originalKey } from '../src/modules/media/objects.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import {
  makeAudioOnly, makeClip, makeHugeDeclaredVideo, makeOnePixelVideo, makeTextFile, makeThousandFps, makeTruncatedMp4,
} from './fixtures/media-clips.ts';
import {
  authHeaders, decryptedObject, decryptedRendition, objectsOfVideo, type Owner, readAll, signedInOwner, stagingFiles, storeOf, tusUpload, videoOf, waitForStatus,
} from './fixtures/media-harness.ts';

const IDENTIFYING = { location: '+59.3293+018.0686/', make: 'HavenTestCam', model: 'Model-X9', 'com.apple.quicktime.model': 'Model-X9' };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let haven: TestHaven;
let owner: Owner;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'haven-pipeline-'));
  haven = await startTestHaven();
  owner = await signedInOwner(haven);
});
after(async () => {
  await haven.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function auditOf(videoId: string): Promise<{ action: string; outcome: string; details: unknown }[]> {
  return haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('audit_events').select(['action', 'outcome', 'details']).where('target_id', '=', videoId).orderBy('id').execute());
}

/** Reads the event stream until the server ends it. */
async function collectEvents(videoId: string): Promise<{ event: string; data: any }[]> {
  const res = await fetch(`${haven.url}/api/v1/videos/${videoId}/events`, { headers: authHeaders(owner.api) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
  const text = await res.text();
  return text.split('\n\n').filter((b) => b.startsWith('event:')).map((block) => {
    const [event, data] = block.split('\n');
    return { event: event!.slice(7), data: JSON.parse(data!.slice(6)) };
  });
}

function decodes(file: string): { ok: boolean; stderr: string } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return { ok: r.status === 0 && r.stderr.trim() === '', stderr: r.stderr };
}

function probeJson(file: string): any {
  return JSON.parse(spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' }).stdout);
}

describe('upload → ready', () => {
  test('a 720p clip becomes a decodable, encrypted ladder, playable first at its lowest rendition, with no identifying metadata', async () => {
    const source = readFileSync(makeClip(dir, 'interview', { width: 1280, height: 720, seconds: 3, metadata: IDENTIFYING }));
    const { videoId } = await tusUpload(haven.url, owner.api, source, { title: 'Interview' });
    const events = collectEvents(videoId);
    // Watch the API while it processes: playback must become possible before the whole ladder is done.
    let sawEarlyPlay = false;
    const watching = (async () => {
      for (let i = 0; i < 1200; i++) {
        const v = await videoOf(owner.api, videoId);
        if (v.status === 'processing' && v.playable) sawEarlyPlay = true;
        if (v.status === 'ready' || v.status === 'failed') return;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const video = await waitForStatus(owner.api, videoId, 'ready');
    await watching;
    assert.ok(sawEarlyPlay, 'the API said playable while the video was still processing');
    assert.deepEqual(video.progress, { percent: 100, step: null });
    assert.equal(video.playable, true);
    assert.deepEqual(video.renditions.map((r: any) => `${r.name}:${r.width}x${r.height}:${r.status}`), ['240p:426x240:ready', '360p:640x360:ready', '480p:854x480:ready', '720p:1280x720:ready', 'audio:nullxnull:ready']);
    const readyAt = (name: string) => Date.parse(video.renditions.find((r: any) => r.name === name).readyAt);
    for (const later of ['360p', '480p', '720p', 'audio']) assert.ok(readyAt('240p') < readyAt(later), `240p was published before ${later}`);

    // The technical record names the identifying keys it found; no value is anywhere in the API.
    for (const key of ['location', 'make', 'model']) assert.ok(video.technical.identifyingMetadataKeys.includes(key), `${key} listed`);
    const apiText = JSON.stringify(video);
    for (const value of Object.values(IDENTIFYING)) assert.ok(!apiText.includes(value));

    // Progress arrived as events and the stream ended with the video.
    const received = await events;
    assert.deepEqual(received.at(-1), { event: 'end', data: { status: 'ready' } });
    assert.ok(received.some((e) => e.event === 'progress' && e.data.status === 'processing' && e.data.progress.percent > 0 && e.data.progress.percent < 100 && e.data.progress.step));
    assert.equal(received.filter((e) => e.event === 'progress').at(-1)!.data.status, 'ready');

    const store = storeOf(haven, owner.region);
    const master = (await readAll(await store.get(masterPlaylistKey(owner.tenantId, videoId)))).toString('utf8');
    assert.equal(master.match(/#EXT-X-STREAM-INF/g)!.length, 5);
    assert.match(master, /BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",RESOLUTION=426x240,FRAME-RATE=25\.000\n240p\/index\.m3u8/);

    for (const r of video.renditions) {
      const { bytes, segments } = await decryptedRendition(haven, owner, videoId, r.name);
      const file = join(dir, `${videoId}-${r.name}.mp4`);
      writeFileSync(file, bytes);
      const verdict = decodes(file);
      assert.ok(verdict.ok, `${r.name} decodes: ${verdict.stderr}`);
      const probed = probeJson(file);
      assert.ok(Math.abs(Number(probed.format.duration) - 3) < 0.2, `${r.name} lasts 3 s, not ${probed.format.duration}`);
      assert.equal(segments, 2);
      if (r.kind === 'video') assert.deepEqual([probed.streams[0].width, probed.streams[0].height], [r.width, r.height]);
      const tags = JSON.stringify([probed.format.tags, ...probed.streams.map((s: any) => s.tags)]);
      assert.doesNotMatch(tags, /location|make|model|com\.apple/i, `${r.name} tags: ${tags}`);
      for (const value of Object.values(IDENTIFYING)) assert.ok(!bytes.toString('latin1').includes(value), `${r.name} carries ${value}`);
    }

    // The original is stored encrypted and decrypts to exactly the upload.
    const original = await decryptedObject(haven, owner, videoId, originalKey(owner.tenantId, videoId));
    assert.equal(sha256(original), sha256(source));
    assert.ok(!(await readAll(await store.get(originalKey(owner.tenantId, videoId)))).includes(source.subarray(0, 64)));

    const poster = await decryptedObject(haven, owner, videoId, imageKey(owner.tenantId, videoId, 'poster.jpg.hvn'));
    assert.deepEqual([...poster.subarray(0, 2)], [0xff, 0xd8], 'the poster is a JPEG');
    writeFileSync(join(dir, 'poster.jpg'), poster);
    assert.deepEqual([probeJson(join(dir, 'poster.jpg')).streams[0].width, probeJson(join(dir, 'poster.jpg')).streams[0].height], [1280, 720]);
    const vtt = (await readAll(await store.get(imageKey(owner.tenantId, videoId, 'storyboard.vtt')))).toString('utf8');
    assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.000\nstoryboard\.jpg#xywh=0,0,160,90\n/);
    assert.ok(!poster.toString('latin1').includes('HavenTestCam'));

    assert.deepEqual(stagingFiles(haven.dataDir, owner.region), [], 'no plaintext is left in staging');
    assert.deepEqual((await auditOf(videoId)).map((a) => a.action), ['video.upload.create', 'video.upload.complete', 'video.ready']);
    const hooks = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('webhook_events').select('type').where('body', 'like', `%${videoId}%`).execute());
    assert.deepEqual(hooks.map((h) => h.type), ['video.ready']);

    // A stream opened after the fact says where things stand and ends.
    assert.deepEqual((await collectEvents(videoId)).map((e) => e.event), ['progress', 'end']);
  });

  test('sound alone becomes an audio-only rendition and is ready without images', async () => {
    const { videoId } = await tusUpload(haven.url, owner.api, readFileSync(makeAudioOnly(dir)), { filename: 'podcast.m4a' });
    const video = await waitForStatus(owner.api, videoId, 'ready');
    assert.equal(video.technical.kind, 'audio');
    assert.deepEqual(video.renditions.map((r: any) => [r.name, r.codecs, r.status]), [['audio', 'mp4a.40.2', 'ready']]);
    assert.equal(video.playable, true);
    const { bytes } = await decryptedRendition(haven, owner, videoId, 'audio');
    writeFileSync(join(dir, 'audio.mp4'), bytes);
    assert.ok(decodes(join(dir, 'audio.mp4')).ok);
    assert.ok(!(await objectsOfVideo(haven, owner, videoId)).some((k) => k.includes('/images/')));
  });
});

describe('bad input fails with its reason and leaves nothing behind', () => {
  const cases: [string, () => Buffer, string][] = [
    ['a text file renamed .mp4', () => readFileSync(makeTextFile(dir)), 'not_media'],
    ['an MP4 cut before its index', () => readFileSync(makeTruncatedMp4(dir)), 'truncated'],
    ['zero bytes', () => Buffer.alloc(0), 'not_media'],
    ['a 1×1 picture', () => readFileSync(makeOnePixelVideo(dir)), 'resolution_too_small'],
    ['a declared 16384×16384 picture', () => readFileSync(makeHugeDeclaredVideo(dir)), 'resolution_too_large'],
    ['1000 frames per second', () => readFileSync(makeThousandFps(dir)), 'frame_rate_invalid'],
  ];
  for (const [name, body, code] of cases) {
    test(name, async () => {
      const { videoId } = await tusUpload(haven.url, owner.api, body(), { filename: 'upload.mp4' });
      const video = await waitForStatus(owner.api, videoId, 'failed');
      assert.equal(video.error.code, code);
      assert.ok(video.error.message.length > 20, video.error.message);
      await assertNothingLeft(videoId, code);
    });
  }

  test('a recording longer than the organization allows', async () => {
    await haven.platform.db.withTenant(owner.tenantId, (tx) => setTenantLimits(tx, owner.tenantId, { maxDurationSeconds: 2 }));
    try {
      const { videoId } = await tusUpload(haven.url, owner.api, readFileSync(makeClip(dir, 'long', { seconds: 4 })));
      const video = await waitForStatus(owner.api, videoId, 'failed');
      assert.equal(video.error.code, 'duration_too_long');
      assert.match(video.error.message, /4 s long; this organization accepts up to 2 s/);
      await assertNothingLeft(videoId, 'duration_too_long');
    } finally {
      await haven.platform.db.withTenant(owner.tenantId, (tx) => setTenantLimits(tx, owner.tenantId, { maxDurationSeconds: null }));
    }
  });

  async function assertNothingLeft(videoId: string, code: string): Promise<void> {
    assert.deepEqual(await objectsOfVideo(haven, owner, videoId), [], 'no objects under the video\'s prefix');
    // The failure is recorded first, then the staged bytes go: give the clean-up its moment.
    for (let i = 0; i < 50 && stagingFiles(haven.dataDir, owner.region).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(stagingFiles(haven.dataDir, owner.region), [], 'staging is empty');
    const audit = await auditOf(videoId);
    const failed = audit.find((a) => a.action === 'video.failed');
    assert.ok(failed, 'video.failed is audited');
    assert.equal(failed.outcome, 'failed');
    assert.match(JSON.stringify(failed.details), new RegExp(code));
    const row = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select(['data_key_wrapped', 'original_key', 'stored_bytes']).where('id', '=', videoId).executeTakeFirstOrThrow());
    assert.equal(row.original_key, null, 'nothing was stored for a file refused by validation');
    assert.equal(row.stored_bytes, 0);
  }
});
