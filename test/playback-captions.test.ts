// Caption tracks: validated WebVTT in, encrypted at rest with the video's
// data key, searchable by what is said, audited, served to players under a
// playback token — and the player pages and assets around them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decryptBuffer } from '../src/platform/crypto/stream.ts';
import { videoKeys } from '../src/modules/media/keys.ts';
import { parseWebVtt, spokenText } from '../src/modules/playback/player/webvtt.ts';
import { expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

const VTT = `WEBVTT

NOTE a comment that is not spoken

1
00:00:00.500 --> 00:00:02.000
<v Anna>Welcome to the quarterly aurora briefing.

00:02.000 --> 00:00:04.000 line:90%
Budgets &amp; forecasts follow.
`;
const SV_VTT = 'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nVälkommen till norrskenet.\n';

async function putCaptions(org: Org, videoId: string, lang: string, body: string, query = ''): Promise<Response> {
  return fetch(new URL(`/api/v1/videos/${videoId}/captions/${lang}${query}`, org.owner.baseUrl), {
    method: 'PUT', headers: { cookie: org.owner.cookie!, 'x-csrf-token': org.owner.csrf!, 'content-type': 'text/vtt' }, body,
  });
}

describe('captions', () => {
  let haven: TestHaven;
  let org: Org;
  let videoId: string;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Captions Org');
    videoId = await insertVideo(haven, org, { title: 'Quarterly review', publishedState: 'published' });
  });
  after(() => haven.stop());

  test('the WebVTT parser accepts real files and names the line of a broken one', () => {
    const cues = parseWebVtt(VTT);
    assert.equal(cues.length, 2);
    assert.deepEqual([cues[0]!.startMs, cues[0]!.endMs, cues[1]!.startMs], [500, 2000, 2000]);
    assert.equal(spokenText(cues), 'Welcome to the quarterly aurora briefing.\nBudgets & forecasts follow.');
    const line = (text: string) => { try { parseWebVtt(text); return 0; } catch (e: any) { assert.equal(e.code, 'captions_invalid'); return e.details.line; } };
    assert.equal(line('1\n00:00:01.000 --> 00:00:02.000\nno header'), 1);
    assert.equal(line('WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:03.000 -> 00:00:04.000\nbad arrow'), 7);
    assert.equal(line('WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nends before it starts'), 3);
    assert.equal(line('WEBVTT\n\n00:00:01.000 --> 00:00:61.000\nsixty-one seconds'), 3);
    assert.equal(line('WEBVTT\n\n00:00:03.000 --> 00:00:04.000\nlater\n\n00:00:01.000 --> 00:00:02.000\nearlier'), 6);
  });

  test('PUT stores the track encrypted, makes its words searchable, and audits it', async () => {
    const res = await putCaptions(org, videoId, 'en', VTT);
    assert.equal(res.status, 201, await res.clone().text());
    const track = await res.json() as any;
    assert.equal(track.lang, 'en');
    assert.equal(track.label, 'English');
    assert.equal(track.bytes, Buffer.byteLength(VTT));

    const store = haven.platform.storage.forRegion(org.region);
    const key = `t/${org.tenantId}/v/${videoId}/captions/en.vtt.hvn`;
    const chunks: Buffer[] = [];
    for await (const c of await store.get(key)) chunks.push(c as Buffer);
    const stored = Buffer.concat(chunks);
    assert.equal(stored.subarray(0, 4).toString('latin1'), 'HVN1');
    assert.ok(!stored.includes(Buffer.from('aurora')), 'no caption text at rest');
    const keys = await haven.platform.db.withTenant(org.tenantId, (tx) => videoKeys(tx, haven.platform.keyring, org.tenantId, videoId));
    assert.equal(decryptBuffer(keys!.dataKey, stored).toString('utf8'), VTT);

    const found = await org.owner.get('/api/v1/videos?q=aurora');
    assert.deepEqual(found.body.items.map((v: any) => v.id), [videoId]);

    const sv = await putCaptions(org, videoId, 'sv-se', SV_VTT, '?label=Svenska%20(text)');
    assert.equal(sv.status, 201);
    assert.equal(((await sv.json()) as any).lang, 'sv-SE', 'the tag is stored in canonical form');
    const list = await org.owner.get(`/api/v1/videos/${videoId}/captions`);
    assert.deepEqual(list.body.items.map((t: any) => [t.lang, t.label]), [['en', 'English'], ['sv-SE', 'Svenska (text)']]);
    assert.deepEqual((await org.owner.get('/api/v1/videos?q=norrskenet')).body.items.map((v: any) => v.id), [videoId]);

    const replaced = await putCaptions(org, videoId, 'en', 'WEBVTT\n\n00:00.000 --> 00:01.000\nA different text entirely.\n');
    assert.equal(replaced.status, 200);
    assert.equal((await org.owner.get('/api/v1/videos?q=aurora')).body.items.length, 0, 'the replaced words are gone from search');
    assert.equal((await org.owner.get('/api/v1/videos?q=norrskenet')).body.items.length, 1, 'the other track still counts');

    const events = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('audit_events').select(['action', 'details']).where('action', 'like', 'video.captions.%').orderBy('occurred_at').execute());
    assert.deepEqual(events.map((e) => e.action), ['video.captions.update', 'video.captions.update', 'video.captions.update']);
  });

  test('bad input is refused with a code and a sentence', async () => {
    const bad = await putCaptions(org, videoId, 'en', 'WEBVTT\n\n00:00:01.000 --> nonsense\nhi\n');
    assert.equal(bad.status, 400);
    const body = await bad.json() as any;
    assert.equal(body.error.code, 'captions_invalid');
    assert.equal(body.error.details.line, 3);
    assert.match(body.error.message, /line 3/);

    const badLang = await putCaptions(org, videoId, 'not_a_language!', VTT);
    assert.equal(badLang.status, 400);
    assert.equal(((await badLang.json()) as any).error.code, 'invalid_language');

    const huge = await putCaptions(org, videoId, 'de', `WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${'x'.repeat(2 * 1024 * 1024)}\n`);
    assert.equal(huge.status, 413);

    const viewer = await org.as('viewer');
    const denied = await fetch(new URL(`/api/v1/videos/${videoId}/captions/fi`, haven.url), {
      method: 'PUT', headers: { cookie: viewer.cookie!, 'x-csrf-token': viewer.csrf!, 'content-type': 'text/vtt' }, body: VTT,
    });
    assert.equal(denied.status, 403);
    assert.equal((await viewer.get(`/api/v1/videos/${videoId}/captions`)).status, 200, 'viewers may list');
    expectError(await org.owner.get('/api/v1/videos/00000000-0000-4000-8000-000000000000/captions'), 404, 'video_not_found');
    expectError(await org.owner.delete(`/api/v1/videos/${videoId}/captions/fi`), 404, 'captions_not_found');
  });

  test('players read a track under a playback token; forged tokens get nothing', async () => {
    const policy = await org.owner.call('PUT', `/api/v1/videos/${videoId}/access`, { audiences: [{ type: 'public' }] });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const { playback } = haven.modules;
    const decision = await playback.access.decide(videoId, { ctx: { actor: { type: 'anonymous' } }, cookies: {}, now: new Date() });
    assert.ok(decision.allowed, JSON.stringify(decision));
    const { token } = playback.playbackTokens.issue(decision.basis, {});
    const tracks = await playback.captions.captionTracks(org.tenantId, videoId, token);
    assert.deepEqual(tracks.map((t) => t.url), [`/play/${token}/captions/en.vtt`, `/play/${token}/captions/sv-SE.vtt`]);

    const res = await haven.request(tracks[1]!.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/vtt/);
    assert.equal(await res.text(), SV_VTT);
    assert.equal((await haven.request(`/play/${token}/captions/fi.vtt`)).status, 404);
    const forged = `${token.slice(0, -4)}AAAA`;
    assert.equal((await haven.request(`/play/${forged}/captions/en.vtt`)).status, 403);

    // A change of policy ends the grant: the old token reads no captions.
    assert.equal((await org.owner.call('PUT', `/api/v1/videos/${videoId}/access`, { audiences: [{ type: 'members' }] })).status, 200);
    assert.equal((await haven.request(tracks[1]!.url)).status, 403);
  });

  test('DELETE removes the track, its object and its words', async () => {
    assert.equal((await org.owner.delete(`/api/v1/videos/${videoId}/captions/sv-SE`)).status, 204);
    assert.equal((await org.owner.get('/api/v1/videos?q=norrskenet')).body.items.length, 0);
    assert.deepEqual((await org.owner.get(`/api/v1/videos/${videoId}/captions`)).body.items.map((t: any) => t.lang), ['en']);
    const head = await haven.platform.storage.forRegion(org.region).head(`t/${org.tenantId}/v/${videoId}/captions/sv-SE.vtt.hvn`);
    assert.equal(head, undefined);
    const events = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('audit_events').select('action').where('action', '=', 'video.captions.delete').execute());
    assert.equal(events.length, 1);
  });

  test('player pages: language, no inline code, framing only for /embed, hashed assets', async () => {
    const watch = await haven.request(`/watch/${videoId}?link=abc%22def`, { headers: { 'accept-language': 'fi-FI,fi;q=0.9,en;q=0.5' } });
    assert.equal(watch.status, 200);
    const html = await watch.text();
    assert.match(html, /<html lang="fi">/);
    assert.match(html, /data-link="abc&quot;def"/);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /<style|style=/, 'no inline style');
    assert.match(watch.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.equal(watch.headers.get('x-frame-options'), 'DENY');
    assert.match(await (await haven.request(`/watch/${videoId}?lang=de`)).text(), /<html lang="de">/);
    assert.match(await (await haven.request(`/watch/${videoId}?lang=xx`, { headers: { 'accept-language': 'sv' } })).text(), /<html lang="sv">/);

    assert.equal((await org.owner.call('PUT', `/api/v1/videos/${videoId}/access`, { audiences: [{ type: 'public' }], conditions: { referrers: ['intranet.example.com'] } })).status, 200);
    const embed = await haven.request(`/embed/${videoId}`);
    assert.equal(embed.status, 200);
    assert.match(embed.headers.get('content-security-policy')!, /frame-ancestors [^;]*intranet\.example\.com/);
    assert.equal(embed.headers.get('x-frame-options'), null);

    const script = /src="(\/player\/assets\/v\/[^"]+\/player\.js)"/.exec(html)![1]!;
    const asset = await haven.request(script);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type')!, /^text\/javascript/);
    assert.match(asset.headers.get('cache-control')!, /immutable/);
    const etag = asset.headers.get('etag')!;
    assert.equal((await haven.request('/player/assets/player.js', { headers: { 'if-none-match': etag } })).status, 304);
    const hls = await haven.request(script.replace('player.js', 'hls.mjs'));
    assert.equal(hls.status, 200);
    assert.doesNotMatch(await hls.text(), /sourceMappingURL/);
    assert.equal((await haven.request('/player/assets/../config.ts')).status, 404);
    for (const lang of ['en', 'sv', 'fi', 'de']) {
      const dict = await (await haven.request(script.replace('player.js', `i18n/${lang}.json`))).json() as Record<string, string>;
      const en = await (await haven.request(script.replace('player.js', 'i18n/en.json'))).json() as Record<string, string>;
      assert.deepEqual(Object.keys(dict).sort(), Object.keys(en).sort(), `${lang} has every string`);
    }
  });
});
