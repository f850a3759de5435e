// Time to first playable: the video's first rendition is offered while ffmpeg
// is still encoding it. A real clip goes through the pipeline once (keys,
// ladder, technical record); the test then puts the video back where its
// first transcode starts and encodes the first rendition again at twice the
// pace of real time (ffmpeg -readrate), so "while it encodes" lasts long
// enough to look:
// the video is playable through the API, and a viewer gets an EVENT playlist
// whose segments decrypt with the served key into pictures ffprobe decodes,
// and which Chromium's player plays from its start.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ensureVideoKeys } from '../src/modules/media/keys.ts';
import { hlsKeyUriPlaceholder, masterPlaylistKey, renditionDir, renditionPrefix } from '../src/modules/media/objects.ts';
import { technicalOf } from '../src/modules/media/pipeline.ts';
import { publishWhileEncoding } from '../src/modules/media/progressive.ts';
import { publishStreaming } from '../src/modules/media/publish.ts';
import { pipelineVideo, type PipelineVideo } from '../src/modules/media/store.ts';
import { decryptSegment, keyTagOf, planLadder, renditionIv, rungsOf, type VideoRung } from '../src/platform/ffmpeg/index.ts';
import { transcodeArgs } from '../src/platform/ffmpeg/transcode.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { type Owner, PASSWORD, readAll, signedInOwner, storeOf, tusUpload, videoOf, waitForStatus } from './fixtures/media-harness.ts';
import { launchBrowser, openPage } from './helpers/browser.ts';
import { PLAYLIST_CACHE_TTL_MS } from '../src/modules/playback/delivery/index.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { waitFor } from './helpers/process.ts';

/** 8 segments; encoded at twice real time, the encode lasts 8 s. */
const CLIP_SECONDS = 16;
const PACE = 2;
const OWNER_EMAIL = 'owner@progressive.test';

