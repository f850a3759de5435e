// The player in a real browser (Debian's Chromium through playwright-core)
// against a real Haven: a clip uploaded through the media pipeline, played
// from its encrypted HLS ladder under each kind of access policy. Every
// request the browser makes is recorded: all of them must go to Haven.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeClip } from './fixtures/media-clips.ts';
import { tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { launchBrowser } from './helpers/browser.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, type Org } from './helpers/library.ts';

// On top of the harness's CHROMIUM_ARGS (launchBrowser).
const EXTRA_CHROMIUM_ARGS = ['--mute-audio', '--autoplay-policy=no-user-gesture-required',
  // Sites that embed or link to the player, all served by the test's second server on this machine.
  '--host-resolver-rules=MAP partner.example 127.0.0.1, MAP elsewhere.example 127.0.0.1'];

// ---- a real OpenID provider (oidc-provider) with its own login form ----

interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
}
interface LoginIdp { issuer: string; clientId: string; clientSecret: string; logins: string[]; close(): Promise<void> }

/** An IdP whose interaction page is an HTML sign-in form (user "pat", password below), as a viewer meets it. */
async function startLoginIdp(redirectUri: string): Promise<LoginIdp> {
  const moduleName = 'oidc-provider';
  const { Provider } = (await import(moduleName)) as { Provider: new (issuer: string, config: object) => OidcProvider };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const accounts = new Map([['pat', { password: 'aurora borealis 7', claims: { email: 'pat@partner.test', email_verified: true } }]]);
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const idp: LoginIdp = {
    issuer, clientId: 'haven-player-audience', clientSecret: randomBytes(24).toString('base64url'), logins: [],
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const provider = new Provider(issuer, {
    clients: [{ client_id: idp.clientId, client_secret: idp.clientSecret, redirect_uris: [redirectUri], response_types: ['code'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_post' }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'player-idp-1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: false } },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    async loadExistingGrant(ctx: any) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
  });
  const serve = provider.callback();
  handle = (req, res) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(req.url ?? '');
    if (!m) return serve(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Partner sign-in</title><form method="post" action="/interaction/${m[1]}/login">
        <label>User <input id="idp-user" name="user"></label><label>Password <input id="idp-password" name="password" type="password"></label>
        <button id="idp-submit" type="submit">Sign in</button></form>`);
      return;
    }
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const user = form.get('user') ?? '';
      const ok = accounts.get(user)?.password === form.get('password');
      idp.logins.push(`${user}:${ok ? 'ok' : 'refused'}`);
      if (!ok) {
        res.writeHead(401, { 'content-type': 'text/html' }).end(`<!doctype html><p id="idp-error">Wrong user or password.</p><a id="idp-retry" href="/interaction/${m[1]}">Try again</a>`);
        return;
      }
      provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false }).catch((err: Error) => res.writeHead(500).end(err.message));
    });
  };
  return idp;
}

interface Opened { page: Page; requests: string[]; responses: { url: string; status: number }[] }

describe('player in Chromium', () => {
  let haven: TestHaven;
  let org: Org;
  let videoId: string;
  let browser: Browser;
  let partner: Server;
  let partnerPort = 0;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-player-'));
    haven = await startTestHaven();
    org = await createOrg(haven, 'Player Org');
    // 360 lines: the ladder is 240p and 360p.
    const clip = readFileSync(makeClip(dir, 'clip', { width: 640, height: 360, seconds: 4 }));
    const launched = launchBrowser(EXTRA_CHROMIUM_ARGS);
    ({ videoId } = await tusUpload(haven.url, org.owner, clip, { title: 'Aurora briefing' }));
    const ready = await waitForStatus(org.owner, videoId, 'ready', 60_000);
    assert.deepEqual(ready.renditions.filter((r: any) => r.kind !== 'audio').map((r: any) => r.name).sort(), ['240p', '360p']);
    assert.equal((await org.owner.patch(`/api/v1/videos/${videoId}`, { publishState: 'published' })).status, 200);
    const caption = await fetch(new URL(`/api/v1/videos/${videoId}/captions/en`, haven.url), {
      method: 'PUT', headers: { cookie: org.owner.cookie!, 'x-csrf-token': org.owner.csrf!, 'content-type': 'text/vtt' },
      body: 'WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nNorthern lights ahead.\n',
    });
    assert.equal(caption.status, 201);
    // The embedding and linking sites: a page with a link to the player, and one that frames it.
    partner = createServer((req, res) => {
      const target = new URL(req.url!, 'http://x').searchParams.get('to') ?? '/';
      res.setHeader('content-type', 'text/html');
      res.end(req.url!.startsWith('/frame')
        ? `<!doctype html><iframe id="player" src="${haven.url}${target}" width="640" height="400"></iframe>`
        : `<!doctype html><a id="go" href="${haven.url}${target}">watch</a>`);
    });
    await new Promise<void>((r) => partner.listen(0, '127.0.0.1', r));
    partnerPort = (partner.address() as { port: number }).port;
    browser = await launched;
  });

  after(async () => {
    await browser?.close();
    partner?.close();
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const setPolicy = async (policy: unknown) => {
    const res = await org.owner.call('PUT', `/api/v1/videos/${videoId}/access`, policy);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  async function open(context: BrowserContext, url: string): Promise<Opened> {
    const page = await context.newPage();
    const requests: string[] = [];
    const responses: { url: string; status: number }[] = [];
    page.on('request', (r) => void requests.push(r.url()));
    page.on('response', (r) => void responses.push({ url: r.url(), status: r.status() }));
    page.on('pageerror', (e) => void requests.push(`pageerror:${e.message}`));
    if (process.env.DEBUG_PLAYER) {
      page.on('console', (m) => console.log('console', m.type(), m.text()));
      page.on('response', (r) => console.log('response', r.status(), r.url().replace(/\/play\/[^/]+\//, '/play/T/')));
    }
    await page.goto(url);
    return { page, requests, responses };
  }

  async function play(page: Page): Promise<void> {
    await page.waitForSelector('#haven-player[data-state="ready"]', { timeout: 10_000 });
    await page.click('.haven-play');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('video').currentTime > 0.3, null, { timeout: 15_000 });
  }

  const showsError = (page: Page, code: string) => page.waitForSelector(`#haven-player[data-error="${code}"] .haven-message`, { timeout: 10_000 });

  function onlyHaven(requests: string[]): void {
    const origin = new URL(haven.url).origin;
    const foreign = requests.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:') && new URL(u).origin !== origin);
    assert.deepEqual(foreign, [], 'every request goes to Haven');
    assert.deepEqual(requests.filter((u) => u.startsWith('pageerror:')), [], 'no script errors');
  }

  test('public: plays, switches quality from the menu, keyboard and captions work, every byte from Haven', async () => {
    await setPolicy({ audiences: [{ type: 'public' }] });
    const context = await browser.newContext();
    const { page, requests } = await open(context, `${haven.url}/watch/${videoId}?lang=sv`);
    await play(page);
    assert.equal(await page.getAttribute('.haven-play', 'aria-label'), 'Pausa', 'labels in the page language');
    assert.equal(await page.title(), 'Aurora briefing');

    // The token is renewed in place: later requests (the other rendition, below) carry the new one.
    const before = await page.evaluate(() => (globalThis as any).document.getElementById('haven-player').havenPlayer.token as string);
    await page.evaluate(() => (globalThis as any).document.getElementById('haven-player').havenPlayer.renewToken());
    const renewed = await page.evaluate(() => (globalThis as any).document.getElementById('haven-player').havenPlayer.token as string);
    assert.notEqual(renewed, before);
    const renewedAt = requests.length;

    // Quality: pick the rendition that is not playing now and see hls.js load it.
    await page.waitForSelector('.haven-quality-btn:not([hidden])');
    const current = await page.getAttribute('#haven-player', 'data-level');
    const other = current === '240p' ? '360p' : '240p';
    await page.click('.haven-quality-btn');
    await page.click(`.haven-quality-menu button:text-is("${other}")`);
    await page.waitForFunction((name) => (globalThis as any).document.getElementById('haven-player').dataset.level === name, other, { timeout: 10_000 });
    assert.ok(requests.some((u) => u.includes(`/${other}/`) && /seg-\d+\.m4s|index\.m3u8/.test(u)), `hls.js loaded ${other}`);
    assert.ok(requests.some((u) => /\/play\/[^/]+\/key/.test(u)), 'the key came from Haven');
    const otherLoads = requests.slice(renewedAt).filter((u) => u.includes(`/${other}/`));
    assert.ok(otherLoads.length > 0 && otherLoads.every((u) => u.includes(renewed)), 'requests after the renewal use the new token');

    // Keyboard: Space pauses and plays again; C turns captions on.
    await page.focus('#haven-player');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('video').paused);
    await page.keyboard.press('Space');
    await page.waitForFunction(() => !(globalThis as any).document.querySelector('video').paused);
    const track = page.waitForResponse((r) => /\/play\/[^/]+\/captions\/en\.vtt$/.test(r.url()));
    await page.keyboard.press('c');
    assert.equal((await track).status(), 200);
    await page.waitForFunction(() => (globalThis as any).document.querySelector('video').textTracks[0]?.mode === 'showing');
    assert.ok(requests.some((u) => /\/play\/[^/]+\/captions\/en\.vtt$/.test(u)), 'the caption track came from Haven');

    await page.close();
    onlyHaven(requests);
    assert.ok(requests.some((u) => u.endsWith('/api/v1/playback/beacons')), 'view beacons were sent');
    await context.close();
  });

  test('unlisted link: plays with the link, and a revoked link stops at the next key fetch', async () => {
    await setPolicy({ audiences: [{ type: 'link' }] });
    const link = await org.owner.post(`/api/v1/videos/${videoId}/links`, { label: 'press' });
    assert.equal(link.status, 201);
    const context = await browser.newContext();
    const without = await open(context, `${haven.url}/watch/${videoId}`);
    await showsError(without.page, 'link_required');
    const { page, requests, responses } = await open(context, `${haven.url}/watch/${videoId}?link=${encodeURIComponent(link.body.secret)}`);
    await play(page);

    assert.equal((await org.owner.delete(`/api/v1/videos/${videoId}/links/${link.body.id}`)).status, 204);
    // A fresh hls.js instance on the same token must fetch the key again.
    await page.evaluate(() => (globalThis as any).document.getElementById('haven-player').havenPlayer.restart());
    await showsError(page, 'link_revoked');
    assert.ok(responses.some((r) => /\/play\/[^/]+\/key/.test(r.url) && r.status === 403), 'the key request was refused');
    assert.match((await page.textContent('.haven-message'))!, /withdrawn/);
    onlyHaven(requests);
    await context.close();
  });

  test('members: a signed-in member plays, an anonymous viewer is asked to sign in', async () => {
    await setPolicy({ audiences: [{ type: 'members' }] });
    const anonymous = await browser.newContext();
    const refused = await open(anonymous, `${haven.url}/watch/${videoId}?lang=de`);
    await showsError(refused.page, 'signin_required');
    assert.match((await refused.page.textContent('.haven-message'))!, /Melden Sie sich/);
    await anonymous.close();

    const member = await browser.newContext();
    const [name, value] = org.owner.cookie!.split('=') as [string, string];
    await member.addCookies([{ name, value, url: haven.url }]);
    const { page, requests } = await open(member, `${haven.url}/watch/${videoId}`);
    await play(page);
    onlyHaven(requests);
    await member.close();
  });

  test('password: the prompt refuses a wrong password and plays after the right one', async () => {
    await setPolicy({ audiences: [{ type: 'password' }], password: 'northern lights 42' });
    const context = await browser.newContext();
    const { page, requests } = await open(context, `${haven.url}/watch/${videoId}`);
    await page.waitForSelector('#haven-password');
    await page.fill('#haven-password', 'southern lights');
    await page.press('#haven-password', 'Enter');
    await page.waitForSelector('.haven-password .haven-error');
    await page.fill('#haven-password', 'northern lights 42');
    await page.click('.haven-password button[type="submit"]');
    await play(page);
    onlyHaven(requests);
    await context.close();
  });

  test('IP allow-list: this machine\'s range plays, any other is refused', async () => {
    await setPolicy({ audiences: [{ type: 'public' }], conditions: { ipAllow: ['127.0.0.0/8', '::1/128'] } });
    const context = await browser.newContext();
    const allowed = await open(context, `${haven.url}/watch/${videoId}`);
    await play(allowed.page);
    // Done with it: closed, its video does not keep playing (decoding, painting) beside the next page.
    await allowed.page.close();
    await setPolicy({ audiences: [{ type: 'public' }], conditions: { ipAllow: ['192.0.2.0/24'] } });
    const refused = await open(context, `${haven.url}/watch/${videoId}`);
    await showsError(refused.page, 'ip_not_allowed');
    onlyHaven([...allowed.requests, ...refused.requests]);
    await context.close();
  });

  test('referrer allow-list: from an allowed site it plays, from another it is refused', async () => {
    await setPolicy({ audiences: [{ type: 'public' }], conditions: { referrers: ['partner.example'] } });
    const context = await browser.newContext();
    const allowed = await context.newPage();
    await allowed.goto(`http://partner.example:${partnerPort}/link?to=${encodeURIComponent(`/watch/${videoId}`)}`);
    await Promise.all([allowed.waitForURL(`${haven.url}/watch/${videoId}`), allowed.click('#go')]);
    await play(allowed);
    await allowed.close();

    const refused = await context.newPage();
    await refused.goto(`http://elsewhere.example:${partnerPort}/link?to=${encodeURIComponent(`/watch/${videoId}`)}`);
    await Promise.all([refused.waitForURL(`${haven.url}/watch/${videoId}`), refused.click('#go')]);
    await showsError(refused, 'referrer_not_allowed');

    // A site outside the list cannot frame the embed page at all (frame-ancestors).
    const framing = await context.newPage();
    const embedLoads: number[] = [];
    framing.on('response', (r) => { if (r.url().includes('/embed/')) embedLoads.push(r.status()); });
    await framing.goto(`http://elsewhere.example:${partnerPort}/frame?to=${encodeURIComponent(`/embed/${videoId}`)}`);
    await framing.waitForTimeout(500);
    const frame = framing.frames().find((f) => f.url().includes('/embed/'));
    assert.ok(!frame || !(await frame.$('#haven-player').catch(() => null)), 'the embed page was not rendered inside a foreign site');
    await context.close();
  });
  test('SSO audience: the player offers the sign-in, the provider\'s form signs in, and it plays back on /watch', async () => {
    const idp = await startLoginIdp(`${haven.url}/api/v1/audience/sso/callback`);
    try {
      const created = await org.owner.post('/api/v1/sso/providers', { name: 'Partners', preset: 'generic', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await setPolicy({ audiences: [{ type: 'sso', emailDomains: ['partner.test'] }] });
      const context = await browser.newContext();
      const { page, requests, responses } = await open(context, `${haven.url}/watch/${videoId}`);
      await showsError(page, 'sso_required');
      await page.waitForSelector('a.haven-sso');
      assert.match((await page.textContent('a.haven-sso'))!, /Partners/);

      // To the provider's own page, its form in this browser; a wrong password stays there.
      await Promise.all([page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/interaction/`)), page.click('a.haven-sso')]);
      const formUrl = page.url();
      await page.fill('#idp-user', 'pat');
      await page.fill('#idp-password', 'wrong password');
      await Promise.all([page.waitForSelector('#idp-error'), page.click('#idp-submit')]);
      assert.match((await page.textContent('#idp-error'))!, /Wrong/);
      await page.goto(formUrl);
      await page.fill('#idp-user', 'pat');
      await page.fill('#idp-password', 'aurora borealis 7');
      await Promise.all([page.waitForURL(`${haven.url}/watch/${videoId}`, { timeout: 15_000 }), page.click('#idp-submit')]);
      assert.deepEqual(idp.logins, ['pat:refused', 'pat:ok']);
      assert.ok((await context.cookies(haven.url)).some((c) => c.name === 'haven_audience' && c.httpOnly), 'an audience session cookie');

      await play(page);
      assert.ok(responses.some((r) => /\/play\/[^/]+\/key$/.test(r.url) && r.status === 200), 'the key was served to the audience viewer');
      // After the sign-in, everything the player loads comes from Haven.
      const back = requests.lastIndexOf(`${haven.url}/watch/${videoId}`);
      assert.ok(back > 0, 'the provider sent the browser back to the watch page');
      onlyHaven(requests.slice(back));
      await context.close();
    } finally {
      await idp.close();
    }
  });
});
