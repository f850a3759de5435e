// The library in real Chromium against a real Haven: a generated clip uploaded
// through the dialog with a page reload midway (the same file chosen again
// resumes from the server's offset, proven by the upload's received bytes and
// the first PATCH's Upload-Offset), processing followed live until ready;
// then search, metadata, the access policy set to password with its
// plain-language summary, a share link created and revoked, delete to the
// trash and restore, bulk tagging and collections. axe-core on every page,
// 360 px, screenshots.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSameOrigin, type Browser, expectNoA11yViolations, hasHorizontalScroll, launchBrowser, openPage, type Page, recordUploadOffsets, screenshot } from './helpers/browser.ts';
import type { Route } from 'playwright-core';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideos, type Org, PASSWORD } from './helpers/library.ts';

// The shared helper injects axe with addScriptTag, an inline script the CSP
// blocks; evaluating the source goes through the debugger protocol instead.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

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
function makeBigClip(dir: string): string {
  const file = join(dir, 'resume-clip.mp4');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-vf', 'noise=alls=60:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0',
    '-pix_fmt', 'yuv420p', '-g', '25', '-c:a', 'aac', '-shortest', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

describe('web library', () => {
  let haven: TestHaven;
  let org: Org;
  let browser: Browser;
  let dir: string;
  let clip: string;
  let videoId = '';
  const title = 'resume-clip';
  const owner = () => ({ email: `owner@${org.slug}.test`, password: PASSWORD });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-web-library-'));
    clip = makeBigClip(dir);
    haven = await startTestHaven();
    org = await createOrg(haven, 'Library Web Org');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string, viewport?: { width: number; height: number }) {
    const opened = await openPage(browser, haven, { signedInAs: owner(), path, viewport });
    await opened.page.locator('h1#page-title').waitFor();
    return opened;
  }
  async function axe(page: Page, name: string) {
    if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
    await expectNoA11yViolations(page, name);
  }
  async function check(page: Page, requests: string[], name: string) {
    await axe(page, name);
    assertSameOrigin(requests, haven.url);
    await screenshot(page, `library-${name}`);
  }

  test('upload a clip through the dialog, reload midway, resume from the offset, follow processing to ready', async () => {
    const { page, requests, context } = await open('/library');
    await check(page, requests, 'empty');
    // The first page of results was asked for once: at boot, beside the session and the page's code, and taken by the page.
    const searches = requests.filter((u) => new URL(u).pathname === '/api/v1/videos');
    assert.deepEqual(searches.map((u) => Object.fromEntries(new URL(u).searchParams)), [{ limit: '24', facets: 'true' }]);
    const requested = (path: string) => requests.findIndex((u) => new URL(u).pathname === path);
    assert.ok(requested('/api/v1/videos') < requested('/api/v1/auth/session'), 'the results were asked for before the session');

    // Let the first chunk through, hold the second: the server then has exactly one chunk.
    let patches = 0;
    const heldSeen = new Promise<string>((resolve) => {
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
    await dialog.locator('input[type=file]').setInputFiles(clip);
    const uploadUrl = await heldSeen;
    const uploadId = decodeURIComponent(new URL(uploadUrl).pathname.split('/').pop()!);
    const partial = await until('the first chunk on the server', async () => {
      const r = await org.owner.get(`/api/v1/uploads/${encodeURIComponent(uploadId)}`);
      return r.status === 200 && r.body.receivedBytes === CHUNK ? r.body : undefined;
    });
    assert.equal(partial.complete, false);
    await screenshot(page, 'library-upload-midway');

    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.reload();
    await page.locator('h1#page-title').waitFor();
    const offsets = recordUploadOffsets(page);

    // Releasing the held request may let part of the second chunk through before the reload cut it,
    // and the server may still be taking in that part: its offset can grow until the page asks for it.
    const atReload = await org.owner.get(`/api/v1/uploads/${encodeURIComponent(uploadId)}`);
    assert.equal(atReload.body.complete, false);
    assert.ok(atReload.body.receivedBytes >= CHUNK, `the server kept what arrived: ${atReload.body.receivedBytes}`);

    await page.getByRole('button', { name: 'Upload', exact: true }).first().click();
    await dialog.waitFor();
    await dialog.getByText('choose this file again to continue').waitFor();
    await axe(page, 'upload dialog');
    await dialog.locator('input[type=file]').setInputFiles(clip);
    await dialog.getByText(/resumed from/).waitFor();
    await screenshot(page, 'library-upload-resumed');
    await dialog.getByText('Ready to watch.').waitFor({ timeout: 120_000 });
    await screenshot(page, 'library-upload-ready');

    // The page asked the server where to go on (tus HEAD) and sent from there: nothing twice, nothing skipped.
    assert.ok(offsets.heads[0]! >= atReload.body.receivedBytes, `the server's offset at resume (${offsets.heads[0]}) is what it had at the reload or more`);
    assert.equal(offsets.patches[0], offsets.heads[0], `the first PATCH after the reload starts at the server's offset: ${offsets.patches.join(',')}`);
    const done = await org.owner.get(`/api/v1/uploads/${encodeURIComponent(uploadId)}`);
    assert.equal(done.body.complete, true);
    videoId = done.body.videoId;
    const list = await org.owner.get('/api/v1/videos');
    assert.deepEqual(list.body.items.map((v: { id: string }) => v.id), [videoId], 'one upload, one video: the reload did not start over');
    assert.equal(list.body.items[0].status, 'ready');
    assert.equal(list.body.items[0].title, title);
    await context.close();
  });

  test('search finds it; the video page edits metadata', async () => {
    assert.ok(videoId);
    const { page, requests, context } = await open('/library');
    await page.getByLabel('Search videos').fill('resume');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/q=resume/);
    await page.getByRole('link', { name: title }).waitFor();
    await page.getByText('Matching videos: 1').waitFor();
    await check(page, requests, 'search');
    await page.getByRole('button', { name: 'List' }).click();
    await page.getByRole('table').getByRole('link', { name: title }).click();
    await page.waitForURL(new RegExp(`/videos/${videoId}`));
    await page.locator('iframe.lib-player').waitFor();
    await page.getByLabel('Title').fill('Quarterly town hall');
    await page.getByLabel('Tags').fill('townhall, internal');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Details saved.').waitFor();
    const v = await org.owner.get(`/api/v1/videos/${videoId}`);
    assert.equal(v.body.title, 'Quarterly town hall');
    assert.deepEqual(v.body.tags, ['townhall', 'internal']);
    await check(page, requests, 'video');
    // The list view is remembered.
    await page.goto(new URL('/library', haven.url).href);
    await page.getByRole('table').waitFor();
    await context.close();
  });

  test('access: password audience with its summary; a share link created and revoked; embed code', async () => {
    const { page, requests, context } = await open(`/videos/${videoId}?tab=access`);
    await page.getByText('Every signed-in member of your organization can watch.').waitFor();
    await page.getByLabel('Signed-in members of the organization').uncheck();
    await page.getByLabel('Anyone who knows the password').check();
    await page.getByRole('button', { name: 'Save access' }).click();
    await page.getByText('The password needs at least 8 characters.').first().waitFor(); // client-side check
    await page.getByLabel('Password', { exact: true }).fill('open sesame 42');
    await page.getByRole('button', { name: 'Save access' }).click();
    await page.getByText('Access saved.').waitFor();
    await page.getByText('Anyone who enters the password can watch.').waitFor();
    assert.equal(await page.getByText('Every signed-in member of your organization can watch.').count(), 0);
    const access = await org.owner.get(`/api/v1/videos/${videoId}/access`);
    assert.deepEqual(access.body.audiences, [{ type: 'password' }]);
    assert.equal(access.body.hasPassword, true);

    await page.getByLabel('Label').fill('Board');
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByLabel('Share link', { exact: true }).inputValue();
    assert.match(url, new RegExp(`/watch/${videoId}\\?link=`));
    await page.getByRole('cell', { name: 'Active' }).waitFor();
    const embed = await page.getByLabel('Embed code').inputValue();
    assert.ok(embed.includes(`${haven.url.replace(/\/$/, '')}/embed/${videoId}`), embed);
    await check(page, requests, 'access');
    await page.getByRole('button', { name: /Revoke/ }).click();
    await page.getByText('Link revoked').waitFor();
    await page.getByRole('cell', { name: 'Revoked' }).waitFor();
    const links = await org.owner.get(`/api/v1/videos/${videoId}/links`);
    assert.equal(links.body.items[0].state, 'revoked');
    await context.close();
  });

  test('delete to the trash and restore', async () => {
    const { page, requests, context } = await open(`/videos/${videoId}`);
    await page.getByRole('button', { name: 'Delete video' }).click();
    await page.getByRole('dialog', { name: 'Delete video' }).getByRole('button', { name: 'Move to trash' }).click();
    await page.waitForURL(/\/library$/);
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}`)).status, 404);
    await page.goto(new URL('/trash', haven.url).href);
    const row = page.getByRole('row').filter({ hasText: 'Quarterly town hall' });
    await row.waitFor();
    await check(page, requests, 'trash');
    await row.getByRole('button', { name: /Restore/ }).click();
    await page.getByText('“Quarterly town hall” restored.').waitFor();
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}`)).status, 200);
    await context.close();
  });

  test('collections and bulk tagging', async () => {
    await insertVideos(haven, org, [{ title: 'Bulk one' }, { title: 'Bulk two' }]);
    const { page, requests, context } = await open('/library');
    await page.getByRole('button', { name: 'New collection' }).click();
    const dialog = page.getByRole('dialog', { name: 'New collection' });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Enter a name.').first().waitFor();
    await dialog.getByLabel('Name').fill('Town halls');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/collections\//);
    await page.locator('h1#page-title', { hasText: 'Town halls' }).waitFor();
    await page.getByRole('link', { name: 'All videos' }).click();
    await page.getByLabel('Select Bulk one').check();
    await page.getByLabel('Select Bulk two').check();
    await page.getByLabel('Tag to add').fill('Archive');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByText('Tag “archive” added to 2 videos.').waitFor();
    const tagged = await org.owner.get('/api/v1/videos?tag=archive');
    assert.deepEqual(tagged.body.items.map((v: { title: string }) => v.title).sort(), ['Bulk one', 'Bulk two']);
    await page.getByLabel('Select Bulk one').check();
    await page.getByLabel('Collection', { exact: true }).selectOption({ label: 'Town halls' });
    await page.getByRole('button', { name: 'Add to collection' }).click();
    await page.getByText('1 videos added to the collection.').waitFor();
    await page.getByRole('link', { name: /Town halls/ }).click();
    await page.getByRole('link', { name: 'Bulk one' }).waitFor();
    await check(page, requests, 'collection');
    await context.close();
  });

  test('360 px wide: library and video page fit without sideways scrolling', async () => {
    for (const path of ['/library', `/videos/${videoId}`, `/videos/${videoId}?tab=access`]) {
      const { page, requests, context } = await open(path, { width: 360, height: 740 });
      // Laid out once nothing is still loading. Not 'networkidle': the embedded player may keep
      // fetching segments, which on a busy machine can keep the network busy past any timeout.
      await page.waitForLoadState('load');
      await page.locator('main .loading').first().waitFor({ state: 'detached' });
      assert.equal(await hasHorizontalScroll(page), false, `${path} scrolls sideways at 360 px`);
      await check(page, requests, `360-${path.replace(/[^a-z]+/g, '-')}`);
      await context.close();
    }
  });
});
