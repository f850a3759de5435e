// Viewer analytics against a real Haven: the tenant's policy decides exactly
// what a beacon leaves behind, bad beacons are refused, floods are cut off,
// and the roll-up, dashboards and CSV count what the beacons said.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { GrantBasis, ViewerIdentity } from '../src/modules/playback/contracts.ts';
import { createPlaybackTokens } from '../src/modules/playback/delivery/tokens.ts';
import { expectError } from './helpers/client.ts';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const PER_PLAYBACK_LIMIT = 30;
const DAY_MS = 86_400_000;

interface Ev { type: 'start' | 'progress' | 'quality' | 'rebuffer' | 'end'; at?: number; position: number; watched: number; rendition?: string; durationMs?: number }

describe('playback analytics', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  let video: string;
  let otherVideo: string;
  let tokens: ReturnType<typeof createPlaybackTokens>;
  const keys = sharedKeys();

  before(async () => {
    haven = await startTestHaven({
      // 127.0.0.1 is the trusted proxy: X-Forwarded-For gives the viewer's address.
      config: { ...keys, trustProxy: '127.0.0.1', analyticsBeaconsPerMinutePerPlayback: PER_PLAYBACK_LIMIT, analyticsFlushIntervalMs: 50 },
    });
    org = await createOrg(haven, 'Analytics Org');
    other = await createOrg(haven, 'Other Org');
    video = await insertVideo(haven, org, { title: 'Keynote', durationMs: 100_000 });
    otherVideo = await insertVideo(haven, other, { title: 'Theirs', durationMs: 100_000 });
    tokens = createPlaybackTokens(haven.platform.signingKey, { ttlSeconds: 600 });
  });
  after(() => haven.stop());

  const analytics = () => haven.modules.playback.analytics;

  function issue(videoId = video, tenant: Org = org, viewer: ViewerIdentity = { kind: 'anonymous', id: randomUUID() }) {
    const basis: GrantBasis = { tenantId: tenant.tenantId, videoId, region: tenant.region, policyVersion: 1, viewer, bindIp: false };
    return tokens.issue(basis, {});
  }

  async function beacon(t: { token: string; playbackId: string }, events: Ev[], headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
    const body = { token: t.token, playbackId: t.playbackId, events: events.map((e) => ({ at: Date.now(), ...e })), ...extra };
    const res = await haven.request('/api/v1/playback/beacons', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': CHROME_LINUX, 'x-forwarded-for': '8.8.8.8', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function session(playbackId: string) {
    await analytics().ingest.flush();
    return haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('analytics_sessions').selectAll().select(sql<string | null>`host(ip)`.as('ip_text')).where('playback_id', '=', playbackId).executeTakeFirst());
  }

  async function auditEvents(tenantId: string, action: string) {
    return haven.platform.db.withTenant(tenantId, (tx) =>
      tx.selectFrom('audit_events').select(['action', 'actor_type', 'diff', 'details', 'target_type']).where('tenant_id', '=', tenantId).where('action', '=', action).execute());
  }

  async function setSettings(settings: Record<string, unknown>) {
    const res = await org.owner.call('PUT', '/api/v1/analytics/settings', settings);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  test('settings: defaults, validation, roles and an audited diff', async () => {
    const defaults = await org.owner.get('/api/v1/analytics/settings');
    assert.deepEqual(defaults.body, { ipMode: 'none', ipv4MaskBits: 16, ipRetentionDays: null, sessionRetentionDays: 90, honorDoNotTrack: true, storeUserAgent: false });

    expectError(await org.owner.call('PUT', '/api/v1/analytics/settings', { ipMode: 'full' }), 400, 'invalid_request');
    expectError(await org.owner.call('PUT', '/api/v1/analytics/settings', { ipMode: 'full', ipRetentionDays: 366 }), 400, 'invalid_request');
    expectError(await org.owner.call('PUT', '/api/v1/analytics/settings', { ipMode: 'none', ipRetentionDays: 5 }), 400, 'invalid_request');
    expectError(await org.owner.call('PUT', '/api/v1/analytics/settings', { ipMode: 'masked', ipv4MaskBits: 8 }), 400, 'invalid_request');
    expectError(await org.owner.call('PUT', '/api/v1/analytics/settings', { ipMode: 'none', sessionRetentionDays: 0 }), 400, 'invalid_request');
    expectError(await org.owner.call('PUT', '/api/v1/analytics/settings', { ipMode: 'none', tracking: 'all' }), 400, 'invalid_request');
    const editor = await org.as('editor');
    expectError(await editor.call('PUT', '/api/v1/analytics/settings', { ipMode: 'none' }), 403, 'forbidden');
    expectError(await editor.get('/api/v1/analytics/settings'), 403, 'forbidden');

    const saved = await setSettings({ ipMode: 'masked', ipv4MaskBits: 24, sessionRetentionDays: 30 });
    assert.deepEqual(saved, { ipMode: 'masked', ipv4MaskBits: 24, ipRetentionDays: null, sessionRetentionDays: 30, honorDoNotTrack: true, storeUserAgent: false });
    assert.deepEqual((await org.owner.get('/api/v1/analytics/settings')).body, saved);
    const events = await auditEvents(org.tenantId, 'analytics.settings.update');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.actor_type, 'user');
    assert.deepEqual(events[0]!.diff, {
      ipMode: { from: 'none', to: 'masked' }, ipv4MaskBits: { from: 16, to: 24 }, sessionRetentionDays: { from: 90, to: 30 },
    }, 'only what changed');
    await setSettings({ ipMode: 'none' });
  });

  test('ipMode none: no IP, country from the offline database, device parsed, no raw user agent, anonymous viewer', async () => {
    const t = issue();
    assert.equal((await beacon(t, [{ type: 'start', position: 0, watched: 0, rendition: '240p' }], {}, { screen: { width: 1920, height: 1080 } })).status, 204);
    const s = await session(t.playbackId);
    assert.ok(s, 'the session was written');
    assert.equal(s.ip, null);
    assert.equal(s.country, 'US');
    assert.equal(s.device_class, 'desktop');
    assert.equal(s.os, 'Linux');
    assert.equal(s.browser, 'Chrome');
    assert.equal(s.user_agent, null);
    assert.equal(s.viewer_user_id, null);
    assert.equal(s.viewer_audience_id, null);
    assert.match(s.visitor_hash, /^[A-Za-z0-9_-]{32}$/);
    assert.deepEqual([s.screen_width, s.screen_height], [1920, 1080]);
    assert.deepEqual(s.renditions, ['240p']);
    // The salt of today exists; nothing older than yesterday does.
    const salts = await haven.platform.db.withPlatform((tx) => tx.selectFrom('analytics_salts').select('day').execute());
    assert.ok(salts.length >= 1 && salts.length <= 2);
  });

  test('ipMode masked: IPv4 to /16 or /24, IPv6 to /48; the same viewer hashes alike within a day', async () => {
    await setSettings({ ipMode: 'masked', ipv4MaskBits: 16 });
    const a = issue();
    await beacon(a, [{ type: 'start', position: 0, watched: 0 }], { 'x-forwarded-for': '8.8.4.4' });
    assert.equal((await session(a.playbackId))!.ip_text, '8.8.0.0');

    await setSettings({ ipMode: 'masked', ipv4MaskBits: 24 });
    const b = issue();
    await beacon(b, [{ type: 'start', position: 0, watched: 0 }], { 'x-forwarded-for': '8.8.4.4' });
    const sb = (await session(b.playbackId))!;
    assert.equal(sb.ip_text, '8.8.4.0');
    assert.equal(sb.visitor_hash, (await session(a.playbackId))!.visitor_hash, 'same address and browser, same day: one visitor');

    const c = issue();
    await beacon(c, [{ type: 'start', position: 0, watched: 0 }], { 'x-forwarded-for': '2001:4860:4860::8888', 'user-agent': SAFARI_IPHONE });
    const sc = (await session(c.playbackId))!;
    assert.equal(sc.ip_text, '2001:4860:4860::');
    assert.equal(sc.device_class, 'mobile');
    assert.equal(sc.os, 'iOS');
    assert.notEqual(sc.visitor_hash, sb.visitor_hash);
  });

  test('ipMode full keeps the address until ipRetentionDays pass, then the nightly job nulls it (audited)', async () => {
    await setSettings({ ipMode: 'full', ipRetentionDays: 7, storeUserAgent: true });
    const t = issue();
    await beacon(t, [{ type: 'start', position: 0, watched: 0 }], { 'x-forwarded-for': '81.2.69.142' });
    let s = (await session(t.playbackId))!;
    assert.equal(s.ip_text, '81.2.69.142');
    assert.equal(s.country, 'GB');
    assert.equal(s.user_agent, CHROME_LINUX, 'storeUserAgent keeps the raw header');

    // Eight days pass for this session.
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('analytics_sessions')
      .set({ started_at: new Date(Date.now() - 8 * DAY_MS), last_event_at: new Date(Date.now() - 8 * DAY_MS), day: new Date(Date.now() - 8 * DAY_MS).toISOString().slice(0, 10) })
      .where('playback_id', '=', t.playbackId).execute());
    const run = await analytics().nightly.run();
    const mine = run.tenants.find((r) => r.tenantId === org.tenantId)!;
    assert.ok(mine.ipsNulled >= 1);
    s = (await session(t.playbackId))!;
    assert.equal(s.ip, null, 'the address is gone after its retention');
    assert.equal(s.country, 'GB', 'the session itself stays');
    const retention = await auditEvents(org.tenantId, 'analytics.retention');
    assert.ok(retention.some((e) => e.actor_type === 'system' && (e.details as { ipsNulled: number }).ipsNulled >= 1));

    // Turning the IP off clears what was kept; turning the user agent off clears those.
    const u = issue();
    await beacon(u, [{ type: 'start', position: 0, watched: 0 }]);
    assert.equal((await session(u.playbackId))!.ip_text, '8.8.8.8');
    await setSettings({ ipMode: 'none' });
    const cleared = (await session(u.playbackId))!;
    assert.equal(cleared.ip, null);
    assert.equal(cleared.user_agent, null);
  });

  test('Do Not Track and Global Privacy Control: no session, only the anonymous daily count', async () => {
    const t = issue();
    assert.equal((await beacon(t, [{ type: 'start', position: 0, watched: 0 }], { dnt: '1' })).status, 204);
    const g = issue();
    assert.equal((await beacon(g, [{ type: 'start', position: 0, watched: 0 }], { 'sec-gpc': '1' })).status, 204);
    await beacon(g, [{ type: 'progress', position: 10, watched: 10 }], { 'sec-gpc': '1' });
    assert.equal(await session(t.playbackId), undefined);
    assert.equal(await session(g.playbackId), undefined);
    const counted = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      tx.selectFrom('analytics_anonymous_views').select('views').where('video_id', '=', video).executeTakeFirst());
    assert.equal(counted?.views, 2, 'one view per start, nothing else');
  });

  test('a signed-in member is linked by user id; an audience viewer by audience id', async () => {
    const userId = randomUUID();
    const m = issue(video, org, { kind: 'member', id: userId, sessionId: randomUUID() });
    await beacon(m, [{ type: 'start', position: 0, watched: 0 }]);
    assert.equal((await session(m.playbackId))!.viewer_user_id, userId);
    const a = issue(video, org, { kind: 'audience', id: 'aud-42' });
    await beacon(a, [{ type: 'start', position: 0, watched: 0 }]);
    const s = (await session(a.playbackId))!;
    assert.equal(s.viewer_audience_id, 'aud-42');
    assert.equal(s.viewer_user_id, null);
  });

  test('a member whose processing is restricted (GDPR Art. 18) is not tracked; lifting it resumes tracking', async () => {
    const userId = randomUUID();
    await haven.platform.db.withTenant(org.tenantId, (tx) => sql`insert into privacy_restrictions (tenant_id, subject_kind, subject_id) values (${org.tenantId}, 'user', ${userId})`.execute(tx));
    const restricted = issue(video, org, { kind: 'member', id: userId, sessionId: randomUUID() });
    assert.equal((await beacon(restricted, [{ type: 'start', position: 0, watched: 0 }])).status, 204);
    assert.equal(await session(restricted.playbackId), undefined, 'no session for a restricted viewer');
    await haven.platform.db.withTenant(org.tenantId, (tx) => sql`update privacy_restrictions set lifted_at = now() where subject_id = ${userId}`.execute(tx));
    const lifted = issue(video, org, { kind: 'member', id: userId, sessionId: randomUUID() });
    await beacon(lifted, [{ type: 'start', position: 0, watched: 0 }]);
    assert.equal((await session(lifted.playbackId))!.viewer_user_id, userId);
  });

  test('what the player sends is taken with caps: a 20-minute stall counts 10, a zero screen is not kept', async () => {
    const t = issue();
    const res = await beacon(t, [{ type: 'start', position: 0, watched: 0, at: 1234 }, { type: 'rebuffer', position: 1, watched: 1, durationMs: 20 * 60_000 }], {}, { screen: { width: 0, height: 0 } });
    assert.equal(res.status, 204);
    const s = (await session(t.playbackId))!;
    assert.equal(Number(s.rebuffer_ms), 10 * 60_000);
    assert.equal(s.screen_width, null);
  });

  test('malformed, oversized, forged or mismatched beacons are refused', async () => {
    const t = issue();
    const post = (body: string, contentType = 'application/json') =>
      haven.request('/api/v1/playback/beacons', { method: 'POST', headers: { 'content-type': contentType }, body }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json().catch(() => undefined) as any }));
    const ok = { token: t.token, playbackId: t.playbackId, events: [{ type: 'start', at: Date.now(), position: 0, watched: 0 }] };

    // text/plain, as navigator.sendBeacon sends a string
    assert.equal((await post(JSON.stringify(ok), 'text/plain;charset=UTF-8')).status, 204);
    expectError(await post('{not json', 'text/plain'), 400, 'malformed_json');
    expectError(await post(JSON.stringify({ ...ok, events: [{ ...ok.events[0], position: 'ten' }] })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, events: [{ ...ok.events[0], type: 'pause' }] })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, events: [] })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, events: Array(51).fill(ok.events[0]) })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, viewerEmail: 'x@y.z' })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, events: [{ ...ok.events[0], secret: 1 }] })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, events: [{ ...ok.events[0], watched: -1 }] })), 400, 'invalid_request');
    expectError(await post(JSON.stringify({ ...ok, pad: 'x'.repeat(17 * 1024) })), 413, 'payload_too_large');
    expectError(await post(JSON.stringify({ ...ok, pad: 'x'.repeat(17 * 1024) }), 'text/plain'), 413, 'payload_too_large');
    // forged: a token of another signing key, a tampered one, and garbage
    const foreign = createPlaybackTokens(Buffer.alloc(32, 7), { ttlSeconds: 600 }).issue(
      { tenantId: org.tenantId, videoId: video, region: org.region, policyVersion: 1, viewer: { kind: 'anonymous', id: randomUUID() }, bindIp: false }, {});
    expectError(await post(JSON.stringify({ ...ok, token: foreign.token, playbackId: foreign.playbackId })), 403, 'playback_token_invalid');
    expectError(await post(JSON.stringify({ ...ok, token: `${t.token.slice(0, -2)}AA` })), 403, 'playback_token_invalid');
    expectError(await post(JSON.stringify({ ...ok, token: 'nope' })), 403, 'playback_token_invalid');
    // another playback's id with this token
    expectError(await post(JSON.stringify({ ...ok, playbackId: randomUUID() })), 403, 'playback_token_invalid');
    // expired longer ago than the grace period
    const old = createPlaybackTokens(haven.platform.signingKey, { ttlSeconds: 30, now: () => new Date(Date.now() - 3 * 3600_000) }).issue(
      { tenantId: org.tenantId, videoId: video, region: org.region, policyVersion: 1, viewer: { kind: 'anonymous', id: randomUUID() }, bindIp: false }, {});
    expectError(await post(JSON.stringify({ ...ok, token: old.token, playbackId: old.playbackId })), 403, 'playback_token_invalid');
    // A session cookie with no CSRF token does not get in the way (the token is the credential).
    const res = await haven.request('/api/v1/playback/beacons', { method: 'POST', headers: { 'content-type': 'text/plain', cookie: org.owner.cookie! }, body: JSON.stringify(ok) });
    assert.equal(res.status, 204);
  });

  test('a flood from one playback is cut off with 429', async () => {
    const t = issue();
    const statuses: number[] = [];
    for (let i = 0; i < PER_PLAYBACK_LIMIT + 10; i++) statuses.push((await beacon(t, [{ type: 'progress', position: i, watched: i }])).status);
    assert.equal(statuses.filter((s) => s === 204).length, PER_PLAYBACK_LIMIT);
    assert.equal(statuses.filter((s) => s === 429).length, 10);
    const limited = await beacon(t, [{ type: 'progress', position: 1, watched: 1 }]);
    expectError(limited, 429, 'rate_limited');
  });

  test('sessions, roll-up and dashboards count what the beacons said; re-running a day replaces it', async () => {
    const v = await insertVideo(haven, org, { title: '=cmd|calc, "quoted"', durationMs: 100_000 });
    // Completes: reaches 95 of 100 s.
    const a = issue(v);
    await beacon(a, [{ type: 'start', position: 0, watched: 0, rendition: '360p' }]);
    await beacon(a, [{ type: 'quality', position: 40, watched: 40, rendition: '720p' }, { type: 'end', position: 95, watched: 95, rendition: '720p' }]);
    // Half-way with two rebuffers, from a phone in Finland.
    const b = issue(v);
    await beacon(b, [
      { type: 'start', position: 0, watched: 0, rendition: '360p' },
      { type: 'rebuffer', position: 12, watched: 12, durationMs: 400 },
      { type: 'rebuffer', position: 20, watched: 20, durationMs: 600 },
      { type: 'progress', position: 30, watched: 30 },
    ], { 'x-forwarded-for': '193.166.3.1', 'user-agent': SAFARI_IPHONE });
    // Claims ten thousand seconds of a 100 s video: capped at duration plus slack (100 × 1.1 + 10).
    const c = issue(v);
    await beacon(c, [{ type: 'progress', position: 60, watched: 10_000 }]);
    // Asked not to be tracked.
    await beacon(issue(v), [{ type: 'start', position: 0, watched: 0 }], { dnt: '1' });
    await analytics().ingest.flush();

    const sc = (await session(c.playbackId))!;
    assert.equal(sc.watch_seconds, 120);
    assert.equal(sc.max_position, 60);
    assert.equal((await session(a.playbackId))!.completed, true);
    assert.equal((await session(b.playbackId))!.completed, false);

    const today = new Date().toISOString().slice(0, 10);
    const check = (r: any, day: string) => {
      assert.equal(r.totals.views, 4);
      assert.equal(r.totals.anonymousViews, 1);
      assert.equal(r.totals.watchSeconds, 95 + 30 + 120);
      assert.equal(r.totals.completions, 1);
      assert.equal(r.totals.completionRate, 0.333);
      assert.equal(r.totals.uniqueViewersEstimate, 2, 'two browsers on two addresses, a and c share one');
      assert.deepEqual(r.countries, { US: 2, FI: 1 });
      assert.deepEqual(r.devices.classes, { desktop: 2, mobile: 1 });
      assert.deepEqual(r.devices.os, { Linux: 2, iOS: 1 });
      assert.deepEqual(r.quality.renditions, { '360p': 2, '720p': 1 });
      assert.equal(r.quality.qualitySwitches, 1);
      assert.equal(r.quality.rebufferCount, 2);
      assert.equal(r.quality.rebufferMs, 1000);
      assert.deepEqual(r.days.find((d: any) => d.day === day), { day, views: 4, uniqueViewersEstimate: 2, watchSeconds: 245, completions: 1 });
    };
    // Today: from the raw sessions.
    const live = await org.owner.get(`/api/v1/analytics/videos/${v}?from=${today}&to=${today}`);
    assert.equal(live.status, 200, JSON.stringify(live.body));
    check(live.body, today);

    // The sessions move to yesterday; the nightly job rolls that day up.
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    await haven.platform.db.withTenant(org.tenantId, async (tx) => {
      await tx.updateTable('analytics_sessions').set({ day: yesterday, started_at: sql`started_at - interval '1 day'`, last_event_at: sql`last_event_at - interval '1 day'` }).where('video_id', '=', v).execute();
      await tx.updateTable('analytics_anonymous_views').set({ day: yesterday }).where('video_id', '=', v).execute();
    });
    const run = await analytics().nightly.run();
    assert.ok(run.tenants.find((r) => r.tenantId === org.tenantId)!.daysRolledUp.includes(yesterday));
    const daily = () => haven.platform.db.withTenant(org.tenantId, (tx) => tx.selectFrom('analytics_daily').selectAll().where('video_id', '=', v).execute());
    const rows = await daily();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.views, 4);
    assert.equal(rows[0]!.completions, 1);
    assert.equal(rows[0]!.unique_viewers_estimate, 2);
    assert.deepEqual(rows[0]!.countries, { US: 2, FI: 1 });
    assert.ok((await auditEvents(org.tenantId, 'analytics.rollup')).some((e) => e.actor_type === 'system'));

    // Yesterday now comes from the aggregate, with the same numbers.
    const rolled = await org.owner.get(`/api/v1/analytics/videos/${v}?from=${yesterday}&to=${today}`);
    check(rolled.body, yesterday);
    // Idempotent: rolling the day again replaces its row, it does not add one.
    await analytics().nightly.rollUpDay(org.tenantId, yesterday);
    assert.equal((await daily()).length, 1);
    assert.equal((await daily())[0]!.views, 4);
    // A second nightly run finds nothing new to roll up.
    const again = await analytics().nightly.run();
    assert.ok(!again.tenants.find((r) => r.tenantId === org.tenantId)?.daysRolledUp.includes(yesterday));

    // The tenant summary includes this video.
    const summary = await org.owner.get(`/api/v1/analytics/summary?from=${yesterday}&to=${yesterday}`);
    assert.equal(summary.status, 200);
    assert.ok(summary.body.totals.views >= 4);

    // Roles, bad ranges and other tenants.
    const editor = await org.as('editor');
    assert.equal((await editor.get(`/api/v1/analytics/videos/${v}`)).status, 200);
    expectError(await (await org.as('viewer')).get('/api/v1/analytics/summary'), 403, 'forbidden');
    expectError(await org.owner.get(`/api/v1/analytics/videos/${otherVideo}`), 404, 'video_not_found');
    expectError(await org.owner.get('/api/v1/analytics/summary?from=2024-02-30'), 400, 'invalid_request');
    expectError(await org.owner.get(`/api/v1/analytics/summary?from=${today}&to=${yesterday}`), 400, 'invalid_range');
    expectError(await org.owner.get('/api/v1/analytics/summary?from=2020-01-01&to=2024-01-01'), 400, 'invalid_range');
    const theirs = await other.owner.get('/api/v1/analytics/summary');
    assert.equal(theirs.body.totals.views, 0, 'another tenant sees none of these views');

    // CSV: one row per day per video, formulas defused, the export audited.
    const csv = await org.owner.call('GET', `/api/v1/analytics/export.csv?from=${yesterday}&to=${today}&videoId=${v}`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    const lines = (csv.body as string).trim().split('\n');
    assert.equal(lines[0], 'day,video_id,title,views,anonymous_views,unique_viewers_estimate,watch_seconds,completions,completion_rate,quality_switches,rebuffer_count,rebuffer_ms');
    assert.deepEqual(lines.slice(1), [`${yesterday},${v},"'=cmd|calc, ""quoted""",4,1,2,245,1,0.333,1,2,1000`]);
    const exports = await auditEvents(org.tenantId, 'analytics.export');
    assert.equal(exports.length, 1);
    assert.deepEqual(exports[0]!.details, { from: yesterday, to: today, format: 'csv' });
    expectError(await org.owner.call('GET', `/api/v1/analytics/export.csv?videoId=${otherVideo}`), 404, 'video_not_found');
  });

  test('raw sessions past sessionRetentionDays are deleted after they were rolled up; the aggregate stays', async () => {
    await setSettings({ ipMode: 'none', sessionRetentionDays: 1 });
    const v = await insertVideo(haven, org, { title: 'Old', durationMs: 60_000 });
    const t = issue(v);
    await beacon(t, [{ type: 'start', position: 0, watched: 0 }, { type: 'end', position: 60, watched: 60 }]);
    await analytics().ingest.flush();
    const threeDaysAgo = new Date(Date.now() - 3 * DAY_MS);
    const day = threeDaysAgo.toISOString().slice(0, 10);
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('analytics_sessions')
      .set({ day, started_at: threeDaysAgo, last_event_at: threeDaysAgo }).where('playback_id', '=', t.playbackId).execute());
    const run = await analytics().nightly.run();
    const mine = run.tenants.find((r) => r.tenantId === org.tenantId)!;
    assert.ok(mine.daysRolledUp.includes(day), 'rolled up before it was deleted');
    assert.ok(mine.sessionsDeleted >= 1);
    assert.equal(await session(t.playbackId), undefined);
    const r = await org.owner.get(`/api/v1/analytics/videos/${v}?from=${day}&to=${day}`);
    assert.equal(r.body.totals.views, 1);
    assert.equal(r.body.totals.completions, 1);
    assert.ok((await auditEvents(org.tenantId, 'analytics.retention')).some((e) => (e.details as { sessionsDeleted: number }).sessionsDeleted >= 1));
    await setSettings({ ipMode: 'none' });
  });

  test('beacons buffered at shutdown are written when the server closes', async () => {
    const second = await startTestHaven({ database: haven.database, config: { trustProxy: '127.0.0.1', ...keys, analyticsFlushIntervalMs: 10_000 } });
    const t = issue();
    const res = await second.request('/api/v1/playback/beacons', {
      method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': CHROME_LINUX },
      body: JSON.stringify({ token: t.token, playbackId: t.playbackId, events: [{ type: 'start', at: Date.now(), position: 0, watched: 0 }] }),
    });
    assert.equal(res.status, 204);
    assert.equal(second.modules.playback.analytics.ingest.pending(), 1, 'still buffered (the flush interval is long)');
    await second.stop();
    assert.ok(await session(t.playbackId), 'written on close');
  });
});
