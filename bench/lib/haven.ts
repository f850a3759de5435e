// Haven as an operator runs it, in a child process: `node bin/haven.js serve`
// (or `npm start`) on a temp data dir with embedded PostgreSQL and free ports.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, findDescendant, freePort, processGone, settlesWithin, sleep, track } from './processes.ts';

/** The V8 flags `npm start` and the haven command run with (package.json, bin/haven.js). */
export const HAVEN_NODE_FLAGS = ['--max-semi-space-size=2'];

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface BenchDataDir {
  path: string;
  httpPort: number;
  databasePort: number;
}

export interface HavenProcess {
  /** The Haven node process (for `npm start`, the node under npm, not npm). */
  pid: number;
  /** The process the bench spawned: the same as pid, or npm's. */
  launcherPid: number;
  url: string;
  /** Wall-clock time (Date.now()) just before the process was spawned. */
  spawnedAt: number;
  /** Wall-clock time when /readyz first answered 200. */
  readyAt: number;
  /** Wall-clock time of the first log line with this message (waits a little: logs are written asynchronously). */
  loggedAt(message: string): Promise<number>;
  stop(): Promise<void>;
}

interface LogLine { time: string; msg: string }

/**
 * A data dir that has seen one full start (initdb, migrations, generated
 * secrets), so the runs measured on it are restarts, as an operator's are.
 * It is removed when the benchmark ends, after every Haven that used it.
 */
export async function initializedDataDir(): Promise<BenchDataDir> {
  const path = mkdtempSync(join(tmpdir(), 'haven-bench-'));
  const remove = () => rmSync(path, { recursive: true, force: true });
  track({ stop: async () => remove() });
  const dataDir: BenchDataDir = { path, httpPort: await freePort(), databasePort: await freePort() };
  const first = await startHavenProcess(dataDir, { timeoutMs: 180_000 });
  await first.stop();
  return dataDir;
}

/**
 * Why `npm start` would do more than start Haven here (scripts/bootstrap.sh
 * would run npm ci or apt-get), or undefined when it would only start it. A
 * benchmark must not reinstall dependencies under a working tree as a side
 * effect; `npm run bench` runs the bootstrap first, so there this is undefined.
 */
export function npmStartWouldInstall(): string | undefined {
  const lock = createHash('sha256').update(readFileSync(join(repoRoot, 'package-lock.json'))).digest('hex');
  const stamp = join(repoRoot, 'node_modules', '.haven-lock-sha256');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== lock || !existsSync(join(repoRoot, 'node_modules', '.bin', 'node'))) {
    return 'node_modules is not installed from the current package-lock.json';
  }
  if (spawnSync('sh', ['-c', 'command -v ffmpeg && command -v ffprobe'], { stdio: 'ignore' }).status !== 0) return 'ffmpeg is not installed';
  return undefined;
}

export interface StartOptions {
  /** Start through `npm start` instead of `node bin/haven.js serve`. */
  viaNpm?: boolean;
  timeoutMs?: number;
}

export async function startHavenProcess(dataDir: BenchDataDir, opts: StartOptions = {}): Promise<HavenProcess> {
  const url = `http://127.0.0.1:${dataDir.httpPort}`;
  const env = havenEnv(dataDir);
  const spawnedAt = Date.now();
  // npm gets a process group of its own, so whatever it started can be stopped with it.
  const child = opts.viaNpm
    ? spawn('npm', ['start'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, [...HAVEN_NODE_FLAGS, 'bin/haven.js', 'serve'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });

  let havenPid: number | undefined = opts.viaNpm ? undefined : child.pid!;
  const stop = () => stopHaven(child, havenPid, Boolean(opts.viaNpm), dataDir);
  const untrack = track({ stop });
  let readyAt: number;
  try {
    readyAt = await waitUntilReady(url, child, () => output, opts.timeoutMs ?? 60_000);
    havenPid ??= findDescendant(child.pid!, 'bin/haven.js');
    if (havenPid === undefined) throw new Error('found no Haven process under npm start');
  } catch (err) {
    untrack();
    await stop();
    throw err;
  }

  return {
    pid: havenPid,
    launcherPid: child.pid!,
    url,
    spawnedAt,
    readyAt,
    async loggedAt(message) {
      for (const deadline = Date.now() + 5000; ; await sleep(20)) {
        const line = parseLogLines(output).find((l) => l.msg.startsWith(message));
        if (line) return Date.parse(line.time);
        if (Date.now() > deadline) throw new Error(`Haven never logged "${message}"`);
      }
    },
    async stop() {
      untrack();
      await stop();
    },
  };
}

/** The operator's environment minus anything that would point Haven elsewhere. */
function havenEnv(dataDir: BenchDataDir): NodeJS.ProcessEnv {
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
  };
}

/** Polls /readyz every 20 ms, so a start-up time is accurate to about that. */
async function waitUntilReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Haven exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return Date.now();
    } catch { /* not listening yet */ }
    await sleep(20);
  }
  throw new Error(`Haven was not ready within ${timeoutMs} ms:\n${output().slice(-2000)}`);
}

/**
 * SIGTERM to the Haven node process itself (not to npm, whose forwarding is not
 * Haven's concern here), then wait for the spawned process. A Haven that does
 * not stop within 30 s is killed, with npm's whole process group, and its
 * embedded postmaster is stopped by pid: nothing may outlive the bench, least
 * of all a server on a data dir that is about to be removed.
 */
async function stopHaven(child: ChildProcess, havenPid: number | undefined, ownGroup: boolean, dataDir: BenchDataDir): Promise<void> {
  const launcher = ownGroup ? -child.pid! : child.pid!;
  const done = exited(child);
  signal(havenPid ?? launcher, 'SIGTERM');
  // Under npm, npm can be gone while Haven is not: wait for both.
  const stopped = async () => {
    await done;
    while (havenPid !== undefined && !processGone(havenPid)) await sleep(50);
  };
  if (!(await settlesWithin(stopped(), 30_000))) {
    process.stderr.write('Haven did not stop within 30 s of SIGTERM; killing it\n');
    signal(launcher, 'SIGKILL');
    if (havenPid !== undefined) signal(havenPid, 'SIGKILL');
    await done;
  }
  await stopLeftoverPostmaster(dataDir);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try { process.kill(pid, name); } catch { /* already gone */ }
}

/** A stopped Haven stops its PostgreSQL; one that was killed cannot, so the bench does. */
async function stopLeftoverPostmaster(dataDir: BenchDataDir): Promise<void> {
  const pidFile = join(dataDir.path, 'postgres', 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!(pid > 0) || processGone(pid) || !isPostgres(pid)) return;
  process.stderr.write(`Haven left its PostgreSQL (pid ${pid}) running; stopping it\n`);
  signal(pid, 'SIGINT'); // fast shutdown
  await settlesWithin((async () => { while (!processGone(pid)) await sleep(50); })(), 30_000);
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres');
  } catch {
    return false;
  }
}

/** The postmaster's pid while Haven's embedded PostgreSQL runs. */
export function postmasterPid(dataDir: BenchDataDir): number {
  return Number(readFileSync(join(dataDir.path, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function parseLogLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text) as Partial<LogLine>;
      if (typeof line.time === 'string' && typeof line.msg === 'string') lines.push(line as LogLine);
    } catch { /* a partial line still being written */ }
  }
  return lines;
}
