// The web app's server gaps, closed: posters for the library grid (members,
// no playback token), the data map and residency report over HTTP for the
// privacy center, the email-verification page, and maintenance notices in
// the shell's banner — each route's permissions, and each in real Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addMember } from '../src/modules/identity/users.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { type Browser, expectNoA11yViolations, launchBrowser, openPage, screenshot } from './helpers/browser.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideos, type Org, PASSWORD } from './helpers/library.ts';
import { parseMail } from './helpers/mime.ts';
import { waitFor } from './helpers/process.ts';

describe('web gaps: posters, data map, residency, email verification, notices', () => {
  let haven: TestHaven;
  let browser: Browser;
  let org: Org;
  let other: Org;
  let operator: ApiClient;
  let videoId: string;
  let bareVideoId: string;
  const dir = mkdtempSync(join(tmpdir(), 'haven-web-gaps-'));

  before(async () => {
    haven = await startTestHaven();
    browser = await launchBrowser();
    org = await createOrg(haven, 'Gaps Org');
    other = await createOrg(haven, 'Other Org');
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'owner@other-org.test'`);
    operator = new ApiClient(haven.url);
    await operator.signIn('owner@other-org.test', PASSWORD);
    const clip = readFileSync(makeClip(dir, 'clip', { width: 320, height: 180, seconds: 2 }));
    ({ videoId } = await tusUpload(haven.url, org.owner, clip, { title: 'Harbour at dawn' }));
    await waitForStatus(org.owner, videoId, 'ready', 90_000);
    bareVideoId = (await insertVideos(haven, org, [{ title: 'No picture yet', status: 'processing' }]))[0]!;
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('poster route: members read the JPEG with private caching and an ETag; others get 401/404', async () => {
    const res = await fetch(new URL(`/api/v1/videos/${videoId}/poster?size=thumb`, haven.url), { headers: { cookie: org.owner.cookie! } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('cache-control'), 'private, max-age=300');
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const jpeg = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a decrypted JPEG');

    const again = await fetch(new URL(`/api/v1/videos/${videoId}/poster?size=thumb`, haven.url), { headers: { cookie: org.owner.cookie!, 'if-none-match': etag! } });
    assert.equal(again.status, 304);
    const big = await fetch(new URL(`/api/v1/videos/${videoId}/poster?size=poster`, haven.url), { headers: { cookie: (await org.as('viewer')).cookie! } });
    assert.equal(big.status, 200);
    assert.notEqual(big.headers.get('etag'), etag);

    expectError(await new ApiClient(haven.url).get(`/api/v1/videos/${videoId}/poster`), 401, 'unauthenticated');
    expectError(await other.owner.get(`/api/v1/videos/${videoId}/poster`), 404, 'video_not_found');
    expectError(await org.owner.get(`/api/v1/videos/${bareVideoId}/poster`), 404, 'poster_not_found');
    expectError(await org.owner.get(`/api/v1/videos/${videoId}/poster?size=huge`), 400, 'invalid_request');
  });

  test('data map route: admins and operators read every personal column; viewers and strangers do not', async () => {
    const res = await org.owner.get('/api/v1/privacy/datamap');
    assert.equal(res.status, 200);
    const email = res.body.items.find((r: any) => r.table === 'users' && r.column === 'email');
    assert.ok(email, 'users.email is declared');
    assert.equal(email.category, 'user.contact.email');
    assert.ok(res.body.items.some((r: any) => r.table === 'platform_notices' && r.column === 'created_by'));
    assert.equal((await operator.get('/api/v1/privacy/datamap')).status, 200);
    expectError(await (await org.as('viewer')).get('/api/v1/privacy/datamap'), 403, 'forbidden');
    expectError(await new ApiClient(haven.url).get('/api/v1/privacy/datamap'), 401, 'unauthenticated');
  });

  test('residency route: operators see every object with its jurisdiction; tenant admins are refused', async () => {
    const res = await operator.get(`/api/v1/platform/residency?tenant=${org.tenantId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.regions.length >= 1);
    const mine = res.body.objects.filter((o: any) => o.key.startsWith(`t/${org.tenantId}/v/${videoId}/`));
    assert.ok(mine.some((o: any) => o.key.endsWith('images/poster.jpg.hvn')));
    assert.ok(mine.every((o: any) => o.tenantSlug === org.slug && o.flag === null));
    assert.ok(res.body.objects.every((o: any) => o.tenantId === org.tenantId), 'filtered to the tenant');
    expectError(await org.owner.get('/api/v1/platform/residency'), 403, 'forbidden');
    expectError(await new ApiClient(haven.url).get('/api/v1/platform/residency'), 401, 'unauthenticated');
  });

  test('library grid shows the ready video\'s poster, lazily loaded', async () => {
    const { page, context } = await openPage(browser, haven, { signedInAs: { email: `owner@${org.slug}.test`, password: PASSWORD }, path: '/library' });
    try {
      const img = page.locator(`img.lib-poster-img[src*="${videoId}"]`);
      await img.waitFor({ state: 'attached', timeout: 15_000 });
      assert.equal(await img.getAttribute('loading'), 'lazy');
      await img.scrollIntoViewIfNeeded();
      // Polled from here through the DevTools protocol: a string predicate that waitForFunction polls in the page is eval, which the CSP refuses.
      const loaded = (i: unknown) => (i as { complete: boolean }).complete && (i as { naturalWidth: number }).naturalWidth > 0;
      await waitFor(async () => ((await img.evaluate(loaded)) ? true : undefined), 15_000, 'the poster to load');
      assert.equal(await page.locator(`img.lib-poster-img[src*="${bareVideoId}"]`).count(), 0, 'no picture requested for a video still processing');
      await expectNoA11yViolations(page, 'library grid with posters');
      await screenshot(page, 'web-gaps-library-posters');
    } finally {
      await context.close();
    }
  });

  test('a notice appears in Swedish for a Swedish user and can be dismissed', async () => {
    const created = await operator.post('/api/v1/platform/notices', {
      message: { en: 'Maintenance tonight 22:00–23:00', sv: 'Underhåll i kväll 22:00–23:00', fi: 'Huolto tänä iltana 22.00–23.00', de: 'Wartung heute Abend 22:00–23:00' }, severity: 'warning',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const viewer = await org.as('viewer');
    assert.equal((await viewer.patch('/api/v1/account', { language: 'sv' })).status, 200);
    const { page, context } = await openPage(browser, haven, { signedInAs: { email: `viewer@${org.slug}.test`, password: PASSWORD }, path: '/' });
    try {
      const notice = page.locator(`[data-notice="${created.body.id}"]`);
      await notice.waitFor({ timeout: 15_000 });
      assert.match(await notice.innerText(), /Underhåll i kväll 22:00–23:00/);
      await expectNoA11yViolations(page, 'start page with a notice');
      await screenshot(page, 'web-gaps-notice-sv');
      await notice.getByRole('button', { name: 'Stäng det här meddelandet' }).click();
      await notice.waitFor({ state: 'detached' });
      await page.reload();
      await page.locator('h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await page.locator(`[data-notice="${created.body.id}"]`).count(), 0, 'stays dismissed');
    } finally {
      await context.close();
    }
    // The sign-in page shows notices too (anonymous).
    const anon = await openPage(browser, haven, { path: '/sign-in' });
    try {
      await anon.page.locator(`[data-notice="${created.body.id}"]`).waitFor({ timeout: 15_000 });
    } finally {
      await anon.context.close();
    }
    assert.equal((await operator.delete(`/api/v1/platform/notices/${created.body.id}`)).status, 204);
  });

  test('the verify-email page confirms a real token from the outbox mail', async () => {
    const email = 'unverified@gaps-org.test';
    await haven.platform.db.withTenant(org.tenantId, (tx) => addMember(tx, org.tenantId, { email, password: PASSWORD, role: 'editor', emailVerified: false }));
    const member = new ApiClient(haven.url);
    await member.signIn(email, PASSWORD);
    assert.equal((await member.post('/api/v1/account/email/verify')).status, 202);
    const outbox = join(haven.dataDir, 'mail-outbox');
    let token: string | undefined;
    for (let i = 0; i < 50 && !token; i++) {
      const files = existsSync(outbox) ? readdirSync(outbox, { withFileTypes: true }) : [];
      for (const f of files.filter((e) => e.name.endsWith('.eml'))) {
        const mail = parseMail(readFileSync(join(outbox, f.name), 'utf8'));
        if (!(mail.headers.get('to') ?? '').includes(email)) continue;
        token = /\/verify-email#token=(vfy_[A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1] ?? token;
      }
      if (!token) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(token, 'a verification link in the outbox');
    const { page, context } = await openPage(browser, haven, { signedInAs: { email, password: PASSWORD }, path: `/verify-email#token=${token}` });
    try {
      await page.locator('[data-testid="verify-email"] .alert-success').waitFor({ timeout: 15_000 });
      assert.equal(new URL(page.url()).hash, '', 'the spent token leaves the address bar');
      await expectNoA11yViolations(page, 'verify-email page');
      await screenshot(page, 'web-gaps-verify-email');
      const row = await haven.platform.db.ownerPool.query('select email_verified_at from users where email_normalized = $1', [email]);
      assert.ok(row.rows[0].email_verified_at, 'the address is verified');
      // The same link again: the server's refusal, in the user's words.
      const again = await context.newPage();
      await again.goto(new URL(`/verify-email#token=${token}`, haven.url).href);
      await again.locator('[data-testid="verify-email"] [role="alert"]').waitFor({ timeout: 15_000 });
      assert.match(await again.locator('[data-testid="verify-email"]').innerText(), /invalid, expired or already used/);
    } finally {
      await context.close();
    }
  });

  test('the privacy center\'s data map tab lists the columns; operators get the residency tab', async () => {
    const { page, context } = await openPage(browser, haven, { signedInAs: { email: `owner@${org.slug}.test`, password: PASSWORD }, path: '/admin/privacy' });
    try {
      await page.getByRole('tab', { name: 'Data map' }).click();
      await page.locator('[data-testid="datamap-columns"] tr[data-column="users.email"]').waitFor({ timeout: 15_000 });
      assert.equal(await page.getByRole('tab', { name: 'Residency report' }).count(), 0, 'tenant admins have no residency tab');
      await expectNoA11yViolations(page, 'privacy center data map');
      await screenshot(page, 'web-gaps-datamap');
    } finally {
      await context.close();
    }
    const ops = await openPage(browser, haven, { signedInAs: { email: 'owner@other-org.test', password: PASSWORD }, path: '/admin/privacy' });
    try {
      await ops.page.getByRole('tab', { name: 'Residency report' }).click();
      await ops.page.locator('[data-testid="residency-objects"]').waitFor({ timeout: 15_000 });
      assert.ok(await ops.page.locator('[data-testid="residency-objects"] code', { hasText: `t/${org.tenantId}/v/${videoId}/` }).count() > 0);
      await expectNoA11yViolations(ops.page, 'privacy center residency report');
      await screenshot(ops.page, 'web-gaps-residency');
    } finally {
      await ops.context.close();
    }
  });
});
