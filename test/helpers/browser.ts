// Real Chromium (Debian's, driven by playwright-core) for the web app's
// tests: launch, open a page signed in or not, run axe-core, record every
// request (to prove no third-party origin is contacted), save screenshots.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ApiClient } from './client.ts';

export type { Browser, BrowserContext, Page };

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const SESSION_COOKIE = 'haven_session';
const artifacts = fileURLToPath(new URL('../../test-artifacts/screens/', import.meta.url));
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeCode: string | undefined;
const axeSource = () => (axeCode ??= readFileSync(axePath, 'utf8'));

/**
 * Chromium features to turn off on top of Playwright's own list. The omnibox's WebUI popup is built,
 * in a renderer process of its own, for every browser window, and Playwright opens each new context
 * in a new window; headless, nobody ever sees it. Measured against a Haven: a new context + page +
 * sign-in page load went from ~3.4 to ~1.9 Chromium CPU-seconds (the browser process 0.9 -> 0.56).
 * It is browser UI only: what the page under test gets is unchanged.
 */
const EXTRA_DISABLED_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'PreloadTopChromeWebUI'];
/**
 * The features playwright-core (1.65) disables with its own --disable-features switch. Chromium
 * keeps only the last --disable-features switch on its command line, so adding features means
 * repeating Playwright's list and dropping its switch (ignoreDefaultArgs, an exact match);
 * launchBrowser checks that this still is Playwright's list and adapts when an upgrade changed it.
 */
let playwrightDisabledFeatures = ['AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades', 'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding', 'ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect', 'TcpPortRandomizationWin', 'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch', 'msForceBrowserSignIn', 'msEdgeUpdateLaunchServicesPreferredVersion'];

/** The --disable-features values on the command lines of this process's Chromium browser processes, by pid. */
function chromiumDisableFeatures(): Map<number, string[][]> {
  const found = new Map<number, string[][]>();
  let entries: string[] = [];
  try { entries = readdirSync('/proc'); } catch { /* not Linux */ }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!args[0]?.includes('chromium') || args.some((a) => a.startsWith('--type='))) continue;
      found.set(Number(entry), args.filter((a) => a.startsWith('--disable-features=')).map((a) => a.slice('--disable-features='.length).split(',')));
    } catch { /* the process ended meanwhile */ }
  }
  return found;
}

/** Chromium with CHROMIUM_ARGS (and extraArgs), without the browser UI a headless test never sees. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  for (let attempt = 0; ; attempt++) {
    const before = chromiumDisableFeatures();
    const ours = [...playwrightDisabledFeatures, ...EXTRA_DISABLED_FEATURES];
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, ...extraArgs, `--disable-features=${ours.join(',')}`],
      ignoreDefaultArgs: [`--disable-features=${playwrightDisabledFeatures.join(',')}`],
    });
    // When an upgrade changed Playwright's list, its switch was not dropped and ours replaced it:
    // learn its list and launch again (on Linux only; elsewhere there is no /proc to read).
    const theirs = [...chromiumDisableFeatures()].filter(([pid]) => !before.has(pid)).flatMap(([, lists]) => lists.slice(0, -1)).flat();
    const missing = [...new Set(theirs)].filter((f) => !ours.includes(f));
    if (missing.length === 0) return browser;
    await browser.close();
    if (attempt > 0) throw new Error(`cannot merge Chromium's --disable-features with Playwright's (${theirs.join(',')})`);
    playwrightDisabledFeatures = [...new Set(theirs)];
  }
}

export interface Opened {
  page: Page;
  context: BrowserContext;
  /** Every request URL the page made, in order. */
  requests: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** The API client whose session the page shares (when signed in). */
  api?: ApiClient;
}

export interface OpenOptions {
  /** Signs in through the API and puts the session cookie into the browser. */
  signedInAs?: { email: string; password: string; totp?: string };
  /** Path to open first (default: none — the caller navigates). */
  path?: string;
  viewport?: { width: number; height: number };
  locale?: string;
}

