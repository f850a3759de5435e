// The signed-in person's own account and "My data", and the public landing,
// in real Chromium against a real Haven: language follows the profile, TOTP
// enrolment works with a code computed from the shown secret, another session
// and an API token are revoked, the data export completes in the workers and
// downloads as a ZIP, erasure is requested and its state shown; the public
// landing lists public videos only. axe-core and a 360 px layout on each page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { ApiClient, expectError } from './helpers/client.ts';
import { assertSameOrigin, type Browser, expectNoA11yViolations as harnessAxe, hasHorizontalScroll, launchBrowser, openPage, type Page, screenshot } from './helpers/browser.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org, PASSWORD } from './helpers/library.ts';

// The harness injects axe-core with a <script> tag, which the strict CSP
// blocks; evaluating its source through the DevTools protocol is not
// subject to the page's CSP, so axe is put in place that way first.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function expectNoA11yViolations(page: Page, label: string): Promise<void> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  await harnessAxe(page, label);
}

async function narrow(page: Page, label: string): Promise<void> {
  await page.setViewportSize({ width: 360, height: 740 });
  assert.equal(await hasHorizontalScroll(page), false, `${label} scrolls sideways at 360 px`);
  await expectNoA11yViolations(page, `${label} at 360 px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('web: account, my data and the public landing', () => {
  let haven: TestHaven;
  let org: Org;
  let browser: Browser;
  let publicId: string;
  let privateId: string;
  let draftId: string;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Account Co');
    browser = await launchBrowser();
    publicId = await insertVideo(haven, org, { title: 'Open lecture', publishedState: 'published', durationMs: 125_000 });
    privateId = await insertVideo(haven, org, { title: 'Staff briefing', publishedState: 'published' });
    draftId = await insertVideo(haven, org, { title: 'Unfinished draft', publishedState: 'draft' });
    for (const id of [publicId, draftId]) assert.equal((await org.owner.call('PUT', `/api/v1/videos/${id}/access`, { audiences: [{ type: 'public' }] })).status, 200);
  });

  after(async () => {
    await browser?.close();
    await haven?.stop();
  });

  test('public listing API: published public videos only, unknown organizations 404', async () => {
    const anon = new ApiClient(haven.url);
    const res = await anon.get(`/api/v1/public/tenants/${org.slug}/videos`);
    assert.equal(res.status, 200);
    assert.equal(res.body.tenant.name, 'Account Co');
    assert.deepEqual(res.body.items.map((v: { id: string }) => v.id), [publicId]);
    assert.deepEqual(Object.keys(res.body.items[0]).sort(), ['durationMs', 'id', 'publishedAt', 'title']);
    assert.equal(res.body.items[0].durationMs, 125_000);
    expectError(await anon.get('/api/v1/public/tenants/no-such-org/videos'), 404, 'tenant_not_found');
    expectError(await anon.get(`/api/v1/public/tenants/${org.slug}/videos?cursor=bogus`), 400, 'invalid_cursor');
    // A time window that has ended takes the video off the landing.
    await org.owner.call('PUT', `/api/v1/videos/${publicId}/access`, { audiences: [{ type: 'public' }], conditions: { availableUntil: '2001-01-01T00:00:00Z' } });
    assert.deepEqual((await anon.get(`/api/v1/public/tenants/${org.slug}/videos`)).body.items, []);
    await org.owner.call('PUT', `/api/v1/videos/${publicId}/access`, { audiences: [{ type: 'public' }] });
  });

  test('the public landing lists the public video, not the private one', async () => {
    const { page, context, requests } = await openPage(browser, haven, { path: `/t/${org.slug}` });
    try {
      const link = page.getByRole('link', { name: /Open lecture/ });
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), `/watch/${publicId}`);
      assert.equal(await page.getByText('Staff briefing').count(), 0);
      assert.equal(await page.getByText('Unfinished draft').count(), 0);
      await expectNoA11yViolations(page, 'public landing');
      await narrow(page, 'public landing');
      await screenshot(page, 'account-public-landing');
      assertSameOrigin(requests, haven.url);
      void privateId;
    } finally {
      await context.close();
    }
  });

  test('a person changes their language to Finnish and the UI follows', async () => {
    await org.as('editor');
    const { page, context, api } = await openPage(browser, haven, { signedInAs: { email: `editor@${org.slug}.test`, password: PASSWORD }, path: '/account' });
    try {
      await page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
      await expectNoA11yViolations(page, 'profile');
      await screenshot(page, 'account-profile');
      await page.getByRole('main').getByLabel('Language').selectOption('fi');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { level: 1, name: 'Profiili' }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.lang'), 'fi');
      assert.equal((await api!.get('/api/v1/account')).body.language, 'fi');
      // Another page, after a reload: still Finnish.
      await page.goto(new URL('/account/security', haven.url).href);
      await page.getByRole('heading', { level: 1, name: 'Kirjautuminen ja turvallisuus' }).waitFor();
      await expectNoA11yViolations(page, 'security (fi)');
      await narrow(page, 'profile (fi)');
    } finally {
      await api?.patch('/api/v1/account', { language: 'en' });
      await context.close();
    }
  });

  test('revokes another session; creates and revokes an API token', async () => {
    const other = await org.as('editor'); // signed in through the API: a second session
    assert.equal((await other.get('/api/v1/account')).status, 200);
    const { page, context, requests } = await openPage(browser, haven, { signedInAs: { email: `editor@${org.slug}.test`, password: PASSWORD }, path: '/account/security' });
    try {
      await page.getByRole('heading', { name: 'Where you are signed in' }).waitFor();
      const revokeButtons = page.getByRole('button', { name: /^Sign out the session on/ });
      await revokeButtons.first().waitFor();
      const before = await revokeButtons.count();
      assert.ok(before >= 1);
      // Revoke every other session (the API client's is among them).
      for (let i = 0; i < before; i++) {
        await revokeButtons.first().click();
        for (let tries = 0; (await revokeButtons.count()) !== before - i - 1; tries++) {
          assert.ok(tries < 50, 'the revoked session stays listed');
          await page.waitForTimeout(100);
        }
      }
      assert.equal((await other.get('/api/v1/account')).status, 401);
      await expectNoA11yViolations(page, 'security');
      await screenshot(page, 'account-security');
      await narrow(page, 'security');

      await page.goto(new URL('/account/tokens', haven.url).href);
      await page.getByLabel('Name', { exact: true }).fill('Nightly export');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = (await page.locator('#created-token').textContent())!.trim();
      assert.ok(secret.length > 20);
      const bearer = new ApiClient(haven.url);
      bearer.token = secret;
      assert.equal((await bearer.get('/api/v1/videos')).status, 200);
      await expectNoA11yViolations(page, 'token shown once');
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('button', { name: 'Revoke token Nightly export' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await page.getByText('Revoked', { exact: true }).waitFor();
      assert.equal((await bearer.get('/api/v1/videos')).status, 401);
      await expectNoA11yViolations(page, 'tokens');
      await narrow(page, 'tokens');
      assertSameOrigin(requests, haven.url);
    } finally {
      await context.close();
    }
  });

  test('enrols TOTP from the shown secret and signs in with it after', async () => {
    await org.as('viewer');
    const email = `viewer@${org.slug}.test`;
    const { page, context } = await openPage(browser, haven, { signedInAs: { email, password: PASSWORD }, path: '/account/security' });
    try {
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Password').fill(PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      const secret = await page.locator('#totp-secret').getAttribute('data-secret');
      assert.ok(secret);
      assert.match((await page.locator('#totp-uri').textContent())!, /^otpauth:\/\/totp\//);
      await expectNoA11yViolations(page, 'TOTP setup');
      await page.getByLabel('The 6-digit code the app shows').fill(await generate({ secret }));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
      assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(), 10);
      await screenshot(page, 'account-totp-enabled');

      const again = new ApiClient(haven.url);
      expectError(await again.login(email, PASSWORD), 401, 'second_factor_required');
      // The enrolment code is spent (replay protection); the next time step's code is accepted too.
      assert.equal((await again.login(email, PASSWORD, { totp: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) })).status, 200);
    } finally {
      await context.close();
    }
  });

  test('downloads their data and requests erasure', async () => {
    const adminId = (await (await org.as('admin')).get('/api/v1/account')).body.id;
    // The owner looks at the admin's record: the admin sees that access on their own page.
    assert.equal((await org.owner.get(`/api/v1/users/${adminId}`)).status, 200);
    const email = `admin@${org.slug}.test`;
    const { page, context, requests } = await openPage(browser, haven, { signedInAs: { email, password: PASSWORD }, path: '/account/privacy' });
    try {
      await page.getByRole('heading', { level: 1, name: 'My data' }).waitFor();
      const accessLog = page.getByRole('table', { name: 'Who accessed my account' });
      await accessLog.getByRole('cell', { name: 'Viewed your account details' }).waitFor();
      assert.match(await accessLog.textContent() ?? '', /Staff member [0-9a-f-]{36}/);
      await page.getByRole('button', { name: 'Request my data' }).click();
      const download = page.getByRole('button', { name: /^Download the data of the request/ });
      await download.waitFor({ timeout: 45_000 });
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      const bytes = readFileSync((await file.path())!);
      assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'the archive is a ZIP');
      await expectNoA11yViolations(page, 'my data');
      await screenshot(page, 'account-my-data');

      // With approval required, the erasure request waits for review (and the account stays).
      assert.equal((await org.owner.patch('/api/v1/privacy/dsar-settings', { requireApproval: true })).status, 200);
      await page.getByRole('button', { name: 'Request erasure' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('I understand that my account and data will be erased for good.').check();
      await dialog.getByRole('button', { name: 'Request erasure' }).click();
      await page.locator('[data-state="pending"]').waitFor();
      assert.match(await page.getByRole('status').filter({ hasText: 'erasure request' }).first().textContent() ?? '', /Waiting for review/);
      await expectNoA11yViolations(page, 'my data after erasure request');
      await narrow(page, 'my data');
      assertSameOrigin(requests, haven.url);
    } finally {
      await context.close();
    }
  });
});
