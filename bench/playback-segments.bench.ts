// Segment delivery (issue 6): 1 MB encrypted segments, the token verified on
// every request, 100 connections, driven by wrk (a native load generator:
// autocannon, in JavaScript, spent the 2 cores reading 1 MB bodies and
// measured itself — nginx's p99 was as bad as Haven's). wrk rotates over
// tokenized URLs: SEGMENT_FILES different 1 MB segments × VIEWERS viewers'
// tokens. Three rows, each after a warm-up, against the same files:
//
//   nginx sendfile                 the reference, and the machine's ceiling
//   Haven                          token check and bytes both in Haven
//   nginx + Haven X-Accel-Redirect the production deployment: Haven checks
//                                  the token, nginx sends the bytes
//                                  (HAVEN_PLAYBACK_OFFLOAD=x-accel-redirect)
//
// Targets: Haven ÷ nginx ≥ 0.5 req/s, and p99 ≤ 50 ms. Little's law bounds
// the second: with C requests in flight, mean latency = C ÷ throughput, and
// p99 ≥ mean, so p99 ≤ 50 ms at 100 connections needs ≥ 2,000 req/s = 2 GB/s
// of 1 MB segments. Whether the machine has that is what nginx's own row
// says; each row also reports the CPU of the server and of wrk, and how busy
// the whole machine was. A short run at LOW_CONNECTIONS shows the latency
// each deployment gives when it is not saturated.
//
// Knobs (for iterating; a bench run uses the defaults):
// HAVEN_BENCH_SEGMENT_SECONDS (10), HAVEN_BENCH_SEGMENT_CONNECTIONS (100),
// HAVEN_BENCH_WRK (path of wrk).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startConfiguredHaven } from './lib/identity.ts';
import { BENCH_SETTINGS, playableVideo, startNginx, viewerPlayback } from './lib/playback.ts';
import { processCpuMs, runBenchmark } from './lib/processes.ts';
import { emitResult, type Metric } from './lib/result.ts';
import { machineCpuTicks, processTreeCpuMs, requireWrk, runWrk, type WrkResult } from './lib/wrk.ts';

