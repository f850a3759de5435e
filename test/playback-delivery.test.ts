// Delivery end to end: a real clip uploaded and transcoded, played under
// tokens — playlists, the key that decrypts the segments into something
// ffprobe reads, ranges and validators, refused tokens, revocation stopping
// the key at once while segments still serve, and the proxy offload headers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createPlaybackTokens } from '../src/modules/playback/delivery/tokens.ts';
import type { GrantBasis } from '../src/modules/playback/contracts.ts';
import { decryptSegment, keyTagOf } from '../src/platform/ffmpeg/index.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { ApiClient } from './helpers/client.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

describe('playback delivery', () => {
  let haven: TestHaven;
  let proxied: TestHaven;
  let org: Org;
  let other: Org;
  let videoId: string;
  let dir: string;
  const anonymous = () => new ApiClient(haven.url);

  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, haven.url), { headers });
  const playback = async (api: ApiClient, query = '') => {
    const res = await api.get(`/api/v1/videos/${videoId}/playback${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { url: string; token: string; expiresAt: string; playbackId: string; video: any; captions: unknown[]; beaconUrl: string };
  };
  const setPolicy = async (audiences: unknown[], conditions: Record<string, unknown> = {}) => {
    const res = await org.owner.call('PUT', `/api/v1/videos/${videoId}/access`, { audiences, conditions });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const basisOf = (over: Partial<GrantBasis> = {}): GrantBasis => ({
    tenantId: org.tenantId, videoId, region: org.region, policyVersion: 1, viewer: { kind: 'anonymous', id: crypto.randomUUID() }, bindIp: false, ...over,
  });
  /** The first segment's URL of the first rendition, resolved as a player would. */
  async function firstSegment(url: string): Promise<{ playlistUrl: URL; playlist: string; segmentUrl: URL }> {
    const master = await (await get(url)).text();
    const rendition = master.split('\n').find((l) => l && !l.startsWith('#'))!;
    const playlistUrl = new URL(rendition, new URL(url, haven.url));
    const playlist = await (await fetch(playlistUrl)).text();
    const seg = playlist.split('\n').find((l) => l && !l.startsWith('#'))!;
    return { playlistUrl, playlist, segmentUrl: new URL(seg, playlistUrl) };
  }

  before(async () => {
    const keys = sharedKeys();
    haven = await startTestHaven({ config: { ...keys } });
    // A second node on the same database, behind a proxy that sends the bytes.
    proxied = await startTestHaven({ config: { ...keys, playbackOffload: 'x-accel-redirect' }, database: haven.database, haven: { workers: false } });
    org = await createOrg(haven, 'Delivery Org');
    other = await createOrg(haven, 'Other Org');
    dir = mkdtempSync(join(tmpdir(), 'haven-delivery-'));
    const clip = readFileSync(makeClip(dir, 'clip', { seconds: 3 }));
    videoId = (await tusUpload(haven.url, org.owner, clip, { title: 'Delivery clip' })).videoId;
    await waitForStatus(org.owner, videoId, 'ready');
    const published = await org.owner.call('PATCH', `/api/v1/videos/${videoId}`, { publishState: 'published' });
    assert.equal(published.status, 200, JSON.stringify(published.body));
    await setPolicy([{ type: 'public' }]);
  });
  after(async () => {
    await proxied?.stop();
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an anonymous viewer of a public video gets a token, playlists and images under it', async () => {
    const p = await playback(anonymous());
    assert.match(p.url, /^\/play\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\/master\.m3u8$/);
    assert.equal(p.video.id, videoId);
    assert.equal(p.video.title, 'Delivery clip');
    assert.ok(p.video.durationMs > 2000);
    assert.deepEqual(p.captions, []);
    assert.equal(p.beaconUrl, '/api/v1/playback/beacons');
    assert.ok(new Date(p.expiresAt).getTime() > Date.now() + 3000_000, 'the default lifetime is an hour');
    // The token carries no readable viewer data.
    assert.ok(!Buffer.from(p.token.split('.')[0]!, 'base64url').toString('latin1').includes(videoId.replaceAll('-', '')));

    const master = await get(p.url);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(master.headers.get('cache-control'), 'private, no-store');
    assert.match(await master.text(), /^#EXTM3U[\s\S]*\n240p\/index\.m3u8\n/);

    const { playlist, segmentUrl } = await firstSegment(p.url);
    assert.ok(!playlist.includes('haven-key://'), 'the placeholder is replaced');
    assert.match(playlist, /#EXT-X-KEY:METHOD=AES-128,URI="\.\.\/key",IV=0x[0-9a-f]{32}/);
    assert.match(playlist, new RegExp(`#EXT-X-MAP:URI="\\.\\./\\.\\./v/${videoId}/240p/init\\.mp4\\?token=`));
    assert.equal(segmentUrl.pathname, `/play/v/${videoId}/240p/seg-00000.m4s`, 'segments share one path across viewers');

    const poster = await get(p.video.posterUrl);
    assert.equal(poster.status, 200);
    assert.equal(poster.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await poster.arrayBuffer());
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const thumb = await get(p.video.posterUrl.replace('poster.jpg', 'thumb-1.jpg'));
    assert.equal(thumb.status, 200);
    const vtt = await (await get(p.video.storyboardUrl)).text();
    assert.match(vtt, /^WEBVTT/);
    assert.ok(vtt.includes(`/play/${p.token}/storyboard.jpg#xywh=0,0,`), vtt.slice(0, 200));
    const sprite = await get(`/play/${p.token}/storyboard.jpg`);
    assert.deepEqual([...Buffer.from(await sprite.arrayBuffer()).subarray(0, 2)], [0xff, 0xd8]);
  });

  test('the key decrypts the segments into media ffprobe reads with the init segment', async () => {
    const p = await playback(anonymous());
    const { playlistUrl, playlist } = await firstSegment(p.url);
    const keyRes = await fetch(new URL('../key', playlistUrl));
    assert.equal(keyRes.status, 200);
    assert.equal(keyRes.headers.get('content-type'), 'application/octet-stream');
    assert.equal(keyRes.headers.get('cache-control'), 'no-store');
    const key = Buffer.from(await keyRes.arrayBuffer());
    assert.equal(key.length, 16);
    const { iv } = keyTagOf(playlist)!;
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
    const parts: Buffer[] = [Buffer.from(await (await fetch(new URL(init, playlistUrl))).arrayBuffer())];
    for (const seg of playlist.split('\n').filter((l) => l && !l.startsWith('#'))) {
      const res = await fetch(new URL(seg, playlistUrl));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      parts.push(decryptSegment(Buffer.from(await res.arrayBuffer()), key, iv));
    }
    const file = join(dir, 'played.mp4');
    writeFileSync(file, Buffer.concat(parts));
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    const info = JSON.parse(probe.stdout);
    assert.ok(info.streams.some((s: any) => s.codec_name === 'h264'), probe.stdout);
    assert.ok(Number(info.format.duration) > 2, probe.stdout);
  });

  test('segments answer byte ranges, 416 for bad ones, and 304 for a matching ETag', async () => {
    const p = await playback(anonymous());
    const { segmentUrl } = await firstSegment(p.url);
    const whole = await fetch(segmentUrl);
    const bytes = Buffer.from(await whole.arrayBuffer());
    const etag = whole.headers.get('etag')!;
    assert.match(etag, /^"[^"]+"$/, 'a strong validator');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');

    const part = await fetch(segmentUrl, { headers: { range: 'bytes=16-115' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 16-115/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(16, 116));
    const suffix = await fetch(segmentUrl, { headers: { range: 'bytes=-32' } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), bytes.subarray(bytes.length - 32));
    const beyond = await fetch(segmentUrl, { headers: { range: `bytes=${bytes.length + 10}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);
    assert.equal(((await beyond.json()) as any).error.code, 'range_not_satisfiable');
    const garbage = await fetch(segmentUrl, { headers: { range: 'bytes=5-2' } });
    assert.equal(garbage.status, 416);
    await garbage.arrayBuffer();

    const cached = await fetch(segmentUrl, { headers: { 'if-none-match': etag } });
    assert.equal(cached.status, 304);
    const stale = await fetch(segmentUrl, { headers: { 'if-none-match': '"something-else"' } });
    assert.equal(stale.status, 200);
    await stale.arrayBuffer();
    // The same bytes under the token path (relative URIs of the stored playlist resolve there).
    const underToken = await get(`/play/${p.token}/240p/seg-00000.m4s`);
    assert.deepEqual(Buffer.from(await underToken.arrayBuffer()), bytes);
  });

  test('expired, forged, other-video, malformed and IP-bound tokens are refused', async () => {
    const tokens = createPlaybackTokens(haven.platform.signingKey, { ttlSeconds: 600 });
    const expect403 = async (path: string, code: string) => {
      const res = await get(path);
      const body = (await res.json()) as any;
      assert.equal(res.status, 403, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, code, path);
    };
    const expired = tokens.issue(basisOf(), { ttlSeconds: -5 }).token;
    await expect403(`/play/${expired}/master.m3u8`, 'playback_token_expired');
    await expect403(`/play/${expired}/key`, 'playback_token_expired');

    const good = tokens.issue(basisOf(), {}).token;
    const [payload, mac] = good.split('.') as [string, string];
    const flipped = `${payload}.${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    await expect403(`/play/${flipped}/key`, 'playback_token_invalid');
    const foreign = createPlaybackTokens(Buffer.alloc(32, 7), { ttlSeconds: 600 }).issue(basisOf(), {}).token;
    await expect403(`/play/${foreign}/master.m3u8`, 'playback_token_invalid');
    await expect403(`/play/v/${crypto.randomUUID()}/240p/seg-00000.m4s?token=${good}`, 'playback_token_wrong_video');
    // Another tenant's video id in the token, with this video's path: refused before storage.
    const otherVideo = await insertVideo(haven, other, { title: 'Other tenant video' });
    const forOther = tokens.issue(basisOf({ tenantId: other.tenantId, videoId: otherVideo }), {}).token;
    await expect403(`/play/v/${videoId}/240p/seg-00000.m4s?token=${forOther}`, 'playback_token_wrong_video');

    const bound = tokens.issue(basisOf({ bindIp: true }), { ip: '203.0.113.9' }).token;
    await expect403(`/play/${bound}/key`, 'playback_token_ip_mismatch');
    await expect403(`/play/v/${videoId}/240p/seg-00000.m4s?token=${bound}`, 'playback_token_ip_mismatch');
    const here = tokens.issue(basisOf({ bindIp: true }), { ip: '127.0.0.1' }).token;
    const ok = await get(`/play/${here}/master.m3u8`);
    assert.equal(ok.status, 200);
    await ok.text();

    for (const path of [`/play/${good}/%2e%2e%2f%2e%2e%2fetc%2fpasswd`, `/play/${good}/..%2f..%2fetc%2fpasswd`, `/play/${good}/240p/seg-1.m4s`, `/play/${good}/240P/index.m3u8`, `/play/${good}/240p/original.hvn`, '/play/not-a-token/master.m3u8', `/play/v/${videoId}/240p/init.mp4`]) {
      const res = await get(path);
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      await res.arrayBuffer();
    }
  });

  test('changing the policy or revoking a link stops the key at once; segments still serve', async () => {
    const p = await playback(anonymous());
    const { segmentUrl } = await firstSegment(p.url);
    assert.equal((await get(`/play/${p.token}/key`)).status, 200);
    await setPolicy([{ type: 'public' }, { type: 'members' }]);
    const denied = await get(`/play/${p.token}/key`);
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as any).error.code, 'playback_grant_revoked');
    const poster = await get(p.video.posterUrl);
    assert.equal(poster.status, 403, 'decrypted images follow the key');
    await poster.arrayBuffer();
    const seg = await fetch(segmentUrl);
    assert.equal(seg.status, 200, 'ciphertext still serves');
    await seg.arrayBuffer();

    // An unlisted link: its playback ends when the link is revoked.
    await setPolicy([{ type: 'link' }]);
    const link = await org.owner.post(`/api/v1/videos/${videoId}/links`, { label: 'press' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const refused = await anonymous().get(`/api/v1/videos/${videoId}/playback`);
    assert.ok(refused.status >= 400, 'without the link nobody plays');
    const viaLink = await playback(anonymous(), `?link=${encodeURIComponent(link.body.secret)}`);
    assert.equal((await get(`/play/${viaLink.token}/key`)).status, 200);
    assert.equal((await org.owner.call('DELETE', `/api/v1/videos/${videoId}/links/${link.body.id}`)).status, 204);
    const afterRevoke = await get(`/play/${viaLink.token}/key`);
    assert.equal(afterRevoke.status, 403);
    await afterRevoke.arrayBuffer();

    const events = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('audit_events').select(['action', 'outcome', 'details']).where('action', '=', 'playback.key.denied').execute());
    assert.ok(events.length >= 2, `denied key fetches are audited (${events.length})`);
    assert.equal(events[0]!.outcome, 'denied');
    assert.match(JSON.stringify(events[0]!.details), /grant_no_longer_valid/);
    await setPolicy([{ type: 'public' }]);
  });

  /** The node's grant cache listens (its barrier answers), so key fetches are served from memory. */
  const cacheLive = async (node: TestHaven) => {
    const grants = node.modules.playback.grants;
    for (const deadline = Date.now() + 10_000; !grants.live; await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, 'the playback grant listener came up');
    }
    return grants;
  };

  test('a policy change or link revocation on one node stops key fetches on another at once', async () => {
    const grantsB = await cacheLive(proxied);
    const p = await playback(anonymous());
    const keyOnB = (token: string) => fetch(new URL(`/play/${token}/key`, proxied.url));
    assert.equal((await keyOnB(p.token)).status, 200);
    assert.ok(grantsB.size > 0, 'node B keeps the grant in memory');

    await setPolicy([{ type: 'public' }, { type: 'members' }]); // on node A
    const denied = await keyOnB(p.token);
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as any).error.code, 'playback_grant_revoked');

    await setPolicy([{ type: 'link' }]);
    const link = await org.owner.post(`/api/v1/videos/${videoId}/links`, { label: 'two nodes' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const viaLink = await playback(anonymous(), `?link=${encodeURIComponent(link.body.secret)}`);
    for (let i = 0; i < 3; i++) assert.equal((await keyOnB(viaLink.token)).status, 200);
    assert.equal((await org.owner.call('DELETE', `/api/v1/videos/${videoId}/links/${link.body.id}`)).status, 204);
    const afterRevoke = await keyOnB(viaLink.token);
    assert.equal(afterRevoke.status, 403, 'the next fetch on node B after the revocation on node A is refused');
    await afterRevoke.arrayBuffer();

    // Node B really answers from memory: a revocation written with the triggers off (so never announced) goes
    // unseen there until the announcement comes — which is why the triggers, not the writers, announce.
    const silent = await org.owner.post(`/api/v1/videos/${videoId}/links`, { label: 'silent' });
    const viaSilent = await playback(anonymous(), `?link=${encodeURIComponent(silent.body.secret)}`);
    assert.equal((await keyOnB(viaSilent.token)).status, 200);
    const owner = await haven.platform.db.ownerPool.connect();
    try {
      await owner.query('begin');
      await owner.query('set local session_replication_role = replica');
      await owner.query('update video_links set revoked_at = now() where id = $1', [silent.body.id]);
      await owner.query('commit');
    } finally {
      owner.release();
    }
    assert.equal((await keyOnB(viaSilent.token)).status, 200, 'served from the cache');
    await haven.platform.db.ownerPool.query(`select pg_notify('haven_playback_changed', $1)`, [`v:${videoId}`]);
    assert.equal((await keyOnB(viaSilent.token)).status, 403, 'the announcement drops it');

    // Link expiry is checked against the clock, not the cached answer: an expiry moved into the past ends the grant.
    const expiring = await org.owner.post(`/api/v1/videos/${videoId}/links`, { label: 'expiring', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const viaExpiring = await playback(anonymous(), `?link=${encodeURIComponent(expiring.body.secret)}`);
    assert.equal((await keyOnB(viaExpiring.token)).status, 200);
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('video_links').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', expiring.body.id).execute());
    assert.equal((await keyOnB(viaExpiring.token)).status, 403);

    // A video moved to the trash (by any writer) ends every grant on it; restoring brings them back.
    await setPolicy([{ type: 'public' }]);
    const again = await playback(anonymous());
    assert.equal((await keyOnB(again.token)).status, 200);
    const trashed = await org.owner.call('DELETE', `/api/v1/videos/${videoId}`);
    assert.equal(trashed.status, 200, JSON.stringify(trashed.body));
    assert.equal((await keyOnB(again.token)).status, 403, 'trashed');
    const restored = await org.owner.post(`/api/v1/trash/video/${videoId}/restore`, {});
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal((await keyOnB(again.token)).status, 200, 'restored');
  });

  test('while the listener is down every key fetch asks the database, so a revocation still stops it', async () => {
    const grantsB = await cacheLive(proxied);
    await setPolicy([{ type: 'link' }]);
    const link = await org.owner.post(`/api/v1/videos/${videoId}/links`, { label: 'listener down' });
    const viaLink = await playback(anonymous(), `?link=${encodeURIComponent(link.body.secret)}`);
    const keyOnB = () => fetch(new URL(`/play/${viaLink.token}/key`, proxied.url));
    assert.equal((await keyOnB()).status, 200);
    assert.equal((await keyOnB()).status, 200);

    const listeners = await haven.platform.db.ownerPool.query<{ pid: number }>(
      `select pid from pg_stat_activity where application_name = 'haven-playback-grants' and datname = current_database()`);
    assert.equal(listeners.rowCount, 2, 'one listener per node');
    // Both nodes' listeners go; the revocation's notification reaches nobody.
    for (const { pid } of listeners.rows) await haven.platform.db.ownerPool.query('select pg_terminate_backend($1)', [pid]);
    assert.equal((await org.owner.call('DELETE', `/api/v1/videos/${videoId}/links/${link.body.id}`)).status, 204);
    const refused = await keyOnB();
    assert.equal(refused.status, 403, 'the next fetch is refused');
    assert.equal(((await refused.json()) as any).error.code, 'playback_grant_revoked');

    // The listener comes back on its own, with an empty cache.
    await cacheLive(proxied);
    assert.equal(grantsB.size, 0);
    assert.equal((await keyOnB()).status, 403);
    await setPolicy([{ type: 'public' }]);
  });

  test('staff playback is audited; another tenant gets 404 and no token', async () => {
    const p = await playback(org.owner);
    assert.ok(p.token);
    const staff = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('audit_events').select(['action', 'target_id']).where('action', '=', 'video.playback.staff').execute());
    assert.ok(staff.some((e) => e.target_id === videoId), 'an editor-or-above playback leaves a trace');
    const before = staff.length;
    await playback(anonymous());
    const after = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('audit_events').select('id').where('action', '=', 'video.playback.staff').execute());
    assert.equal(after.length, before, 'anonymous viewers are not staff');

    // Members only: a signed-in owner of another tenant is told nothing exists, and gets no token.
    await setPolicy([{ type: 'members' }]);
    const res = await other.owner.get(`/api/v1/videos/${videoId}/playback`);
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.equal(res.body.token, undefined);
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}/playback`)).status, 200);
    await setPolicy([{ type: 'public' }]);
    const bad = await anonymous().get('/api/v1/videos/not-a-uuid/playback');
    assert.equal(bad.status, 400);
  });

  test('with X-Accel-Redirect the token is checked and the proxy sends the bytes', async () => {
    const p = await playback(anonymous());
    const { segmentUrl } = await firstSegment(p.url);
    const res = await fetch(new URL(segmentUrl.pathname + segmentUrl.search, proxied.url));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-accel-redirect'), `/_haven_media/${org.region}/t/${org.tenantId}/v/${videoId}/hls/240p/seg-00000.m4s`);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const forged = await fetch(new URL(`/play/v/${videoId}/240p/seg-00000.m4s?token=${p.token.slice(0, -2)}AA`, proxied.url));
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('x-accel-redirect'), null);
    await forged.arrayBuffer();

    assert.throws(() => loadConfig({ HAVEN_CONFIG: '', HAVEN_PLAYBACK_OFFLOAD: 'x-sendfile', HAVEN_REGIONS: JSON.stringify({ default: { jurisdiction: 'EU', storage: { driver: 's3', bucket: 'media', endpoint: 'https://s3.eu.example', jurisdiction: 'EU' } } }) }),
      (err: Error) => err instanceof ConfigError && /playbackOffload.*filesystem storage/.test(err.message));
  });
});
