// Crashes: a worker killed with SIGKILL in the middle of a transcode (its
// ffmpeg dies with it, another worker finishes the video, no orphan object
// remains), a server killed in the middle of an upload (the client resumes
// after the restart, byte-exact), and the staging sweep that removes what
// crashes leave behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { masterPlaylistKey, originalKey, renditionPrefix, videoPrefix } from '../src/modules/media/objects.ts';
import { ApiClient } from './helpers/client.ts';
import { createTestDatabase } from './helpers/db.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { freePort, type HavenProcess, runHaven, spawnHaven, waitFor, waitReady } from './helpers/process.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { keysUnder, objectsOfVideo, type Owner, PASSWORD, readAll, signedInOwner, stagingFiles, storeOf, tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { createUpload, slowPatch, tus } from './fixtures/media-http.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'haven-crash-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const running = new Set<HavenProcess>();
after(async () => {
  for (const p of running) p.child.kill('SIGKILL');
  await Promise.all([...running].map((p) => p.exited));
});

function track(p: HavenProcess): HavenProcess {
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

/** ffmpeg processes whose parent is pid. */
function ffmpegChildren(pid: number): number[] {
  return spawnSync('pgrep', ['-P', String(pid), 'ffmpeg'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** Every object the ready video's playlists and records reference: nothing more may exist. */
async function referencedObjects(haven: TestHaven, owner: Owner, videoId: string): Promise<string[]> {
  const store = storeOf(haven, owner.region);
  const master = (await readAll(await store.get(masterPlaylistKey(owner.tenantId, videoId)))).toString('utf8');
  const keys = [masterPlaylistKey(owner.tenantId, videoId), originalKey(owner.tenantId, videoId)];
  for (const uri of master.split('\n').filter((l) => l.endsWith('/index.m3u8'))) {
    const name = uri.split('/')[0]!;
    const prefix = renditionPrefix(owner.tenantId, videoId, name);
    const playlist = (await readAll(await store.get(`${prefix}index.m3u8`))).toString('utf8');
    keys.push(`${prefix}index.m3u8`, `${prefix}init.mp4`, ...playlist.split('\n').filter((l) => l.endsWith('.m4s')).map((s) => `${prefix}${s}`));
  }
  const { assets } = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select('assets').where('id', '=', videoId).executeTakeFirstOrThrow());
  keys.push(assets.poster.key, ...assets.thumbnails.map((t: any) => t.key), assets.storyboard.sprite.key, assets.storyboard.vtt);
  return keys.sort();
}

async function videoOf(api: ApiClient, id: string) {
  return (await api.get(`/api/v1/videos/${id}`)).body;
}

describe('a worker killed mid-transcode', () => {
  test('its ffmpeg dies with it, the job runs again on another worker, and no orphan object remains', { timeout: 300_000 }, async () => {
    // This node's supervision notices the killed worker's missing heartbeats: every 2 s here, not every 30 s.
    const haven = await startTestHaven({ haven: { workers: false, superviseIntervalSeconds: 2 } });
    try {
      const owner = await signedInOwner(haven);
      const env = { DATABASE_URL: haven.database.url, HAVEN_DATA_DIR: haven.dataDir, HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'warn' };
      const first = track(spawnHaven(['worker'], env));
      const source = readFileSync(makeClip(dir, 'long', { width: 1280, height: 720, seconds: 8 }));
      const { videoId } = await tusUpload(haven.url, owner.api, source, { title: 'Crash me' });

      // Wait until the worker's ffmpeg is encoding the ladder above the first rendition.
      const encoders = await waitFor(async () => {
        const step = (await owner.api.get(`/api/v1/videos/${videoId}`)).body.progress.step as string | null;
        const children = ffmpegChildren(first.child.pid!);
        return step?.includes('720p') && children.length ? children : undefined;
      }, 120_000, 'the transcode of the upper renditions to be running');
      first.child.kill('SIGKILL');
      await first.exited;
      await waitFor(async () => (encoders.some(alive) ? undefined : true), 5000, 'its ffmpeg processes to die with it');

      // As if the killed attempt had been storing segments when it died.
      const store = storeOf(haven, owner.region);
      const orphan = `${renditionPrefix(owner.tenantId, videoId, '720p')}seg-00042.m4s`;
      await store.put(orphan, randomBytes(1000));
      assert.equal((await videoOf(owner.api, videoId)).status, 'processing');

      const second = track(spawnHaven(['worker'], env));
      const video = await waitForStatus(owner.api, videoId, 'ready', 180_000);
      assert.deepEqual(video.renditions.map((r: any) => r.status), ['ready', 'ready', 'ready', 'ready', 'ready']);
      assert.deepEqual(await objectsOfVideo(haven, owner, videoId), await referencedObjects(haven, owner, videoId));
      assert.deepEqual(stagingFiles(haven.dataDir, owner.region), []);
      const { rows } = await haven.platform.db.ownerPool.query(`select max(retry_count)::int as retries from pgboss.job where name like 'media.transcode.%' and data->>'videoId' = $1`, [videoId]);
      assert.ok(rows[0].retries >= 1, 'the killed job was retried');
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
    } finally {
      await haven.stop();
    }
  });
});

describe('a server killed mid-upload', () => {
  test('the upload resumes after the restart from the bytes on disk, at once, and the video is ready', { timeout: 300_000 }, async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-crash-serve-'));
    const port = freePort();
    const env = { DATABASE_URL: database.url, HAVEN_DATA_DIR: dataDir, HAVEN_PORT: String(port), HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'warn' };
    const base = `http://127.0.0.1:${port}`;
    try {
      const setup = runHaven(['setup', '--tenant', 'Crash Org', '--admin-email', 'owner@crash.test', '--admin-password', PASSWORD], env);
      assert.equal(setup.status, 0, setup.stderr);
      let server = track(spawnHaven(['serve'], env));
      await waitReady(base, 120_000);
      const api = new ApiClient(base);
      await api.signIn('owner@crash.test', PASSWORD);

      const source = readFileSync(makeClip(dir, 'crash-upload', { width: 640, height: 360, seconds: 6 }));
      const { path, videoId } = await createUpload(api, source.length, { filename: 'crash.mov' });
      const staged = join(dataDir, 'staging', 'default', 'uploads', path.split('/').pop()!);
      const patch = slowPatch(api, path, 0, { contentLength: source.length });
      await patch.write(source.subarray(0, 300_000));
      await waitFor(async () => (statSync(staged).size >= 200_000 ? true : undefined), 10_000, 'bytes to reach the disk');
      server.child.kill('SIGKILL');
      await server.exited;
      assert.equal(await patch.done, undefined, 'the client saw its connection die');
      const onDisk = statSync(staged).size;
      assert.ok(onDisk > 0 && onDisk < source.length);

      server = track(spawnHaven(['serve'], env));
      await waitReady(base, 120_000);
      await api.signIn('owner@crash.test', PASSWORD);
      const started = Date.now();
      const head = await tus(api, 'HEAD', path);
      assert.equal(head.status, 200, JSON.stringify(head.body));
      assert.equal(Number(head.headers['upload-offset']), onDisk);
      assert.ok(Date.now() - started < 2000, 'the dead server\'s lock did not hold the upload');
      assert.equal((await videoOf(api, videoId)).status, 'uploading');

      await tusUpload(base, api, source, { uploadUrl: `${base}${path}` });
      await waitForStatus(api, videoId, 'ready');
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query('select source_sha256 from videos where id = $1', [videoId]).finally(() => client.end());
      assert.equal(rows[0].source_sha256, sha256(source), 'the stored source is the file, byte for byte');
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      assert.deepEqual(stagingFiles(dataDir, 'default'), []);
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the staging sweep', () => {
  let haven: TestHaven;
  let owner: Owner;
  before(async () => {
    haven = await startTestHaven({ haven: { workers: false } });
    owner = await signedInOwner(haven);
  });
  after(() => haven.stop());

  /** A video row in a given state, with an upload row when asked. */
  async function video(status: string, opts: { upload?: boolean; updatedHoursAgo?: number } = {}): Promise<{ id: string; uploadId?: string }> {
    const id = randomUUID();
    const uploadId = opts.upload ? randomBytes(16).toString('hex') : undefined;
    await haven.platform.db.withTenant(owner.tenantId, async (tx) => {
      await tx.insertInto('videos').values({ id, tenant_id: owner.tenantId, region: owner.region, title: `${status} video`, status, updated_at: sql`now() - make_interval(hours => ${opts.updatedHoursAgo ?? 0})` }).execute();
      if (uploadId) await tx.insertInto('uploads').values({ id: uploadId, tenant_id: owner.tenantId, video_id: id, size_bytes: 10, expires_at: sql`now() + interval '1 day'` }).execute();
    });
    return { id, uploadId };
  }

  function stage(relative: string, ageHours = 0): string {
    const file = join(haven.dataDir, 'staging', owner.region, relative);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'plaintext');
    const when = new Date(Date.now() - ageHours * 3600_000);
    utimesSync(file, when, when);
    utimesSync(join(file, '..'), when, when);
    return relative;
  }

  test('removes plaintext of videos no longer processing, of unknown uploads, and anything too old; keeps live work', async () => {
    const ready = await video('ready', { upload: true });
    const failed = await video('failed');
    const uploading = await video('uploading', { upload: true });
    const processing = await video('processing', { upload: true });
    const oldWork = await video('processing');
    const stalled = await video('processing', { updatedHoursAgo: 72 });
    const failedWithObjects = await video('failed');

    const gone = [
      stage(`uploads/${ready.uploadId}`), stage(`uploads/${ready.uploadId}.json`),
      stage(`uploads/${randomBytes(16).toString('hex')}`),
      stage(`sources/${failed.id}`),
      stage(`work/${oldWork.id}/job-1/240p/seg-00000.m4s`, 72),
      stage(`work/${stalled.id}/job-1/240p/seg-00000.m4s`),
    ];
    const kept = [
      stage(`uploads/${uploading.uploadId}`), stage(`uploads/${uploading.uploadId}.json`),
      stage(`uploads/${processing.uploadId}`),
      stage(`work/${processing.id}/job-2/240p/seg-00000.m4s`),
    ];
    const store = storeOf(haven, owner.region);
    await store.put(`${videoPrefix(owner.tenantId, failedWithObjects.id)}hls/240p/seg-00000.m4s`, randomBytes(100));

    const report = await haven.modules.media.sweep(owner.region);
    assert.equal(report.stalled, 1);
    const left = stagingFiles(haven.dataDir, owner.region);
    for (const f of kept) assert.ok(left.includes(f), `${f} is kept`);
    for (const f of gone) assert.ok(!left.some((l) => l.startsWith(f.split('/').slice(0, 2).join('/'))), `${f} is removed`);
    assert.deepEqual(left.sort(), kept.sort());

    const stalledRow = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select(['status', 'error_code']).where('id', '=', stalled.id).executeTakeFirstOrThrow());
    assert.deepEqual(stalledRow, { status: 'failed', error_code: 'processing_stalled' });
    assert.deepEqual(await keysUnder(store, videoPrefix(owner.tenantId, failedWithObjects.id)), []);
  });
});
