// HTTP load from wrk (https://github.com/wg/wrk), a native load generator,
// for benches whose responses are large: autocannon (JavaScript) spends a
// core reading 1 MB bodies and becomes the bottleneck, so it would measure
// itself instead of the server. wrk runs as its own process; a Lua script
// rotates over a list of request paths (one per line, each thread starting
// at its own offset) and prints one JSON line with the summary when done.
// The script defines no response() callback on purpose: with one, wrk copies
// every body into Lua.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processCpuMs, track } from './processes.ts';

const WRK = process.env.HAVEN_BENCH_WRK ?? 'wrk';
const RESULT_PREFIX = 'WRK_RESULT ';

const LUA = `
local reqs = {}
local i = 0
local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then reqs[#reqs + 1] = wrk.format(nil, line) end
  end
  -- Each thread starts elsewhere in the list, so threads do not ask for the same object in lockstep.
  i = ((offset or 0) * 1009) % #reqs
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${RESULT_PREFIX}{"durationUs":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`;

export interface WrkResult {
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  /** Response bytes (headers included) per second. */
  bytesPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Socket errors, timeouts and answers ≥ 400 together: any of them voids a comparison. */
  failed: number;
  /** CPU time wrk itself used (user + system), ms. */
  generatorCpuMs: number;
}

export interface WrkOptions {
  /** Base URL (scheme, host, port); the paths are appended to it. */
  url: string;
  paths: string[];
  connections: number;
  seconds: number;
  threads?: number;
  /** Requests slower than this count as timeouts; long, so slow answers show in the latency instead. */
  timeoutSeconds?: number;
}

/** Throws with installation instructions when wrk is not on the PATH (or HAVEN_BENCH_WRK). */
export function requireWrk(): void {
  const r = spawnSync(WRK, ['--version'], { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`this bench needs wrk, a native HTTP load generator, and "${WRK}" was not found. ` +
      'Install it with `sudo apt-get install wrk` (Debian/Ubuntu; `brew install wrk` on macOS), or build it from ' +
      'https://github.com/wg/wrk and point HAVEN_BENCH_WRK at the binary.');
  }
  if (!/wrk/i.test(`${r.stdout}${r.stderr}`)) throw new Error(`"${WRK} --version" did not print a wrk banner: ${r.stderr || r.stdout}`);
}

export async function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'haven-bench-wrk-'));
  const untrack = track({ stop: async () => rmSync(dir, { recursive: true, force: true }) });
  try {
    const script = join(dir, 'rotate.lua');
    const list = join(dir, 'paths.txt');
    writeFileSync(script, LUA);
    writeFileSync(list, `${opts.paths.join('\n')}\n`);
    const threads = opts.threads ?? 2;
    const args = ['-t', String(threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`,
      '--timeout', `${opts.timeoutSeconds ?? 30}s`, '-s', script, opts.url, '--', list];
    const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const untrackChild = track({ stop: async () => { child.kill('SIGKILL'); } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    // wrk's own CPU, sampled while it runs (its last 200 ms are missed: a lower bound).
    let generatorCpuMs = 0;
    const sampler = setInterval(() => {
      try { generatorCpuMs = processCpuMs(child.pid!); } catch { /* exited */ }
    }, 200);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    clearInterval(sampler);
    untrackChild();
    const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
    if (code !== 0 || !line) throw new Error(`wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`);
    const r = JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, number>;
    const seconds = r.durationUs! / 1e6;
    return {
      seconds,
      requests: r.requests!,
      requestsPerSecond: r.requests! / seconds,
      bytesPerSecond: r.bytes! / seconds,
      p50Ms: r.p50Us! / 1000,
      p90Ms: r.p90Us! / 1000,
      p99Ms: r.p99Us! / 1000,
      maxMs: r.maxUs! / 1000,
      meanMs: r.meanUs! / 1000,
      failed: r.connect! + r.read! + r.write! + r.status! + r.timeout!,
      generatorCpuMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    untrack();
  }
}

/** CPU time (ms) of a process and all its descendants still running (nginx's master and its workers). */
export function processTreeCpuMs(root: number): number {
  let total = 0;
  const visit = (pid: number) => {
    try {
      total += processCpuMs(pid);
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child));
      }
    } catch { /* exited meanwhile */ }
  };
  visit(root);
  return total;
}

/** The machine's CPU time so far from /proc/stat (clock ticks, all cores): busy (not idle or waiting for I/O) and total. */
export function machineCpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: total - idle, total };
}