const CONNECTIONS = Number(process.env.HAVEN_BENCH_SEGMENT_CONNECTIONS ?? 100);
const SECONDS = Number(process.env.HAVEN_BENCH_SEGMENT_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const LOW_CONNECTIONS = 10;
const LOW_SECONDS = 5;
const SEGMENT_BYTES = 1024 * 1024;
const SEGMENT_FILES = 16;
const VIEWERS = 16;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 50;
/** Throughput at which Little's law lets p99 reach the target: C in flight, mean = C / X ≤ p99. */
const NEEDED_RPS = CONNECTIONS / (TARGET_P99_MS / 1000);

interface Row extends WrkResult {
  name: string;
  /** Server CPU per request (Haven's process, or nginx's, or both for the offload), µs. */
  serverCpuUs: number;
  /** Share of all cores busy during the run (everything on the machine: servers, wrk, other work). */
  machineBusy: number;
  low: WrkResult;
}

const cores = availableParallelism();

/** cpu: the server's CPU time so far (ms). */
async function measure(name: string, url: string, paths: string[], cpu: () => number): Promise<Row> {
  await runWrk({ url, paths, connections: CONNECTIONS, seconds: WARMUP_SECONDS });
  const cpuBefore = cpu();
  const busyBefore = machineCpuTicks();
  const r = await runWrk({ url, paths, connections: CONNECTIONS, seconds: SECONDS });
  const busy = machineCpuTicks();
  const serverCpuUs = ((cpu() - cpuBefore) * 1000) / Math.max(r.requests, 1);
  const machineBusy = (busy.busy - busyBefore.busy) / Math.max(busy.total - busyBefore.total, 1);
  const low = await runWrk({ url, paths, connections: LOW_CONNECTIONS, seconds: LOW_SECONDS, threads: 1 });
  const row = { ...r, name, serverCpuUs, machineBusy, low };
  process.stdout.write(`${name}: ${r.requestsPerSecond.toFixed(0)} req/s (${(r.bytesPerSecond / 1e9).toFixed(2)} GB/s), ` +
    `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, server ${serverCpuUs.toFixed(0)} µs CPU/request, ` +
    `wrk ${(r.generatorCpuMs / 1000 / r.seconds).toFixed(2)} cores, machine ${(machineBusy * 100).toFixed(0)} % busy, ${r.failed} failed; ` +
    `at ${LOW_CONNECTIONS} connections ${low.requestsPerSecond.toFixed(0)} req/s, p99 ${low.p99Ms.toFixed(1)} ms\n`);
  return row;
}

function rowMetrics(r: Row): Metric[] {
  return [
    { label: `${r.name}, ${CONNECTIONS} connections, ${r.seconds.toFixed(0)} s`, value: r.requestsPerSecond, unit: 'req/s' },
    { label: `${r.name} p50 latency`, value: r.p50Ms, unit: 'ms' },
    { label: `${r.name} p99 latency`, value: r.p99Ms, unit: 'ms' },
    { label: `${r.name} mean latency (Little's law: ${CONNECTIONS} ÷ req/s = ${(1000 * CONNECTIONS / r.requestsPerSecond).toFixed(0)} ms)`, value: r.meanMs, unit: 'ms' },
    { label: `${r.name} throughput`, value: r.bytesPerSecond / 1e9, unit: 'GB/s' },
    { label: `${r.name} server CPU per request`, value: r.serverCpuUs, unit: 'µs' },
    { label: `${r.name} wrk CPU`, value: r.generatorCpuMs / 1000 / r.seconds, unit: 'cores' },
    { label: `${r.name} machine busy (all ${cores} cores)`, value: r.machineBusy * 100, unit: '%' },
    { label: `${r.name} failed or ≥ 400`, value: r.failed, unit: '' },
    { label: `${r.name}, ${LOW_CONNECTIONS} connections, ${LOW_SECONDS} s`, value: r.low.requestsPerSecond, unit: 'req/s' },
    { label: `${r.name} p99 latency at ${LOW_CONNECTIONS} connections`, value: r.low.p99Ms, unit: 'ms' },
  ];
}

await runBenchmark(async () => {
  requireWrk();
  process.stdout.write('starting Haven and transcoding a clip…\n');
  const v = await playableVideo();
  // 1 MB stand-ins for high-rendition segments, in the rendition's own directory (segments are opaque ciphertext).
  const segments = Array.from({ length: SEGMENT_FILES }, (_, i) => `seg-${90000 + i}.m4s`);
  for (const s of segments) writeFileSync(join(v.renditionDir, s), randomBytes(SEGMENT_BYTES));
  const tokens = [v.playback.token];
  while (tokens.length < VIEWERS) tokens.push((await viewerPlayback(v.haven.url, v.videoId)).token);
  // Each viewer walks through the segments, as a player does.
  const pairs = tokens.flatMap((t) => segments.map((s) => ({ s, t })));
  const havenPaths = pairs.map(({ s, t }) => `/play/v/${v.videoId}/${v.rendition}/${s}?token=${t}`);
  // nginx gets the same query string (it ignores it), so the requests are the same size.
  const relative = `/t/${v.tenantId}/v/${v.videoId}/hls/${v.rendition}`;
  const nginxPaths = pairs.map(({ s, t }) => `${relative}/${s}?token=${t}`);
  const storageRoot = join(v.dataDir.path, 'storage', 'default');

  const check = await fetch(`${v.haven.url}${havenPaths[0]}`);
  if (check.status !== 200 || (await check.arrayBuffer()).byteLength !== SEGMENT_BYTES) throw new Error(`Haven answered ${check.status} for the segment`);

  const nginx = await startNginx(() => `    location / { root ${storageRoot}; }`);
  const reference = await measure('nginx sendfile', nginx.url, nginxPaths, () => processTreeCpuMs(nginx.pid));
  await nginx.stop();
  const haven = await measure('Haven', v.haven.url, havenPaths, () => processCpuMs(v.haven.pid));

  // Same data dir, restarted in offload mode, behind nginx as docs/playback.md configures it.
  await v.haven.stop();
  const offloaded = await startConfiguredHaven(v.dataDir, { ...BENCH_SETTINGS, HAVEN_PLAYBACK_OFFLOAD: 'x-accel-redirect' });
  const front = await startNginx(() => `
    location /_haven_media/ { internal; alias ${join(v.dataDir.path, 'storage')}/; }
    location / { proxy_pass http://haven; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
  1, `upstream haven { server ${new URL(offloaded.url).host}; keepalive 32; }`);
  const viaProxy = await fetch(`${front.url}${havenPaths[0]}`);
  const proxiedBytes = (await viaProxy.arrayBuffer()).byteLength;
  const forged = await fetch(`${front.url}${havenPaths[0]!.slice(0, -2)}AA`);
  await forged.arrayBuffer();
  if (viaProxy.status !== 200 || proxiedBytes !== SEGMENT_BYTES || forged.status !== 403) {
    throw new Error(`X-Accel-Redirect end to end: ${viaProxy.status} with ${proxiedBytes} bytes, forged token ${forged.status}`);
  }
  process.stdout.write('X-Accel-Redirect end to end: nginx sent the 1 MB segment after Haven checked the token; a forged token got 403\n');
  const accel = await measure('nginx + Haven X-Accel-Redirect', front.url, havenPaths, () => processTreeCpuMs(front.pid) + processCpuMs(offloaded.pid));
  await front.stop();
  await offloaded.stop();

  const ratio = haven.requestsPerSecond / reference.requestsPerSecond;
  const accelRatio = accel.requestsPerSecond / reference.requestsPerSecond;
  const p99Target = (r: Row) => ({
    label: `${r.name} p99 latency, ${CONNECTIONS} connections (Little's law: needs ≥ ${NEEDED_RPS.toFixed(0)} req/s)`,
    target: `≤ ${TARGET_P99_MS} ms`,
    actual: `${r.p99Ms.toFixed(0)} ms at ${r.requestsPerSecond.toFixed(0)} req/s`,
    met: r.failed === 0 && r.p99Ms <= TARGET_P99_MS,
    ratio: r.p99Ms / TARGET_P99_MS,
  });
  emitResult({
    name: 'playback segments (1 MB) vs nginx sendfile',
    issue: 'issue 6: playback',
    metrics: [
      { label: `segments × viewers' tokens wrk rotates over`, value: havenPaths.length, unit: 'URLs' },
      { label: `req/s p99 ≤ ${TARGET_P99_MS} ms needs at ${CONNECTIONS} connections (Little's law)`, value: NEEDED_RPS, unit: 'req/s' },
      ...rowMetrics(reference),
      ...rowMetrics(haven),
      ...rowMetrics(accel),
      { label: 'ratio Haven / nginx', value: ratio, unit: '' },
      { label: 'ratio X-Accel-Redirect / nginx', value: accelRatio, unit: '' },
    ],
    targets: [
      { label: 'Haven segment req/s ÷ nginx sendfile req/s (all 2xx)', target: `≥ ${TARGET_RATIO}`, actual: ratio.toFixed(2), met: haven.failed === 0 && reference.failed === 0 && ratio >= TARGET_RATIO, ratio: ratio / TARGET_RATIO },
      { label: 'nginx + Haven X-Accel-Redirect req/s ÷ nginx sendfile req/s (all 2xx)', target: `≥ ${TARGET_RATIO}`, actual: accelRatio.toFixed(2), met: accel.failed === 0 && reference.failed === 0 && accelRatio >= TARGET_RATIO, ratio: accelRatio / TARGET_RATIO },
      p99Target(haven),
      p99Target(accel),
      p99Target(reference),
    ],
  });
});
