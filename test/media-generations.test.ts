// Replacing a video's source never interrupts playback: a player that keeps
// fetching the master playlist, a media playlist, the key and a segment, and
// decrypting the segment with that key, gets no error from before the new
// file arrives until after the new ladder is ready; it switches to the new
// ladder (generation 1) once its first rendition is published; and the old
// generation's objects, rows and key are gone after the grace period.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { videoKeys } from '../src/modules/media/keys.ts';
import { hlsPrefix } from '../src/modules/media/objects.ts';
import { decryptSegment, keyTagOf } from '../src/platform/ffmpeg/index.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { keysUnder, type Owner, signedInOwner, storeOf, tusUpload, videoOf, waitForStatus } from './fixtures/media-harness.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

let dir: string;
let haven: TestHaven;
let owner: Owner;
let videoId: string;
/** The shortest grace the setting allows, so the retirement is seen without waiting out the default 30 s. */
const GRACE_SECONDS = 10;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'haven-generations-'));
  haven = await startTestHaven({ config: { mediaReplacedLadderGraceSeconds: GRACE_SECONDS } });
  owner = await signedInOwner(haven);
  ({ videoId } = await tusUpload(haven.url, owner.api, readFileSync(makeClip(dir, 'first', { width: 640, height: 360, seconds: 4 })), { title: 'All hands' }));
  await waitForStatus(owner.api, videoId, 'ready');
});
after(async () => {
  await haven.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The replacement went through: the video is ready on ladder generation 1. */
async function newLadderReady(): Promise<boolean> {
  const row = await haven.platform.db.withTenant(owner.tenantId, (tx) => tx.selectFrom('videos').select(['status', 'rendition_generation']).where('id', '=', videoId).executeTakeFirstOrThrow());
  return row.status === 'ready' && row.rendition_generation === 1;
}

interface Play { rendition: string; keyUri: string }

/** One round of what a player does: master → first variant's playlist → its key → its first segment, decrypted. Throws on any failure. */
async function playOnce(masterUrl: URL): Promise<Play> {
  const fetchOk = async (url: URL) => {
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`${url.pathname} → ${res.status}: ${await res.text()}`);
    return Buffer.from(await res.arrayBuffer());
  };
  const master = (await fetchOk(masterUrl)).toString('utf8');
  const variant = master.split('\n').find((l) => l && !l.startsWith('#'));
  if (!variant) throw new Error(`the master playlist lists no rendition:\n${master}`);
  const playlistUrl = new URL(variant, masterUrl);
  const playlist = (await fetchOk(playlistUrl)).toString('utf8');
  const tag = keyTagOf(playlist);
  if (!tag) throw new Error(`no key tag in\n${playlist}`);
  const key = await fetchOk(new URL(tag.uri, playlistUrl));
  const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'))!;
  const plain = decryptSegment(await fetchOk(new URL(segment, playlistUrl)), key, tag.iv); // a wrong key fails the padding check
  if (!plain.includes(Buffer.from('moof'))) throw new Error(`${segment} of ${variant} does not decrypt into a media fragment`);
  return { rendition: variant.split('/')[0]!, keyUri: tag.uri };
}

test('a player keeps playing through a source replacement, switches to the new ladder, and the old one goes afterwards', async () => {
  const start = await owner.api.get(`/api/v1/videos/${videoId}/playback`);
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const masterUrl = new URL((start.body as { url: string }).url, haven.url);
  const first = await playOnce(masterUrl);
  assert.equal(first.keyUri, '../key', 'the first ladder keeps the layout and key URI videos always had');

  const errors: string[] = [];
  const seen: string[] = [];
  let plays = 0;
  let stop = false;
  let processingSeen = false;
  const player = (async () => {
    while (!stop) {
      try {
        const play = await playOnce(masterUrl);
        plays++;
        if (seen.at(-1) !== play.rendition) seen.push(play.rendition);
        const video = await videoOf(owner.api, videoId);
        if (video.status === 'processing') processingSeen = true;
        if (!video.playable) errors.push(`the video said it was not playable while ${video.status}`);
      } catch (err) {
        errors.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();

  try {
    await tusUpload(haven.url, owner.api, readFileSync(makeClip(dir, 'second', { width: 480, height: 270, seconds: 3, fps: 30 })), { metadata: { filename: 'second.mov', replaces: videoId } });
    const deadline = Date.now() + 120_000;
    while (!(await newLadderReady()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(await newLadderReady(), 'the new ladder became ready');
    // Keep playing until delivery's cached master (5 s) shows the switch, and a little longer.
    const switched = Date.now() + 15_000;
    while (!seen.includes('g1-240p') && Date.now() < switched) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    stop = true;
    await player;
  }
  assert.deepEqual(errors, [], `every play succeeded (${plays} plays)`);
  assert.ok(processingSeen, 'the player played while the new source was processed');
  assert.ok(plays >= 10, `the player played throughout (${plays} plays)`);
  assert.deepEqual(seen, ['240p', 'g1-240p'], 'the old ladder until the switch, the new one after it');
  const now = await playOnce(masterUrl);
  assert.equal(now.keyUri, '../key-g1', 'the new ladder names its own key');

  // The previous ladder stays for the grace period, then its objects, rows and key go.
  const store = storeOf(haven, owner.region);
  const prefix = hlsPrefix(owner.tenantId, videoId);
  const oldObjects = async () => (await keysUnder(store, prefix)).filter((k) => !k.slice(prefix.length).startsWith('g1-') && k !== `${prefix}master.m3u8`);
  assert.ok((await oldObjects()).length > 0, 'the old ladder is still there right after the switch');
  const deadline = Date.now() + (GRACE_SECONDS + 60) * 1000;
  while ((await oldObjects()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await oldObjects(), [], 'no object of the old ladder is left');
  const row = await haven.platform.db.withTenant(owner.tenantId, async (tx) => ({
    video: await tx.selectFrom('videos').select(['rendition_generation', 'previous_generation', 'previous_hls_key_wrapped', 'stored_bytes']).where('id', '=', videoId).executeTakeFirstOrThrow(),
    generations: (await tx.selectFrom('renditions').select('generation').distinct().where('video_id', '=', videoId).execute()).map((r) => r.generation),
    stored: await tx.selectFrom('renditions').select((eb) => eb.fn.sum<string>('bytes').as('bytes')).where('video_id', '=', videoId).executeTakeFirstOrThrow(),
  }));
  assert.equal(row.video.rendition_generation, 1);
  assert.equal(row.video.previous_generation, null);
  assert.equal(row.video.previous_hls_key_wrapped, null, 'the old key is destroyed with its ladder');
  assert.deepEqual(row.generations, [1]);
  assert.ok(Number(row.video.stored_bytes) >= Number(row.stored.bytes), 'the stored size no longer counts the old ladder but still the new one');
  // (A node that served it keeps it in memory for at most its key cache's minute, like any destroyed key.)
  const keys = (generation: number) => haven.platform.db.withTenant(owner.tenantId, (tx) => videoKeys(tx, haven.platform.keyring, owner.tenantId, videoId, generation));
  assert.equal(await keys(0), undefined, 'the old ladder\'s key can no longer be had');
  assert.equal((await keys(1))?.hlsKey.length, 16);
  assert.deepEqual(errors, []);
  await playOnce(masterUrl);
});