/** Signs in through the API; returns the client and its raw session cookie value. */
export async function sessionCookie(baseUrl: string, email: string, password: string, totp?: string): Promise<{ api: ApiClient; value: string }> {
  const api = new ApiClient(baseUrl);
  await api.signIn(email, password, totp ? { totp } : {});
  const value = api.cookie!.slice(`${SESSION_COOKIE}=`.length);
  return { api, value };
}

/** A fresh browser context (own cookies) and page on the Haven, optionally signed in. */
export async function openPage(browser: Browser, haven: { url: string }, opts: OpenOptions = {}): Promise<Opened> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, locale: opts.locale ?? 'en-US' });
  let api: ApiClient | undefined;
  if (opts.signedInAs) {
    const signed = await sessionCookie(haven.url, opts.signedInAs.email, opts.signedInAs.password, opts.signedInAs.totp);
    api = signed.api;
    await context.addCookies([{ name: SESSION_COOKIE, value: signed.value, url: haven.url, httpOnly: true, sameSite: 'Lax' }]);
  }
  const page = await context.newPage();
  const { requests, errors } = recordRequests(page);
  if (opts.path) await page.goto(new URL(opts.path, haven.url).href);
  return { page, context, requests, errors, api };
}

/** Records every request URL and every console error / page error of a page. */
export function recordRequests(page: Page): { requests: string[]; errors: string[] } {
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => { requests.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => { errors.push(String(e)); });
  return { requests, errors };
}

/**
 * Where a page's tus uploads resumed: the Upload-Offset of every HEAD answer
 * (the server's offset, asked when an upload resumes) and of every PATCH
 * request (where the page sent from), in order.
 */
export function recordUploadOffsets(page: Page): { heads: number[]; patches: number[] } {
  const heads: number[] = [];
  const patches: number[] = [];
  const isUpload = (url: string) => new URL(url).pathname.startsWith('/api/v1/uploads/');
  page.on('request', (r) => { if (r.method() === 'PATCH' && isUpload(r.url())) patches.push(Number(r.headers()['upload-offset'])); });
  page.on('response', (r) => { if (r.request().method() === 'HEAD' && isUpload(r.url())) heads.push(Number(r.headers()['upload-offset'])); });
  return { heads, patches };
}

/** Fails when any request went to another origin than the Haven's. */
export function assertSameOrigin(requests: string[], origin: string): void {
  const allowed = new URL(origin).origin;
  const foreign = requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== allowed);
  assert.deepEqual(foreign, [], `requests to third-party origins: ${foreign.join(', ')}`);
}

/** Runs axe-core on the page; fails on serious or critical violations with a readable list. */
export async function expectNoA11yViolations(page: Page, label: string): Promise<void> {
  // Evaluated in the page (this file is type-checked without the DOM library).
  // Evaluated over the DevTools protocol, so the page's CSP (no inline script) does not block it.
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource());
  const result = (await page.evaluate('window.axe.run(document, { resultTypes: ["violations"] })')) as {
    violations: { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary?: string }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `- [${v.impact}] ${v.id}: ${v.help}\n${v.nodes.slice(0, 5).map((n) => `    at ${n.target.join(' ')}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`).join('\n')}`).join('\n');
  assert.equal(bad.length, 0, `axe-core found serious/critical violations on ${label}:\n${text}`);
}

/**
 * Saves a full-page screenshot to test-artifacts/screens/<name>.png when
 * HAVEN_TEST_SCREENSHOTS is set (a long page takes seconds to capture, and
 * nothing reads them in CI); a screenshot of a failure (a name starting with
 * "failed") is always saved.
 */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  if (!process.env.HAVEN_TEST_SCREENSHOTS && !name.startsWith('failed')) return undefined;
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Whether the page scrolls sideways (a layout that does not fit the viewport). */
export async function hasHorizontalScroll(page: Page): Promise<boolean> {
  return (await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth + 1')) as boolean;
}

/** The session cookie the browser holds, if any. */
export async function browserSessionCookie(context: BrowserContext, baseUrl: string): Promise<string | undefined> {
  const cookies = await context.cookies(baseUrl);
  return cookies.find((c) => c.name === SESSION_COOKIE)?.value;
}
