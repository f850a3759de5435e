// The admin console in real Chromium against a real Haven: a data-subject
// export approved and downloaded, the audit log filtered and verified, an
// invitation, a setting that persists, a webhook with a delivery in its log;
// axe-core on every page, 360 px, screenshots. Plus the operators' backups
// overview route.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from './helpers/client.ts';
import { assertSameOrigin, type Browser, expectNoA11yViolations, hasHorizontalScroll, launchBrowser, openPage, type Page, screenshot } from './helpers/browser.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org, PASSWORD } from './helpers/library.ts';

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('web admin', () => {
  let haven: TestHaven;
  let org: Org;
  let browser: Browser;
  let receiver: Server;
  let receiverUrl = '';
  const received: string[] = [];
  const owner = () => ({ email: `owner@${org.slug}.test`, password: PASSWORD });

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { received.push(body); res.writeHead(200).end('ok'); });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    haven = await startTestHaven({ config: { webhooksAllowPrivateTargets: true } });
    org = await createOrg(haven, 'Admin Web Org');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  async function open(path: string, viewport?: { width: number; height: number }) {
    const opened = await openPage(browser, haven, { signedInAs: owner(), path, viewport });
    await opened.page.locator('h1#page-title').waitFor();
    return opened;
  }
  async function checkPage(page: Page, requests: string[], name: string) {
    await expectNoA11yViolations(page, name);
    assertSameOrigin(requests, haven.url);
    await screenshot(page, `admin-${name}`);
  }

  test('backups overview: operators only', async () => {
    const anonymous = await haven.request('/api/v1/platform/backups');
    assert.equal(anonymous.status, 401);
    assert.equal((await org.owner.get('/api/v1/platform/backups')).status, 403);
    const other = await createOrg(haven, 'Operator Org');
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = $1`, [`owner@${other.slug}.test`]);
    const operator = new ApiClient(haven.url);
    await operator.signIn(`owner@${other.slug}.test`, PASSWORD);
    const res = await operator.get('/api/v1/platform/backups');
    assert.equal(res.status, 200);
    assert.equal(res.body.schedule, 'off');
    assert.deepEqual(res.body.backups, []);
    assert.equal(typeof res.body.retention.weeklyDays, 'number');
    const { page, requests } = await openPage(browser, haven, { signedInAs: { email: `owner@${other.slug}.test`, password: PASSWORD }, path: '/admin/backups' });
    await page.getByTestId('backups-none').waitFor();
    await checkPage(page, requests, 'backups');
    await page.context().close();
  });

  test('privacy center: an admin approves an access request and downloads the archive', async () => {
    assert.equal((await org.owner.patch('/api/v1/privacy/dsar-settings', { requireApproval: true })).status, 200);
    // The person files it themselves; an admin filing on someone's behalf is its own approval.
    const viewer = await org.as('viewer');
    const filed = await viewer.post('/api/v1/privacy/requests', { type: 'access' });
    assert.equal(filed.status, 201, JSON.stringify(filed.body));
    const { page, requests } = await open('/admin/privacy');
    const row = page.locator(`tr[data-request="${filed.body.id}"]`);
    await row.waitFor();
    const state = (await org.owner.get('/api/v1/privacy/tenant-requests')).body.items.find((r: { id: string }) => r.id === filed.body.id).state;
    assert.equal(state, 'pending', 'with approval required, it waits for a decision');
    await row.getByTestId('dsar-state').filter({ hasText: 'Awaiting decision' }).waitFor();
    await checkPage(page, requests, 'privacy-requests');
    await row.getByRole('button', { name: 'Approve' }).click();
    await until('the request to complete', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await sleep(500);
      return (await row.getByTestId('dsar-state').textContent()) === 'Complete';
    }, 40_000);
    await row.getByRole('button', { name: 'Create download link' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('dsar-download').click()]);
    const zip = readFileSync(await download.path());
    assert.equal(zip.subarray(0, 2).toString('latin1'), 'PK', 'the archive is a ZIP');
    for (const tab of ['Data map', 'Records of processing', 'Subprocessors and residency']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('tabpanel').locator('h2').first().waitFor();
      await checkPage(page, requests, `privacy-${tab}`);
    }
    await page.context().close();
  });

  test('audit log: filter by action prefix, verification ok, 360 px', async () => {
    const { page, requests } = await open('/admin/audit');
    await page.getByTestId('audit-verify').filter({ hasText: 'Verified' }).waitFor();
    await page.getByLabel('Action or prefix').fill('Bad Action');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Use a dotted action name').waitFor();
    await page.getByLabel('Action or prefix').fill('auth');
    await page.getByRole('button', { name: 'Search' }).click();
    await until('filtered rows', async () => {
      const actions = await page.locator('[data-testid=audit-table] tbody tr td:nth-child(2)').allTextContents();
      return actions.length > 0 && actions.every((a) => a.startsWith('auth')) && actions;
    });
    await checkPage(page, requests, 'audit');
    await page.setViewportSize({ width: 360, height: 800 });
    assert.equal(await hasHorizontalScroll(page), false, 'no sideways scroll at 360 px');
    await screenshot(page, 'admin-audit-360');
    await page.context().close();
  });

  test('people: invite someone', async () => {
    const { page, requests } = await open('/admin/users');
    await page.getByTestId('people-table').waitFor();
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText('Enter an email address').waitFor();
    await page.getByLabel('Email address').fill('newcomer@admin-web-org.test');
    await page.getByLabel('Role', { exact: true }).selectOption('editor');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByTestId('invitations-table').getByText('newcomer@admin-web-org.test').waitFor();
    const list = await org.owner.get('/api/v1/invitations');
    assert.ok(list.body.items.some((i: { email: string; role: string }) => i.email === 'newcomer@admin-web-org.test' && i.role === 'editor'));
    await checkPage(page, requests, 'users');
    await page.setViewportSize({ width: 360, height: 800 });
    assert.equal(await hasHorizontalScroll(page), false);
    await page.context().close();
  });

  test('settings: a change persists', async () => {
    const { page, requests } = await open('/admin/settings');
    const trash = page.getByLabel('Trash window (days)');
    await trash.waitFor();
    await trash.fill('0');
    await page.getByRole('form', { name: 'Organization and security' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('Enter a whole number from 1 to 365.').waitFor();
    await trash.fill('14');
    await page.getByRole('form', { name: 'Organization and security' }).getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('settings-saved').waitFor();
    assert.equal((await org.owner.get('/api/v1/tenant')).body.settings.trashRetentionDays, 14);
    await page.reload();
    await page.getByLabel('Trash window (days)').waitFor();
    assert.equal(await page.getByLabel('Trash window (days)').inputValue(), '14');
    await checkPage(page, requests, 'settings');
    await page.setViewportSize({ width: 360, height: 800 });
    assert.equal(await hasHorizontalScroll(page), false);
    await page.context().close();
  });

  test('webhooks: add an endpoint and see a delivery in its log', async () => {
    const { page, requests } = await open('/admin/webhooks');
    await page.getByLabel('Endpoint URL').fill(receiverUrl);
    await page.getByRole('form', { name: 'Add endpoint' }).getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByTestId('webhook-secret').waitFor();
    assert.match((await page.getByTestId('webhook-secret').textContent()) ?? '', /whsec_/);
    const videoId = await insertVideo(haven, org, { title: 'Hooked' });
    assert.equal((await org.owner.delete(`/api/v1/videos/${videoId}`)).status, 200);
    await until('the receiver to get the event', async () => received.some((b) => b.includes(videoId)));
    await until('a delivered row', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await sleep(300);
      return (await page.getByTestId('deliveries-table').getByText('Delivered').count()) > 0;
    });
    await checkPage(page, requests, 'webhooks');
    await page.context().close();
  });
});
