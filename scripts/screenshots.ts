// Regenerates the README's screenshots (docs/screenshots/*.png) from a real
// Haven and Chromium: a temp embedded PostgreSQL, a fresh build of web/, an
// organization with generated videos, members and a data-subject request.
// Run: node_modules/.bin/node scripts/screenshots.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { withDatabaseName } from '../src/platform/db/database.ts';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { startHaven } from '../src/main.ts';
import { CHROMIUM_ARGS, SESSION_COOKIE } from '../test/helpers/browser.ts';
import { ApiClient } from '../test/helpers/client.ts';
import { freePort } from '../bench/lib/processes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs/screenshots');
const PASSWORD = 'correct horse battery staple';
const TITLES = ['Quarterly all-hands, spring', 'Product demo: the new dashboard', 'Onboarding week 1: welcome', 'Security awareness training', 'Customer webinar: data residency',
  'Town hall Q&A', 'Engineering deep dive: search', 'Sales kickoff keynote', 'Support playbook walkthrough', 'Design review: mobile player', 'Board update, March', 'Recruiting: life at Northwind'];

const tmp = mkdtempSync(join(tmpdir(), 'haven-screenshots-'));
const pgDir = mkdtempSync(join(tmpdir(), 'haven-screenshots-pg-'));
const dist = join(tmp, 'dist');
execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--outDir', dist, '--emptyOutDir', '--logLevel', 'error'], { cwd: root, stdio: 'inherit' });
const postgres = await startEmbeddedPostgres(pgDir, await freePort(), () => undefined);
const haven = await startHaven(loadConfig({ HAVEN_CONFIG: '', HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'warn', HAVEN_DATA_DIR: join(tmp, 'data'), DATABASE_URL: withDatabaseName(postgres.url, 'haven_screens') }, { port: 0, backupSchedule: 'off' }),
  { workers: true, http: true, webDistDir: dist, logDestination: { write: () => undefined } });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const url = haven.url!;
  const { tenant } = await haven.modules.setup({ tenantName: 'Northwind Media', adminEmail: 'olivia@northwind.test', adminPassword: PASSWORD });
  const owner = new ApiClient(url);
  await owner.signIn('olivia@northwind.test', PASSWORD);
  const ids: string[] = [];
  for (const [i, title] of TITLES.entries()) {
    const id = crypto.randomUUID();
    ids.push(id);
    await haven.platform.db.withTenant(tenant.id, (tx) => tx.insertInto('videos').values({
      id, tenant_id: tenant.id, region: tenant.region, title, description: `${title}. Recorded at Northwind's Stockholm office.`, language: 'en',
      tags: [['internal', 'all-hands'], ['product'], ['onboarding', 'hr'], ['security', 'training']][i % 4]!, custom_fields: JSON.stringify({}), captions_text: '',
      status: i === 1 ? 'processing' : 'ready', progress_percent: i === 1 ? 45 : 100, duration_ms: (300 + i * 137) * 1000,
      created_at: new Date(Date.now() - i * 86_400_000), published_state: i % 3 === 0 ? 'draft' : 'published', publish_at: null,
    }).execute());
  }
  await owner.call('PUT', `/api/v1/videos/${ids[0]}/access`, { audiences: [{ type: 'tenant' }, { type: 'password' }], password: 'spring all hands 2026' });
  await owner.patch(`/api/v1/videos/${ids[0]}`, { tags: ['internal', 'all-hands'] });
  await owner.call('DELETE', `/api/v1/videos/${ids[11]}`);
  for (const [email, role] of [['victor@northwind.test', 'viewer'], ['erik@northwind.test', 'editor']] as const) {
    await haven.platform.db.withTenant(tenant.id, (tx) => addMember(tx, tenant.id, { email, password: PASSWORD, role, emailVerified: true }));
  }
  await owner.patch('/api/v1/privacy/dsar-settings', { requireApproval: true });
  const viewer = new ApiClient(url);
  await viewer.signIn('victor@northwind.test', PASSWORD);
  await viewer.post('/api/v1/privacy/requests', { type: 'access' });

  // 1152×720 keeps each PNG under 150 KB.
  const context = await browser.newContext({ viewport: { width: 1152, height: 720 }, locale: 'en-US' });
  await context.addCookies([{ name: SESSION_COOKIE, value: owner.cookie!.slice(`${SESSION_COOKIE}=`.length), url, httpOnly: true, sameSite: 'Lax' }]);
  const page = await context.newPage();
  mkdirSync(out, { recursive: true });
  const shot = async (name: string) => {
    await page.waitForLoadState('networkidle');
    const file = join(out, `${name}.png`);
    await page.screenshot({ path: file });
    process.stdout.write(`${file} ${(statSync(file).size / 1024).toFixed(0)} KB\n`);
  };
  const open = async (path: string, wait: (p: Page) => Promise<unknown>) => {
    await page.goto(new URL(path, url).href);
    await wait(page);
  };
  await page.setViewportSize({ width: 1024, height: 640 }); // the grid's posters compress least
  await open('/library', (p) => p.locator('.lib-grid .lib-card').first().waitFor());
  await shot('library');
  await page.setViewportSize({ width: 1152, height: 720 });
  await page.getByRole('button', { name: 'Upload', exact: true }).first().click();
  await page.getByRole('dialog', { name: 'Upload videos' }).waitFor();
  await shot('upload-dialog');
  await open(`/videos/${ids[0]}?tab=access`, (p) => p.getByRole('button', { name: 'Save access' }).waitFor());
  await shot('access-editor');
  await open('/admin/privacy', (p) => p.locator('tr[data-request]').first().waitFor());
  await shot('privacy-center');
  await open('/admin/audit', (p) => p.getByTestId('audit-table').waitFor());
  await shot('audit-log');
  await open('/trash', (p) => p.getByRole('row').filter({ hasText: TITLES[11]! }).waitFor());
  await shot('trash');
} finally {
  await browser.close();
  await haven.close();
  await postgres.stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(pgDir, { recursive: true, force: true });
}