describe('progressive publishing of the first rendition', () => {
  let haven: TestHaven;
  let owner: Owner;
  let dir: string;
  let clip: string;
  let videoId: string;
  let video: PipelineVideo;
  let rung: VideoRung;
  const encoders = new Set<ChildProcess>();

  before(async () => {
    haven = await startTestHaven();
    owner = await signedInOwner(haven, 'Progressive Org', OWNER_EMAIL);
    dir = mkdtempSync(join(tmpdir(), 'haven-progressive-'));
    clip = makeClip(dir, 'clip', { seconds: CLIP_SECONDS });
    videoId = (await tusUpload(haven.url, owner.api, readFileSync(clip), { title: 'Progressive clip' })).videoId;
    await waitForStatus(owner.api, videoId, 'ready');
    video = (await haven.platform.db.withTenant(owner.tenantId, (tx) => pipelineVideo(tx, videoId)))!;
    rung = rungsOf(planLadder(technicalOf(video).probe)).find((r): r is VideoRung => r.kind === 'video')!;
  });
  after(async () => {
    for (const encoder of encoders) encoder.kill('SIGKILL');
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const prefix = () => renditionPrefix(owner.tenantId, videoId, renditionDir(rung.name, video.rendition_generation));

  /** The video as its first transcode starts: processing, nothing published. */
  async function rewind(): Promise<void> {
    await haven.platform.db.withTenant(owner.tenantId, async (tx) => {
      await sql`update videos set status = 'processing', ready_at = null where id = ${videoId}`.execute(tx);
      await sql`update renditions set status = 'pending', ready_at = null where video_id = ${videoId}`.execute(tx);
    });
    await storeOf(haven, owner.region).delete(masterPlaylistKey(owner.tenantId, videoId));
    await storeOf(haven, owner.region).deletePrefix(prefix());
  }

  /** The first rendition's encode, as the pipeline runs it, reading the source at PACE × real time. */
  function encodeInRealTime(work: string): { exited: Promise<unknown>; running: () => boolean } {
    mkdirSync(join(work, rung.name), { recursive: true });
    const args = transcodeArgs({ input: clip, outputDir: work, rungs: [rung], hasAudio: video.has_audio === true });
    args.splice(args.indexOf('-i'), 0, '-readrate', String(PACE));
    const encoder = spawn('ffmpeg', args, { stdio: 'ignore' });
    encoders.add(encoder);
    const exited = once(encoder, 'exit').finally(() => encoders.delete(encoder));
    return { exited, running: () => encoder.exitCode === null && encoder.signalCode === null };
  }

  async function publisherFor(work: string, offeredBefore: number) {
    const keys = await ensureVideoKeys(haven.platform.db, haven.platform.keyring, owner.tenantId, videoId);
    const dirName = renditionDir(rung.name, video.rendition_generation);
    return publishWhileEncoding({
      rung, store: storeOf(haven, owner.region), dir: join(work, rung.name), prefix: prefix(), offeredBefore, log: haven.platform.log,
      key: { hlsKey: keys.hlsKey, iv: renditionIv(keys.hlsKey, dirName), uri: hlsKeyUriPlaceholder(videoId, video.rendition_generation) },
      offer: (estimate) => publishStreaming({ platform: haven.platform }, { tenantId: owner.tenantId, videoId }, rung.name, estimate),
    });
  }

  const get = async (url: URL) => {
    const res = await fetch(url);
    assert.equal(res.status, 200, `${url.pathname}: ${res.status}`);
    return res;
  };

  test('a viewer plays the first rendition while its encode still runs', async (t) => {
    await rewind();
    const work = mkdtempSync(join(dir, 'work-'));
    const encode = encodeInRealTime(work);
    const publisher = await publisherFor(work, 0);
    t.after(() => publisher.finish());

    const offered = await waitFor(async () => {
      const v = await videoOf(owner.api, videoId);
      return v.playable ? v : undefined;
    }, 30_000, 'the first rendition offered');
    assert.ok(encode.running(), 'offered before its encode ended');
    assert.equal(offered.status, 'processing');
    assert.deepEqual(offered.renditions.filter((r: any) => r.status !== 'pending').map((r: any) => [r.name, r.status]), [[rung.name, 'streaming']]);

    const playback = await owner.api.get(`/api/v1/videos/${videoId}/playback`);
    assert.equal(playback.status, 200, JSON.stringify(playback.body));
    const masterUrl = new URL(playback.body.url, haven.url);
    const variants = (await (await get(masterUrl)).text()).split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(variants.length, 1, 'the master playlist offers the streaming rendition only');
    const playlistUrl = new URL(variants[0]!, masterUrl);
    const playlist = await (await get(playlistUrl)).text();
    assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.doesNotMatch(playlist, /#EXT-X-ENDLIST/, 'a growing playlist has no end yet');
    const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(segments.length >= 3, `${segments.length} segments listed`);

    const tag = keyTagOf(playlist)!;
    const key = Buffer.from(await (await get(new URL(tag.uri, playlistUrl))).arrayBuffer());
    const initUri = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
    const parts: Buffer[] = [Buffer.from(await (await get(new URL(initUri, playlistUrl))).arrayBuffer())];
    for (const segment of segments) parts.push(decryptSegment(Buffer.from(await (await get(new URL(segment, playlistUrl))).arrayBuffer()), key, tag.iv));
    const played = join(work, 'played.mp4');
    writeFileSync(played, Buffer.concat(parts));
    const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', played], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.ok(Number(probe.stdout.trim()) >= segments.length * 2 * rung.fps * 0.9, `decoded ${probe.stdout.trim()} frames`);

    // Once the playlist lists the whole 16 s (still growing: no end), Chromium's player plays it from
    // its start; hls.js on its own would join it 3 segments before its end, at 10 s.
    await encode.exited;
    const written = readFileSync(join(work, rung.name, 'index.m3u8'), 'utf8').split('\n').filter((l) => l.endsWith('.m4s'));
    await waitFor(async () => {
      const listed = (await readAll(await storeOf(haven, owner.region).get(`${prefix()}index.m3u8`))).toString('utf8');
      return listed.split('\n').filter((l) => l.endsWith('.m4s')).length === written.length || undefined;
    }, 10_000, 'every segment stored');
    await new Promise((r) => setTimeout(r, PLAYLIST_CACHE_TTL_MS));
    const browser = await launchBrowser(['--mute-audio', '--autoplay-policy=no-user-gesture-required']);
    try {
      const { page, errors } = await openPage(browser, haven, { signedInAs: { email: OWNER_EMAIL, password: PASSWORD } });
      const missing: string[] = [];
      page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
      await page.goto(new URL(`/watch/${videoId}`, haven.url).href);
      await page.waitForSelector('#haven-player[data-state="ready"]', { timeout: 15_000 });
      await page.click('.haven-play');
      await page.waitForFunction(() => (globalThis as any).document.querySelector('video').played.length > 0, null, { timeout: 15_000 });
      await page.waitForFunction(() => {
        const { played } = (globalThis as any).document.querySelector('video');
        return played.end(played.length - 1) - played.start(0) > 1;
      }, null, { timeout: 15_000 });
      const startedAt = await page.evaluate(() => (globalThis as any).document.querySelector('video').played.start(0) as number);
      assert.ok(startedAt < 0.5, `playback started at ${startedAt} s`);
      assert.deepEqual(errors, [], missing.join('\n'));
    } finally {
      await browser.close();
    }

    assert.equal((await publisher.finish()).size, written.length);
  });

  test('a retried encode overwrites the offered segments in place and keeps the offered playlist until its own is longer', async (t) => {
    const store = storeOf(haven, owner.region);
    const offeredPlaylist = (await readAll(await store.get(`${prefix()}index.m3u8`))).toString('utf8');
    const offeredCount = offeredPlaylist.split('\n').filter((l) => l.endsWith('.m4s')).length;
    assert.ok(offeredCount >= 3);
    const work = mkdtempSync(join(dir, 'retry-'));
    const encode = encodeInRealTime(work);
    const publisher = await publisherFor(work, offeredCount);
    t.after(() => publisher.finish());
    await encode.exited;
    const stored = await publisher.finish();
    assert.ok(stored.size >= 1, 'the retry stored segments again');
    assert.equal((await readAll(await store.get(`${prefix()}index.m3u8`))).toString('utf8'), offeredPlaylist, 'never shortened');
    // Segments of the retry decrypt with the playlist viewers already hold (same key, same IV).
    const keys = await ensureVideoKeys(haven.platform.db, haven.platform.keyring, owner.tenantId, videoId);
    const first = await readAll(await store.get(`${prefix()}seg-00000.m4s`));
    assert.ok(decryptSegment(first, keys.hlsKey, keyTagOf(offeredPlaylist)!.iv).length > 0);
    assert.equal(stored.get('seg-00000.m4s')!.size, first.length, 'seg-00000 is the retry\'s');
  });
});
