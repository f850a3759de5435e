// Real Chromium (Debian's, driven by playwright-core) for the web app's
// tests: launch, open a page signed in or not, run axe-core, record every
// request (to prove no third-party origin is contacted), save screenshots.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
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

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
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
