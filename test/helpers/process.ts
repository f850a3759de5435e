// Runs the real `haven` command in a child process, as an operator would.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const node = process.execPath;
const bin = `${root}bin/haven.js`;

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function runHaven(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(node, [bin, ...args], { cwd: root, env: cleanEnv(env), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface HavenProcess { child: ChildProcess; output: () => string; exited: Promise<number | null> }

export function spawnHaven(args: string[], env: Record<string, string | undefined>): HavenProcess {
  const child = spawn(node, [bin, ...args], { cwd: root, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The environment without the run's DATABASE_URL unless the test gives one. */
export function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, HAVEN_CONFIG: '', HAVEN_LOG_LEVEL: 'info' };
  delete base.DATABASE_URL;
  for (const k of Object.keys(base)) if (k.startsWith('HAVEN_') && !(k in env) && k !== 'HAVEN_CONFIG' && k !== 'HAVEN_LOG_LEVEL') delete base[k];
  return { ...base, ...env };
}

export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitReady(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => ((await fetch(`${baseUrl}/readyz`)).status === 200 ? true : undefined), timeoutMs, `${baseUrl}/readyz`);
}

/**
 * A random port for a server a test starts, stops and starts again on the
 * same port. Below Linux's ephemeral range (32768–60999): an outgoing
 * connection of any process can take a port in that range as its local end,
 * and a client connecting to its own port there can even connect to itself.
 */
export function freePort(): number {
  return 20000 + Math.floor(Math.random() * 12000);
}

/** A port the OS just reported free on 127.0.0.1 (a random one can be taken, by a server or another test). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** PIDs of postgres processes serving the given data dir. */
export function postgresPidsFor(dataDir: string): number[] {
  const r = spawnSync('pgrep', ['-f', `postgres -D ${dataDir}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}
