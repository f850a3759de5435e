// The web app's shell in real Chromium against a real Haven: serving and
// CSP, sign-in (password, TOTP, wrong password), the consent gate, language
// switching, an expired session, network failure with retry, accessibility
// and small screens; and that the checked-in API types match the server.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { renderWebClientSchema, webSchemaPath } from '../scripts/generate-web-client.ts';
import { assertSameOrigin, type Browser, expectNoA11yViolations, hasHorizontalScroll, launchBrowser, openPage, screenshot } from './helpers/browser.ts';
import { ApiClient } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';
/** The language chunks a page loaded (web/src/features/<feature>/messages/<language>.ts, English excepted). */
const languageChunks = (requests: string[]) => [...new Set(requests.map((u) => /\/assets\/(sv|fi|de)-[\w-]+\.js$/.exec(new URL(u).pathname)?.[1]).filter(Boolean))];
/** Chromium logs the expected 401 of GET /api/v1/auth/session when signed out; nothing else may appear. */
const realErrors = (errors: string[]) => errors.filter((e) => !/Failed to load resource: the server responded with a status of 40[13]/.test(e));

describe('web shell in Chromium', () => {
  let haven: TestHaven;
  let browser: Browser;
  let owner: ApiClient;

  before(async () => {
    const launched = launchBrowser();
    haven = await startTestHaven();
    await haven.modules.setup({ tenantName: 'Acme Media', adminEmail: 'owner@acme.test', adminPassword: PASSWORD });
    owner = new ApiClient(haven.url);
    await owner.signIn('owner@acme.test', PASSWORD);
    await acceptAll(owner);
    browser = await launched;
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
  });

  async function acceptAll(api: ApiClient): Promise<void> {
    const docs = await api.get('/api/v1/consent');
    assert.equal(docs.status, 200, JSON.stringify(docs.body));
    for (const d of docs.body.items) if (d.decision !== 'accepted') assert.equal((await api.post(`/api/v1/consent/${d.id}`, { decision: 'accepted' })).status, 200);
  }

  /** A member added by the owner, given a password through the reset mail, consents settled. */
  async function member(email: string, role = 'editor'): Promise<ApiClient> {
    const added = await owner.post('/api/v1/users', { email, role });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const outbox = join(haven.dataDir, 'mail-outbox');
    const list = () => { try { return readdirSync(outbox); } catch { return []; } };
    const seen = new Set(list());
    assert.equal((await new ApiClient(haven.url).post('/api/v1/auth/password-reset', { email })).status, 202);
    let token: string | undefined;
    for (let i = 0; i < 50 && !token; i++) {
      for (const f of list().filter((f) => !seen.has(f))) {
        const raw = readFileSync(join(outbox, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const m = /token=(rst_[A-Za-z0-9_-]+)/.exec(raw);
        if (m && raw.includes(email.split('@')[0]!)) token = m[1];
      }
      if (!token) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(token, `no reset mail for ${email}`);
    assert.equal((await new ApiClient(haven.url).post('/api/v1/auth/password-reset/confirm', { token, password: PASSWORD })).status, 204);
    const api = new ApiClient(haven.url);
    await api.signIn(email, PASSWORD);
    await acceptAll(api);
    return api;
  }

  async function signInThroughUi(page: import('./helpers/browser.ts').Page, email: string): Promise<void> {
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  test('the checked-in API types match the OpenAPI document (npm run web:client)', async () => {
    const document = await (await haven.request('/api/v1/openapi.json')).json();
    const want = await renderWebClientSchema(document);
    assert.ok(readFileSync(webSchemaPath, 'utf8') === want, 'web/src/api/schema.d.ts is stale; run npm run web:client');
  });

  test('Haven serves the app with the strict CSP, caching and an SPA fallback that leaves its own paths alone', async () => {
    const index = await haven.request('/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type')!, /text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const csp = index.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    const html = await index.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline script');
    assert.ok(!/<style/i.test(html) && !/\sstyle=/i.test(html), 'no inline style');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await haven.request(asset);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control')!, /max-age=31536000, immutable/);
    assert.match(js.headers.get('content-type')!, /javascript/);

    const deep = await haven.request('/library/videos/123?tab=x');
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), html);
    for (const path of ['/api/v1/nope', '/watch/', '/storage/x', '/player/nope', '/metricsx/../api/v1/x']) {
      const res = await haven.request(path);
      assert.notEqual(res.headers.get('content-type')?.includes('text/html') && res.status === 200, true, `${path} must not get the app`);
    }
    assert.equal((await haven.request('/api/v1/nope')).status, 404);
    assert.equal((await haven.request('/assets/missing-123.js')).status, 404);
    assert.equal((await haven.request('/.hidden')).status, 404);
    assert.equal((await haven.request('/healthz')).status, 200);
  });

  test('signed out, / goes to sign-in: no third-party requests, no console errors, no serious a11y violations', async () => {
    const { page, context, requests, errors } = await openPage(browser, haven, { path: '/' });
    try {
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/sign-in');
      assert.equal(await page.title(), 'Sign in · Haven');
      await expectNoA11yViolations(page, 'sign-in');
      await screenshot(page, 'shell-sign-in');
      assertSameOrigin(requests, haven.url);
      assert.deepEqual(realErrors(errors), []);
      assert.deepEqual(languageChunks(requests), [], 'an English visitor loads no other language');
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows the server\'s error in the browser\'s language (Swedish), and client validation runs first', async () => {
    const { page, context, requests } = await openPage(browser, haven, { locale: 'sv-SE' });
    try {
      // Every page heading the document ever shows, from its first render on.
      await page.addInitScript({ content: 'window.__headings = []; new MutationObserver(() => { for (const h of document.querySelectorAll("h1")) window.__headings.push(h.textContent); }).observe(document, { childList: true, subtree: true, characterData: true });' });
      await page.goto(new URL('/sign-in', haven.url).href);
      await page.getByRole('heading', { name: 'Logga in', level: 1 }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.lang'), 'sv');
      // Swedish was loaded before the first render (no English flashed first), and only Swedish.
      assert.deepEqual([...new Set(await page.evaluate('window.__headings') as string[])], ['Logga in']);
      assert.deepEqual(languageChunks(requests), ['sv']);
      await page.getByRole('button', { name: 'Logga in', exact: true }).click();
      await page.getByText('Ange din e-postadress.').waitFor();
      assert.equal(await page.getByLabel('E-postadress').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('E-postadress').fill('owner@acme.test');
      await page.getByLabel('Lösenord').fill('not the password');
      await page.getByRole('button', { name: 'Logga in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'E-postadressen eller lösenordet är fel.' }).waitFor();
      await expectNoA11yViolations(page, 'sign-in with error');
      await screenshot(page, 'shell-sign-in-error-sv');
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('first sign-in with a pending document passes the consent gate, then the shell; axe on both', async () => {
    await member('carol@acme.test');
    // A new tenant document: everyone must decide again.
    assert.equal((await owner.post('/api/v1/consent/documents', { kind: 'terms', title: 'Acme viewing terms', body: 'Watch responsibly.\nNo recording of screens.' })).status, 201);
    await acceptAll(owner);
    const { page, context, requests, errors } = await openPage(browser, haven, { path: '/' });
    try {
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      await signInThroughUi(page, 'carol@acme.test');
      await page.getByRole('heading', { name: 'Terms and privacy', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'Acme viewing terms' }).waitFor();
      await page.getByText(/If you decline, you cannot use Haven/).first().waitFor();
      await expectNoA11yViolations(page, 'consent gate');
      await screenshot(page, 'shell-consent');
      const accept = page.getByRole('button', { name: /^Accept/ });
      for (let i = 0; i < 100 && (await accept.count()); i++) {
        const next = accept.first();
        if (await next.isEnabled().catch(() => false)) await next.click().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 150));
      }
      await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/');
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.getByText('Acme Media').first().waitFor();
      await expectNoA11yViolations(page, 'home');
      await screenshot(page, 'shell-home');
      assertSameOrigin(requests, haven.url);
      assert.deepEqual(realErrors(errors), []);
      // The decision is on record.
      const api = new ApiClient(haven.url);
      await api.signIn('carol@acme.test', PASSWORD);
      assert.equal((await api.get('/api/v1/consent')).body.complete, true);
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('sign-in with TOTP asks for the code after the password', async () => {
    const api = await member('tom@acme.test');
    const begun = await api.post('/api/v1/account/totp');
    assert.equal(begun.status, 200, JSON.stringify(begun.body));
    assert.equal((await api.post('/api/v1/account/totp/confirm', { code: await generate({ secret: begun.body.secret }) })).status, 200);
    const { page, context } = await openPage(browser, haven, { path: '/sign-in' });
    try {
      await signInThroughUi(page, 'tom@acme.test');
      await page.getByRole('heading', { name: 'Two-step verification', level: 1 }).waitFor();
      await expectNoA11yViolations(page, 'second factor');
      await page.getByLabel('Verification code').fill('000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').filter({ hasText: 'That code is wrong or was already used.' }).waitFor();
      // A fresh code (the next time step, so it is not the one the API used a moment ago).
      const code = await generate({ secret: begun.body.secret, epoch: Math.floor(Date.now() / 1000) + 30 });
      await page.getByLabel('Verification code').fill(code);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('switching the language changes the UI at once and is saved to the profile', async () => {
    await member('sven@acme.test');
    const { page, context, api } = await openPage(browser, haven, { path: '/', signedInAs: { email: 'sven@acme.test', password: PASSWORD } });
    try {
      await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
      await page.getByRole('button', { name: /Account menu/ }).click();
      await page.getByLabel('Language').selectOption('sv');
      await page.getByRole('heading', { name: /^Välkommen,/, level: 1 }).waitFor();
      for (let i = 0; i < 50 && (await api!.get('/api/v1/account')).body.language !== 'sv'; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await api!.get('/api/v1/account')).body.language, 'sv');
      await page.reload();
      await page.getByRole('heading', { name: /^Välkommen,/, level: 1 }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.lang'), 'sv');
      await expectNoA11yViolations(page, 'home in Swedish');
      await screenshot(page, 'shell-home-sv');
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('an expired session goes to sign-in and back to the page the person was on', async () => {
    await member('erin@acme.test');
    const { page, context, api } = await openPage(browser, haven, { path: '/some/where?tab=2', signedInAs: { email: 'erin@acme.test', password: PASSWORD } });
    try {
      await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
      // The server ends the session (as an admin's revoke or a timeout would).
      assert.equal((await api!.post('/api/v1/auth/logout')).status, 204);
      // The next call the page makes answers 401: the person is sent to sign in.
      await page.getByRole('button', { name: /Account menu/ }).click();
      await page.getByLabel('Language').selectOption('de');
      await page.waitForURL((u) => u.pathname === '/sign-in');
      assert.equal(new URL(page.url()).searchParams.get('returnTo'), '/some/where?tab=2');
      await page.getByRole('heading', { name: 'Anmelden', level: 1 }).waitFor();
      await page.getByLabel('E-Mail-Adresse').fill('erin@acme.test');
      await page.getByLabel('Passwort').fill(PASSWORD);
      await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/some/where' && u.search === '?tab=2');
      await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('a network failure shows a retry instead of a blank page; retry recovers', async () => {
    await member('nina@acme.test');
    const { page, context } = await openPage(browser, haven, { signedInAs: { email: 'nina@acme.test', password: PASSWORD } });
    try {
      let failing = true;
      await page.route('**/api/v1/auth/session', (route) => (failing ? route.abort('connectionrefused') : route.continue()));
      await page.goto(new URL('/', haven.url).href);
      await page.getByRole('heading', { name: 'Haven cannot be reached' }).waitFor();
      await expectNoA11yViolations(page, 'network error');
      await screenshot(page, 'shell-network-error');
      failing = false;
      await page.getByRole('button', { name: 'Try again' }).click();
      await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });

  test('at 360 px wide nothing scrolls sideways and the navigation folds into a menu', async () => {
    await member('mia@acme.test');
    const { page, context } = await openPage(browser, haven, { path: '/sign-in', viewport: { width: 360, height: 740 } });
    try {
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      assert.equal(await hasHorizontalScroll(page), false, 'sign-in scrolls sideways at 360 px');
      await signInThroughUi(page, 'mia@acme.test');
      await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
      assert.equal(await hasHorizontalScroll(page), false, 'home scrolls sideways at 360 px');
      const nav = page.getByRole('navigation', { name: 'Main' });
      assert.equal(await nav.isVisible(), false);
      const toggle = page.getByRole('button', { name: 'Menu', exact: true });
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await nav.waitFor({ state: 'visible' });
      await expectNoA11yViolations(page, 'home at 360 px with menu open');
      await screenshot(page, 'shell-home-360');
    } catch (err) {
      await screenshot(page, `failed-${Date.now()}`);
      throw err;
    } finally {
      await context.close();
    }
  });
});
