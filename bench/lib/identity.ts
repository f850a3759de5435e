// What the identity benchmarks need beyond bench/lib/haven.ts and load.ts:
// a Haven started with settings of the bench's choosing (startHavenProcess
// clears every HAVEN_* variable), the real CLI against its data dir, sign-in
// over HTTP, latencies with sub-millisecond precision (autocannon's own
// histogram keeps whole milliseconds only), and the CPU time of Haven's
// PostgreSQL, where throttled requests do most of their work.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type BenchDataDir, postmasterPid, repoRoot } from './haven.ts';
import { exited, processGone, sleep, terminate, track } from './processes.ts';

export interface ConfiguredHaven {
  pid: number;
  url: string;
  dataDir: BenchDataDir;
  /** The environment Haven runs with; the CLI gets the same so it works on the same data dir. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The operator's environment minus anything that would point Haven elsewhere, plus the bench's settings. */
function havenEnv(dataDir: BenchDataDir, settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  for (const key of Object.keys(env)) if (key.startsWith('HAVEN_')) delete env[key];
  return {
    ...env,
    HAVEN_CONFIG: '',
    HAVEN_DATA_DIR: dataDir.path,
    HAVEN_PORT: String(dataDir.httpPort),
    HAVEN_EMBEDDED_DB_PORT: String(dataDir.databasePort),
    HAVEN_LOG_LEVEL: 'info',
    ...settings,
  };
}

/**
 * `node bin/haven.js serve` on an initialized data dir with HAVEN_* settings
 * (e.g. HAVEN_TRUST_PROXY). Only the last 64 kB of its output are kept: a
 * load test at log level info would otherwise fill the bench's memory.
 */
export async function startConfiguredHaven(dataDir: BenchDataDir, settings: Record<string, string>): Promise<ConfiguredHaven> {
  const env = havenEnv(dataDir, settings);
  const url = `http://127.0.0.1:${dataDir.httpPort}`;
  const child = spawn(process.execPath, ['bin/haven.js', 'serve'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => { output = (output + d.toString()).slice(-65_536); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = () => stopConfiguredHaven(child, dataDir);
  const untrack = track({ stop });
  try {
    await waitUntilReady(url, child, () => output);
  } catch (err) {
    untrack();
    await stop();
    throw err;
  }
  return { pid: child.pid!, url, dataDir, env, async stop() { untrack(); await stop(); } };
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Haven exited before it was ready:\n${output().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
  }
  throw new Error(`Haven was not ready within ${timeoutMs} ms:\n${output().slice(-2000)}`);
}

/** SIGTERM (SIGKILL after 30 s); a Haven that had to be killed leaves its postmaster, which is stopped here. */
async function stopConfiguredHaven(child: ChildProcess, dataDir: BenchDataDir): Promise<void> {
  await terminate(child);
  if (!existsSync(join(dataDir.path, 'postgres', 'postmaster.pid'))) return;
  const pid = postmasterPid(dataDir);
  if (!(pid > 0) || processGone(pid)) return;
  process.stderr.write(`Haven left its PostgreSQL (pid ${pid}) running; stopping it\n`);
  try { process.kill(pid, 'SIGINT'); } catch { return; }
  for (const deadline = Date.now() + 30_000; !processGone(pid) && Date.now() < deadline;) await sleep(50);
}

/** Runs the real `haven` CLI against the running Haven's data dir; throws with its output when it fails. */
export async function runHavenCli(haven: ConfiguredHaven, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['bin/haven.js', ...args], { cwd: repoRoot, env: haven.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const untrack = track({ stop: () => terminate(child, 5000) });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d; });
  child.stderr!.on('data', (d: Buffer) => { output += d; });
  const code = await exited(child);
  untrack();
  if (code !== 0) throw new Error(`haven ${args[0]} ${args[1] ?? ''} exited ${code}:\n${output.slice(-2000)}`);
  return output;
}

export interface SignedIn { cookie: string; csrfToken: string }

/** One sign-in over HTTP; `from` is sent as X-Forwarded-For (Haven must trust 127.0.0.1 as its proxy for it to count). */
export async function postLogin(url: string, email: string, password: string, from?: string): Promise<Response> {
  return fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}) },
    body: JSON.stringify({ email, password }),
  });
}

/** Signs in and accepts every pending consent document, so the session passes the consent gate. */
export async function signIn(url: string, email: string, password: string, from?: string): Promise<SignedIn> {
  const res = await postLogin(url, email, password, from);
  const body = await res.json() as { csrfToken?: string };
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('haven_session='))?.split(';')[0];
  if (res.status !== 200 || !cookie || !body.csrfToken) throw new Error(`sign-in of ${email} answered ${res.status}: ${JSON.stringify(body)}`);
  const session = { cookie, csrfToken: body.csrfToken };
  const consent = await callApi(url, session, 'GET', '/api/v1/consent', undefined, from) as { items: { id: string; decision: string | null }[] };
  for (const doc of consent.items) {
    if (doc.decision !== 'accepted') await callApi(url, session, 'POST', `/api/v1/consent/${doc.id}`, { decision: 'accepted' }, from);
  }
  return session;
}

/** A call with the session cookie and CSRF token; throws on anything but 2xx. */
export async function callApi(url: string, session: SignedIn, method: string, path: string, body?: unknown, from?: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(from ? { 'x-forwarded-for': from } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

interface AutocannonInstance extends PromiseLike<{ errors: number; timeouts: number }> {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; headers?: Record<string, string> }) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LatencySample {
  seconds: number;
  /** Every response time in ms, fractional (autocannon measures with process.hrtime). */
  latenciesMs: number[];
  /** Responses by status code; errors and timeouts are counted apart. */
  statuses: Map<number, number>;
  failed: number;
}

/** autocannon load with request headers, keeping every response time instead of autocannon's whole-millisecond histogram. */
export async function loadWithLatencies(url: string, connections: number, durationSeconds: number, headers: Record<string, string> = {}): Promise<LatencySample> {
  const latenciesMs: number[] = [];
  const statuses = new Map<number, number>();
  const run = autocannon({ url, connections, duration: durationSeconds, headers });
  run.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    latenciesMs.push(responseTimeMs);
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
  });
  const result = await run;
  return { seconds: durationSeconds, latenciesMs, statuses, failed: result.errors + result.timeouts };
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU time (user + system, ms) of Haven's embedded PostgreSQL: the postmaster,
 * every live backend under it, and the backends that already exited (the
 * kernel adds a reaped child's time to its parent's cutime/cstime).
 */
export function postgresCpuMs(dataDir: BenchDataDir): number {
  const postmaster = postmasterPid(dataDir);
  const stats = new Map<number, string[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      stats.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch { /* exited meanwhile */ }
  }
  const own = stats.get(postmaster);
  if (!own) throw new Error(`PostgreSQL (pid ${postmaster}) is not running`);
  // Fields after the command name, 0-based: 1 ppid, 11 utime, 12 stime, 13 cutime, 14 cstime.
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const fields of stats.values()) if (Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  return (ticks / clockTicksPerSecond) * 1000;
}
