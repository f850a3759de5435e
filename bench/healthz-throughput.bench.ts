// GET /healthz throughput of Haven with all its middleware (request ids,
// security headers, metrics, rate-limit plugin, error handling) against a bare
// Fastify server with the same route, each in its own process while
// autocannon loads it from this one; target ratio ≥ 0.8.
//
// A third server shows what part of the gap the required middleware itself
// takes: bare Fastify plus Haven's own request ids, security headers and
// latency histogram, nothing else (bench/lib/bare-healthz-server.ts).
//
// Both servers stay up and are loaded in alternating slices (bare, Haven,
// Haven, bare), so background load on a shared machine falls on both alike
// instead of deciding the ratio. CPU time per request is reported too: it
// shows where a server's cost is even when the machine is busy.
import { spawn } from 'node:child_process';
import { initializedDataDir, repoRoot, startHavenProcess } from './lib/haven.ts';
import { type LoadResult, loadTest } from './lib/load.ts';
import { exited, freePort, processCpuMs, runBenchmark, terminate, track } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const CONNECTIONS = 50;
/** Two slices per server: 10 s of measured load each. */
const SLICE_SECONDS = 5;
/** Unmeasured load first, so both servers are compared with their hot paths compiled. */
const WARM_UP_SECONDS = 3;
const TARGET_RATIO = 0.8;

interface Server { name: string; healthzUrl: string; pid: number }

interface Totals { requestsPerSecond: number; worstP99Ms: number; cpuMicrosPerRequest: number; failed: number }

async function slice(server: Server): Promise<LoadResult & { cpuMs: number }> {
  const cpuBefore = processCpuMs(server.pid);
  const result = await loadTest(server.healthzUrl, CONNECTIONS, SLICE_SECONDS);
  const cpuMs = processCpuMs(server.pid) - cpuBefore;
  process.stdout.write(`${server.name}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms} ms, ` +
    `${((cpuMs * 1000) / Math.max(result.requests, 1)).toFixed(1)} µs CPU/request, ${result.failed} failed\n`);
  return { ...result, cpuMs };
}

function totals(slices: (LoadResult & { cpuMs: number })[]): Totals {
  const requests = slices.reduce((n, s) => n + s.requests, 0);
  return {
    requestsPerSecond: requests / slices.reduce((n, s) => n + s.seconds, 0),
    // Percentiles of separate runs cannot be merged; the worse slice is the honest figure.
    worstP99Ms: Math.max(...slices.map((s) => s.p99Ms)),
    cpuMicrosPerRequest: (slices.reduce((n, s) => n + s.cpuMs, 0) * 1000) / Math.max(requests, 1),
    failed: slices.reduce((n, s) => n + s.failed, 0),
  };
}

async function startBareFastify(required = false): Promise<Server> {
  const port = await freePort();
  const args = ['bench/lib/bare-healthz-server.ts', String(port), ...(required ? ['required'] : [])];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  track({ stop: () => terminate(child) });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) resolve(); });
    void exited(child).then((code) => reject(new Error(`bare Fastify server exited (${code}) before listening`)));
  });
  return { name: required ? 'bare Fastify + required middleware' : 'bare Fastify', healthzUrl: `http://127.0.0.1:${port}/healthz`, pid: child.pid! };
}

await runBenchmark(async () => {
  process.stdout.write('initializing a data dir (first start: initdb, migrations, secrets)…\n');
  const dataDir = await initializedDataDir();
  const bare = await startBareFastify();
  const floor = await startBareFastify(true);
  const havenProcess = await startHavenProcess(dataDir);
  const haven: Server = { name: 'Haven', healthzUrl: `${havenProcess.url}/healthz`, pid: havenProcess.pid };
  for (const server of [bare, floor, haven]) await loadTest(server.healthzUrl, CONNECTIONS, WARM_UP_SECONDS);

  const bareSlices = [await slice(bare)];
  const floorSlices = [await slice(floor)];
  const havenSlices = [await slice(haven), await slice(haven)];
  floorSlices.push(await slice(floor));
  bareSlices.push(await slice(bare));
  const b = totals(bareSlices);
  const f = totals(floorSlices);
  const h = totals(havenSlices);

  const ratio = h.requestsPerSecond / b.requestsPerSecond;
  const allAnswered = b.failed === 0 && h.failed === 0 && f.failed === 0;
  if (!allAnswered) process.stdout.write('some requests failed or were not 2xx: the comparison does not count\n');
  const seconds = 2 * SLICE_SECONDS;
  emitResult({
    name: 'GET /healthz throughput',
    issue: 'platform foundation',
    metrics: [
      { label: `Haven, ${CONNECTIONS} connections, ${seconds} s`, value: h.requestsPerSecond, unit: 'req/s' },
      { label: 'Haven p99 latency (worse slice)', value: h.worstP99Ms, unit: 'ms' },
      { label: 'Haven CPU time per request', value: h.cpuMicrosPerRequest, unit: 'µs' },
      { label: 'Haven failed or non-2xx requests', value: h.failed, unit: '' },
      { label: `bare Fastify, ${CONNECTIONS} connections, ${seconds} s`, value: b.requestsPerSecond, unit: 'req/s' },
      { label: 'bare Fastify p99 latency (worse slice)', value: b.worstP99Ms, unit: 'ms' },
      { label: 'bare Fastify CPU time per request', value: b.cpuMicrosPerRequest, unit: 'µs' },
      { label: 'bare Fastify failed or non-2xx requests', value: b.failed, unit: '' },
      { label: `bare Fastify + required middleware, ${CONNECTIONS} connections, ${seconds} s`, value: f.requestsPerSecond, unit: 'req/s' },
      { label: 'bare Fastify + required middleware CPU time per request', value: f.cpuMicrosPerRequest, unit: 'µs' },
      { label: 'throughput ratio Haven / bare Fastify', value: ratio, unit: '' },
      { label: 'throughput ratio bare Fastify + required middleware / bare Fastify', value: f.requestsPerSecond / b.requestsPerSecond, unit: '' },
      { label: 'throughput ratio Haven / bare Fastify + required middleware', value: h.requestsPerSecond / f.requestsPerSecond, unit: '' },
      { label: 'CPU per request ratio Haven / bare Fastify', value: h.cpuMicrosPerRequest / b.cpuMicrosPerRequest, unit: '' },
    ],
    targets: [{
      label: 'Haven /healthz req/s with all middleware ÷ bare Fastify req/s (every request 2xx)',
      target: `≥ ${TARGET_RATIO}`,
      actual: ratio.toFixed(2),
      met: allAnswered && ratio >= TARGET_RATIO,
      ratio,
    }],
  });
});
