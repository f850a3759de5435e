// What the benchmarks start (child processes, temp data dirs), and the
// guarantee that all of it is stopped and removed: on completion, on an
// error, and on Ctrl-C.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Stoppable { stop(): Promise<void> }

/** In the order things were started; stopped in reverse, so a data dir goes after the Haven using it. */
const running = new Set<Stoppable>();
let interrupted = false;

/**
 * Registers something to stop; returns a function that unregisters it. After
 * an interrupt nothing new may start: it is registered (so it is stopped) and
 * the benchmark is unwound.
 */
export function track(thing: Stoppable): () => void {
  running.add(thing);
  if (interrupted) throw new Error('interrupted');
  return () => running.delete(thing);
}

export async function stopAll(): Promise<void> {
  for (const thing of [...running].reverse()) {
    running.delete(thing);
    await thing.stop().catch((err: Error) => process.stderr.write(`could not stop cleanly: ${err.message}\n`));
  }
}

/**
 * Runs a benchmark body and stops whatever it started, however it ends. A
 * benchmark that throws exits 1, so run-all.ts reports it as not completed;
 * an interrupted one exits 130 once everything it started is gone.
 */
export async function runBenchmark(body: () => Promise<void>): Promise<void> {
  const interrupt = () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('interrupted: stopping everything this benchmark started…\n');
    void stopAll();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    await body();
  } catch (err) {
    if (!interrupted) process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    if (interrupted) process.exitCode = 130;
  }
}

/** A port the kernel reports free right now, on the loopback address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sends SIGTERM, waits, and escalates to SIGKILL if the process hangs. */
export async function terminate(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

/** Whether p settles within ms; the timer is cleared either way, so it never holds the process open. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A resident-memory figure of a process in kB, from /proc/<pid>/status:
 * VmRSS (all resident pages), VmHWM (peak VmRSS), RssAnon (heap, stacks,
 * compiled code), RssFile (mapped files: the node binary, native add-ons).
 */
export function residentKb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]);
}

const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * When a process started, in milliseconds since boot (kernel clock ticks, so
 * 10 ms resolution). Two processes' start times share one clock, which lets a
 * benchmark time the gap between them without trusting anyone's log.
 */
export function processStartMs(pid: number): number {
  return (Number(statFields(pid)[19]) / clockTicksPerSecond) * 1000;
}

/** True once a process has exited (a zombie waiting for its parent counts as exited). */
export function processGone(pid: number): boolean {
  try {
    return statFields(pid)[0] === 'Z';
  } catch {
    return true;
  }
}

/** CPU time (user + system) a process has used so far, in ms (10 ms resolution). */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  return ((Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond) * 1000;
}

/** Fields 3… of /proc/<pid>/stat; the command name in field 2 may hold spaces, so split after its ')'. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The first process under root (children, grandchildren…) with this exact argument in its command line. */
export function findDescendant(root: number, argument: string): number | undefined {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try { parentOf.set(pid, Number(statFields(pid)[1])); } catch { /* exited meanwhile */ }
  }
  const isUnder = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === root) return true;
    return false;
  };
  for (const pid of parentOf.keys()) {
    if (!isUnder(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(argument)) return pid;
    } catch { /* exited meanwhile */ }
  }
  return undefined;
}
