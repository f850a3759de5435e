// Issue 8's main journey, end to end through the real UI in Chromium against
// a real Haven (embedded PostgreSQL unless DATABASE_URL names a server): a new
// owner's first sign-in through the consent gate, TOTP enrolment and a
// sign-in with it, an upload through the dialog with a page reload midway
// (resumed from the server's offset), processing to ready, playback in the
// video page's player, the policy changed to password and the video watched
// by an anonymous viewer through the password prompt, a data-subject export
// approved and downloaded in the privacy center, the video deleted and
// restored from the trash, and the audit log showing all of it. Every step
// saves test-artifacts/screens/journey-*.png and runs axe-core; no page
// contacts another origin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { strFromU8, unzipSync } from 'fflate';
import { generate } from 'otplib';
import type { Frame, Route } from 'playwright-core';
import { addMember } from '../src/modules/identity/users.ts';
import { ApiClient } from './helpers/client.ts';
import { assertSameOrigin, type Browser, type BrowserContext, expectNoA11yViolations, launchBrowser, type Page, recordUploadOffsets, screenshot, SESSION_COOKIE } from './helpers/browser.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';
const OWNER = 'olivia@northwind.test';
const VIEWER = 'victor@northwind.test';
const VIDEO_PASSWORD = 'aurora borealis 42';
const CHUNK = 4 * 1024 * 1024; // web/src/features/library/upload/uploads.ts CHUNK_BYTES

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** A 4 s 320×240 clip of noise, losslessly encoded: ~14 MB, several upload chunks, quick to transcode. */
function makeClip(dir: string): string {
  const file = join(dir, 'northwind-all-hands.mp4');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-vf', 'noise=alls=60:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0',
    '-pix_fmt', 'yuv420p', '-g', '25', '-c:a', 'aac', '-shortest', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

/** Plays the Haven player in a page or frame and waits until its video has advanced. */
async function playsInPlayer(target: Page | Frame): Promise<number> {
  await target.waitForSelector('#haven-player[data-state="ready"]', { timeout: 15_000 });
  await target.click('.haven-play');
  // A function, not a string: the page's CSP forbids eval.
  await target.waitForFunction(() => (globalThis as any).document.querySelector('video').currentTime > 0.5, null, { timeout: 15_000 });
  return target.evaluate(() => (globalThis as any).document.querySelector('video').currentTime as number);
}

describe('web journeys', () => {
  let haven: TestHaven;
  let browser: Browser;
  let dir: string;
  let clip: string;
  let tenantId = '';
  /** The owner's session for checks through the API (taken once the UI has settled the consents). */
  let api: ApiClient;
  const contexts: BrowserContext[] = [];
  const requests: string[] = [];
  let stepNo = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-web-journeys-'));
    const launched = launchBrowser();
    clip = makeClip(dir);
    haven = await startTestHaven();
    const { tenant } = await haven.modules.setup({ tenantName: 'Northwind Media', adminEmail: OWNER, adminPassword: PASSWORD });
    tenantId = tenant.id;
    browser = await launched;
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<{ page: Page; context: BrowserContext }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('request', (r) => void requests.push(r.url()));
    return { page, context };
  }
  const go = (page: Page, path: string) => page.goto(new URL(path, haven.url).href);

  /** Every step: axe-core (serious/critical fail), a screenshot, nothing from another origin. */
  async function step(page: Page, name: string): Promise<void> {
    stepNo += 1;
    await expectNoA11yViolations(page, `journey step ${stepNo}: ${name}`);
    await screenshot(page, `journey-${String(stepNo).padStart(2, '0')}-${name}`);
    assertSameOrigin(requests, haven.url);
  }

  test('a new owner signs in, secures the account, uploads, shares, handles a request, restores and audits', async () => {
    // 1. First sign-in: the consent gate comes before anything else.
    const first = await newPage();
    let page = first.page;
    await go(page, '/');
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await step(page, 'sign-in');
    await page.getByLabel('Email address').fill(OWNER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Terms and privacy', level: 1 }).waitFor();
    // The heading shows while the documents load; a new owner has at least one to decide on.
    await page.getByRole('button', { name: /^Accept/ }).first().waitFor();
    await step(page, 'consent-gate');
    const accept = page.getByRole('button', { name: /^Accept/ });
    for (let i = 0; i < 100 && (await accept.count()); i++) {
      const next = accept.first();
      if (await next.isEnabled().catch(() => false)) await next.click().catch(() => undefined);
      await sleep(150);
    }
    await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
    await step(page, 'home');
    api = new ApiClient(haven.url);
    assert.equal((await api.login(OWNER, PASSWORD)).status, 200);
    assert.equal((await api.get('/api/v1/consent')).body.complete, true, 'the decisions made in the UI are on record');

    // 2. TOTP enrolment from the shown secret; then a sign-in that asks for the code.
    await go(page, '/account/security');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByLabel('Password').fill(PASSWORD);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    const secret = await page.locator('#totp-secret').getAttribute('data-secret');
    assert.ok(secret, 'the secret is shown for manual entry');
    await step(page, 'totp-setup');
    await page.getByLabel('The 6-digit code the app shows').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
    await step(page, 'totp-recovery-codes');
    await first.context.close();

    const second = await newPage();
    page = second.page;
    await go(page, '/sign-in');
    await page.getByLabel('Email address').fill(OWNER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification', level: 1 }).waitFor();
    await step(page, 'second-factor');
    // The enrolment code is spent; the next time step's code is a fresh one.
    await page.getByLabel('Verification code').fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: /^Welcome,/, level: 1 }).waitFor();
    if ((await api.get('/api/v1/account')).status !== 200) {
      api = new ApiClient(haven.url);
      assert.equal((await api.login(OWNER, PASSWORD, { totp: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 60 }) })).status, 200);
    }
    assert.equal((await new ApiClient(haven.url).login(OWNER, PASSWORD)).body.error?.code, 'second_factor_required');

    // 3. Upload through the dialog; the page reloads after the first chunk and the upload resumes.
    await go(page, '/library');
    await page.locator('h1#page-title').waitFor();
    await step(page, 'library-empty');
    let patches = 0;
    const held = new Promise<string>((resolve) => {
      void page.route('**/api/v1/uploads/**', async (route: Route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        patches += 1;
        if (patches === 1) return route.continue();
        resolve(route.request().url()); // never continued: the page reloads under it
      });
    });
    await page.getByRole('button', { name: 'Upload', exact: true }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Upload videos' });
    await dialog.waitFor();
    await step(page, 'upload-dialog');
    await dialog.locator('input[type=file]').setInputFiles(clip);
    const uploadId = decodeURIComponent(new URL(await held).pathname.split('/').pop()!);
    await until('the first chunk on the server', async () => {
      const r = await api.get(`/api/v1/uploads/${encodeURIComponent(uploadId)}`);
      return r.status === 200 && r.body.receivedBytes >= CHUNK;
    });
    await screenshot(page, `journey-${String(stepNo).padStart(2, '0')}-upload-midway`);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.reload();
    await page.locator('h1#page-title').waitFor();
    const offsets = recordUploadOffsets(page);
    // The released PATCH may still be arriving: the server's offset can grow until the page asks for it.
    const atReload = await api.get(`/api/v1/uploads/${encodeURIComponent(uploadId)}`);
    assert.equal(atReload.body.complete, false);
    await page.getByRole('button', { name: 'Upload', exact: true }).first().click();
    await dialog.getByText('choose this file again to continue').waitFor();
    await step(page, 'upload-after-reload');
    await dialog.locator('input[type=file]').setInputFiles(clip);
    await dialog.getByText(/resumed from/).waitFor();
    await dialog.getByText('Ready to watch.').waitFor({ timeout: 90_000 });
    await step(page, 'upload-ready');
    assert.ok(offsets.heads[0]! >= Math.max(CHUNK, atReload.body.receivedBytes), `the server kept what arrived: ${offsets.heads[0]}`);
    assert.equal(offsets.patches[0], offsets.heads[0], 'the first PATCH after the reload starts at the server\'s offset');
    const done = await api.get(`/api/v1/uploads/${encodeURIComponent(uploadId)}`);
    assert.equal(done.body.complete, true);
    const videoId: string = done.body.videoId;
    const listed = await api.get('/api/v1/videos');
    assert.deepEqual(listed.body.items.map((v: { id: string }) => v.id), [videoId], 'one upload, one video: the reload did not start over');
    const title: string = listed.body.items[0].title;

    // 4. Watching it in the video page's player: time advances.
    await go(page, `/videos/${videoId}`);
    await page.locator('iframe.lib-player').waitFor();
    const frame = await until('the player frame', async () => page.frames().find((f) => f.url().includes(`/embed/${videoId}`)));
    assert.ok((await playsInPlayer(frame)) > 0.5);
    await step(page, 'video-page-playing');
    // Published, so people outside the editors may watch it at all.
    await page.getByLabel('Publish state').selectOption('published');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Details saved.').waitFor();
    assert.equal((await api.get(`/api/v1/videos/${videoId}`)).body.publishState, 'published');

    // 5. Access: password only; an anonymous viewer in a fresh context gets the prompt and watches.
    await go(page, `/videos/${videoId}?tab=access`);
    await page.getByLabel('Signed-in members of the organization').uncheck();
    await page.getByLabel('Anyone who knows the password').check();
    await page.getByLabel('Password', { exact: true }).fill(VIDEO_PASSWORD);
    await page.getByRole('button', { name: 'Save access' }).click();
    await page.getByText('Access saved.').waitFor();
    await page.getByText('Anyone who enters the password can watch.').waitFor();
    await step(page, 'access-password');
    assert.deepEqual((await api.get(`/api/v1/videos/${videoId}/access`)).body.audiences, [{ type: 'password' }]);

    const anonymous = await newPage();
    assert.deepEqual((await anonymous.context.cookies(haven.url)).filter((c) => c.name === SESSION_COOKIE), []);
    await go(anonymous.page, `/watch/${videoId}`);
    await anonymous.page.waitForSelector('#haven-password');
    await step(anonymous.page, 'watch-password-prompt');
    await anonymous.page.fill('#haven-password', 'not the password');
    await anonymous.page.press('#haven-password', 'Enter');
    await anonymous.page.waitForSelector('.haven-password .haven-error');
    await anonymous.page.fill('#haven-password', VIDEO_PASSWORD);
    await anonymous.page.click('.haven-password button[type="submit"]');
    assert.ok((await playsInPlayer(anonymous.page)) > 0.5);
    await step(anonymous.page, 'watch-anonymous-playing');
    await anonymous.context.close();

    // 6. A member asks for their data; the admin approves it in the privacy center and downloads the archive.
    await haven.platform.db.withTenant(tenantId, (tx) => addMember(tx, tenantId, { email: VIEWER, password: PASSWORD, role: 'viewer', emailVerified: true }));
    const viewer = new ApiClient(haven.url);
    await viewer.signIn(VIEWER, PASSWORD);
    assert.equal((await api.patch('/api/v1/privacy/dsar-settings', { requireApproval: true })).status, 200);
    const filed = await viewer.post('/api/v1/privacy/requests', { type: 'access' });
    assert.equal(filed.status, 201, JSON.stringify(filed.body));
    await go(page, '/admin/privacy');
    const row = page.locator(`tr[data-request="${filed.body.id}"]`);
    await row.getByTestId('dsar-state').filter({ hasText: 'Awaiting decision' }).waitFor();
    await step(page, 'privacy-center-request');
    await row.getByRole('button', { name: 'Approve' }).click();
    await until('the request to complete', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await sleep(400);
      return (await row.getByTestId('dsar-state').textContent()) === 'Complete';
    }, 40_000);
    await row.getByRole('button', { name: 'Create download link' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('dsar-download').click()]);
    const zip = readFileSync((await download.path())!);
    assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004', 'the archive is a ZIP');
    const files = unzipSync(new Uint8Array(zip));
    const manifest = JSON.parse(strFromU8(files['manifest.json']!));
    assert.equal(manifest.subject.email, VIEWER, 'the archive is the person\'s');
    await step(page, 'privacy-center-complete');

    // 7. Delete the video to the trash and restore it.
    await go(page, `/videos/${videoId}`);
    await page.getByRole('button', { name: 'Delete video' }).click();
    await page.getByRole('dialog', { name: 'Delete video' }).getByRole('button', { name: 'Move to trash' }).click();
    await page.waitForURL(/\/library$/);
    assert.equal((await api.get(`/api/v1/videos/${videoId}`)).status, 404);
    await go(page, '/trash');
    const trashed = page.getByRole('row').filter({ hasText: title });
    await trashed.waitFor();
    await step(page, 'trash');
    await trashed.getByRole('button', { name: /Restore/ }).click();
    await page.getByText(`“${title}” restored.`).waitFor();
    assert.equal((await api.get(`/api/v1/videos/${videoId}`)).body.status, 'ready');

    // 8. The audit log: the chain verifies, and each thing just done is there.
    await go(page, '/admin/audit');
    await page.getByTestId('audit-verify').filter({ hasText: 'Verified' }).waitFor();
    const expected: [string, string[]][] = [
      ['consent', ['consent.accepted']],
      ['account.totp', ['account.totp.enable']],
      ['video', ['video.upload.complete', 'video.ready', 'video.access.update', 'video.trash', 'video.restore']],
      ['privacy.request', ['privacy.request.create', 'privacy.request.approve', 'privacy.request.complete']],
      ['dsar.export', ['dsar.export.download']],
    ];
    const actorOf = new Map<string, string>();
    for (const [prefix, actions] of expected) {
      await page.getByLabel('Action or prefix').fill(prefix);
      await page.getByRole('button', { name: 'Search' }).click();
      const seen = await until(`audit entries for ${prefix}`, async () => {
        const cells = await page.locator('[data-testid=audit-table] tbody tr td:nth-child(2)').allTextContents();
        return cells.length > 0 && cells.every((a) => a.startsWith(prefix)) && actions.every((a) => cells.includes(a)) && cells;
      }, 10_000).catch(async (err: Error) => {
        const cells = await page.locator('[data-testid=audit-table] tbody tr td:nth-child(2)').allTextContents();
        throw new Error(`${err.message}: the log shows ${JSON.stringify(cells)}, expected ${JSON.stringify(actions)}`);
      });
      assert.ok(seen.length >= actions.length);
      const actorCells = await page.locator('[data-testid=audit-table] tbody tr td:nth-child(4)').allTextContents();
      seen.forEach((action, i) => { if (!actorOf.has(action)) actorOf.set(action, actorCells[i]!); });
      if (prefix === 'video') await step(page, 'audit-log');
    }
    // The owner (shown by a pseudonymous reference) did the trash, the approval and the download.
    const ownerRef = actorOf.get('video.trash')!;
    assert.match(ownerRef, /^p_/);
    assert.equal(actorOf.get('privacy.request.approve'), ownerRef);
    assert.equal(actorOf.get('dsar.export.download'), ownerRef);
    assert.notEqual(actorOf.get('privacy.request.create'), ownerRef, 'the member filed the request themselves');
    assertSameOrigin(requests, haven.url);
  });
});
