// Child processes the benchmarks start, and the guarantee that every one of
// them is stopped: on normal completion, on an error, and on Ctrl-C.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Stoppable { stop(): Promise<void> }

const running = new Set<Stoppable>();

/** Registers something to stop; returns a function that unregisters it. */
export function track(thing: Stoppable): () => void {
  running.add(thing);
  return () => running.delete(thing);
}

export async function stopAll(): Promise<void> {
  for (const thing of [...running].reverse()) await thing.stop().catch(() => undefined);
  running.clear();
}

/**
 * Runs a benchmark body and stops whatever it started, however it ends.
 * A benchmark that throws exits 1, so run-all.ts reports it as not completed.
 */
export async function runBenchmark(body: () => Promise<void>): Promise<void> {
  const interrupted = (signal: NodeJS.Signals) => {
    void stopAll().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await body();
  } catch (err) {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
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
