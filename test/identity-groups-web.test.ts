// Groups in real Chromium against a real Haven: an admin creates a group
// on the Groups page and puts a person in it, an editor opens a video to
// that group in the access editor, the person is taken out again; axe-core
// on both pages, no request leaves the origin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { assertSameOrigin, type Browser, expectNoA11yViolations, launchBrowser, openPage, type Page, screenshot } from './helpers/browser.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org, PASSWORD } from './helpers/library.ts';

describe('groups in the web app', () => {
  let haven: TestHaven;
  let org: Org;
  let browser: Browser;
  let viewerId: string;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Groups Web Org');
    await org.as('viewer');
    await org.as('editor');
    viewerId = ((await org.owner.get('/api/v1/users')).body.items as { id: string; email: string }[]).find((u) => u.email.startsWith('viewer@'))!.id;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
  });

  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  async function check(page: Page, requests: string[], name: string) {
    if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
    await expectNoA11yViolations(page, name);
    assertSameOrigin(requests, haven.url);
    await screenshot(page, `groups-${name}`);
  }

  test('an admin creates a group and adds a person; an editor opens a video to the group; the admin takes the person out', async () => {
    const admin = await openPage(browser, haven, { signedInAs: { email: `owner@${org.slug}.test`, password: PASSWORD }, path: '/admin/groups' });
    const { page } = admin;
    await page.locator('h1#page-title').waitFor();
    await page.getByText('No groups yet.').waitFor();
    // Client-side check first, then the server's answer.
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByText('Give the group a name.').first().waitFor();
    await page.getByLabel('Name').fill('Sales');
    await page.getByLabel('Description (optional)').fill('Field sales');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByText('The group Sales was created.').waitFor();
    await page.getByTestId('groups-table').getByText('Sales', { exact: true }).waitFor();
    // The same name in other case: the server's 409, shown in the form.
    await page.getByRole('form', { name: 'New group' }).getByLabel('Name').fill('SALES');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByText(/already exists/).waitFor();

    // Manage was opened for the new group: add the viewer.
    await page.getByRole('heading', { name: 'Group: Sales' }).waitFor();
    await page.getByLabel('Person', { exact: true }).selectOption(viewerId);
    await page.getByRole('button', { name: 'Add to group' }).click();
    await page.getByTestId('group-members-table').getByText(`viewer@${org.slug}.test`).waitFor();
    const groups = (await org.owner.get('/api/v1/groups')).body.items as { id: string; name: string; memberCount: number }[];
    const sales = groups.find((g) => g.name === 'Sales')!;
    assert.equal(sales.memberCount, 1);
    await check(page, admin.requests, 'admin');

    // The editor's access editor offers the group.
    const videoId = await insertVideo(haven, org, { title: 'Sales kickoff', publishedState: 'published' });
    const editor = await openPage(browser, haven, { signedInAs: { email: `editor@${org.slug}.test`, password: PASSWORD }, path: `/videos/${videoId}?tab=access` });
    const ep = editor.page;
    await ep.getByText('Every signed-in member of your organization can watch.').waitFor();
    await ep.getByTestId('access-groups').getByLabel('Sales', { exact: true }).check();
    await ep.getByText('Signed-in members of your organization in Sales can watch.').waitFor();
    await ep.getByRole('button', { name: 'Save access' }).click();
    await ep.getByText('Access saved.').waitFor();
    const access = await org.owner.get(`/api/v1/videos/${videoId}/access`);
    assert.deepEqual(access.body.audiences, [{ type: 'members', groups: [sales.id] }]);
    await check(ep, editor.requests, 'access');
    await editor.context.close();

    // Out of the group again.
    await page.getByTestId('group-members-table').getByRole('button', { name: 'Remove from group' }).click();
    await page.getByText(/is no longer in Sales/).waitFor();
    assert.deepEqual((await org.owner.get(`/api/v1/groups/${sales.id}/members`)).body.items, []);
    await admin.context.close();
  });
});
