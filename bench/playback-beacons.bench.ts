// View-beacon ingestion: POST /api/v1/playback/beacons against a real Haven
// (its own process, embedded PostgreSQL, a real transcoded video made public)
// with playback tokens issued up front through GET /api/v1/videos/{id}/playback,
// loaded from this process. Phases:
//
//   1. sustained: OFFERED_EVENTS_PER_SECOND — a tenth more than the target
//      of TARGET_EVENTS_PER_SECOND, so a run that keeps up is not judged on
//      rounding — in beacons of EVENTS_PER_BEACON events, sent open-loop at
//      evenly spaced times, each latency measured from the moment its
//      request was due (so a stall counts against every request it
//      delayed). Judged on what Haven accepted (204s) per second over the
//      whole phase (≥ the target, no refusals) and on p99 at that load
//      (≤ 20 ms); the slowest whole second of accepted events is reported
//      too. autocannon's overallRate is run and reported as well, but it
//      is not a steady rate: every connection fires its whole per-second
//      budget back to back at the top of each second (lib/httpClient.js), so
//      its latencies are those of a saturated burst;
//   2. saturation (autocannon): as fast as it goes — throughput and its ratio
//      to a bare Fastify server (own process) that parses the same JSON and
//      answers 204.
//
// Afterwards the views Haven reports for the video must equal the playbacks
// that sent beacons: the buffered writes really reached the database.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import Fastify from 'fastify';
import { callApi, percentile } from './lib/identity.ts';
import { playableVideo, viewerPlayback } from './lib/playback.ts';
import { exited, freePort, processCpuMs, runBenchmark, sleep, terminate, track } from './lib/processes.ts';
import { repoRoot } from './lib/haven.ts';
import { emitResult } from './lib/result.ts';

const EVENTS_PER_BEACON = 5;
const TARGET_EVENTS_PER_SECOND = 5000;
/** Offered open-loop: 10 % above the target, so keeping up shows as ≥ the target, not as 4,999/s. */
const OFFERED_EVENTS_PER_SECOND = 5500;
const TARGET_P99_MS = 20;
const TOKENS = 1000;
const SUSTAINED_SECONDS = Number(process.env.HAVEN_BENCH_BEACON_SECONDS ?? 15);
const SATURATION_SECONDS = 10;
const CONNECTIONS = 32;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number; timeouts: number; non2xx: number; '2xx': number;
}
interface RequestSpec { method: string; path: string; headers: Record<string, string>; setupRequest: (req: Record<string, unknown>) => Record<string, unknown> }
type Autocannon = (opts: { url: string; connections: number; duration: number; overallRate?: number; requests: RequestSpec[] }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Phase {
  /** Beacons answered 204 per second (all of them for the autocannon phases, which count non-2xx as failed). */
  beaconsPerSecond: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  cpuMicrosPerBeacon: number;
}
interface PacedPhase extends Phase {
  offeredEventsPerSecond: number;
  /** Events accepted in the slowest whole second of the phase (by completion time). */
  slowestSecondEvents: number;
  /** Cores this process (the load generator) used: when it starves, the offered rate is not really offered. */
  generatorCores: number;
}

function beaconRequests(bodies: string[]): RequestSpec[] {
  let next = 0;
  return [{
    method: 'POST',
    path: '/api/v1/playback/beacons',
    headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36' },
    setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
  }];
}

async function phase(name: string, url: string, pid: number, bodies: string[], seconds: number, overallRate?: number): Promise<Phase> {
  const cpuBefore = processCpuMs(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, requests: beaconRequests(bodies), ...(overallRate ? { overallRate } : {}) });
  const cpuMs = processCpuMs(pid) - cpuBefore;
  const p: Phase = {
    beaconsPerSecond: r.requests.total / seconds,
    eventsPerSecond: (r.requests.total * EVENTS_PER_BEACON) / seconds,
    p50Ms: r.latency.p50, p99Ms: r.latency.p99,
    failed: r.errors + r.timeouts + r.non2xx,
    cpuMicrosPerBeacon: (cpuMs * 1000) / Math.max(r.requests.total, 1),
  };
  process.stdout.write(`${name}: ${p.beaconsPerSecond.toFixed(0)} beacons/s = ${p.eventsPerSecond.toFixed(0)} events/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, ` +
    `${p.cpuMicrosPerBeacon.toFixed(0)} µs CPU/beacon, ${p.failed} failed\n`);
  return p;
}

/** Open-loop load at a steady rate; latency counts from when each request was due. */
async function paced(name: string, url: string, pid: number, bodies: string[], ratePerSecond: number, seconds: number): Promise<PacedPhase> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL('/api/v1/playback/beacons', url);
  const latencies: number[] = [];
  /** Accepted beacons by the whole second (since start) in which they completed. */
  const acceptedBySecond: number[] = [];
  let accepted = 0;
  let failed = 0;
  let start = 0;
  const send = (body: string, dueAt: number) => new Promise<void>((resolve) => {
    const req = request(target, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36' },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        const now = performance.now();
        if (res.statusCode === 204) {
          accepted++;
          const second = Math.floor((now - start) / 1000);
          acceptedBySecond[second] = (acceptedBySecond[second] ?? 0) + 1;
        } else {
          failed++;
        }
        latencies.push(now - dueAt);
        resolve();
      });
    });
    req.on('error', () => { failed++; resolve(); });
    req.end(body);
  });
  const total = Math.round(ratePerSecond * seconds);
  const cpuBefore = processCpuMs(pid);
  const ownBefore = process.cpuUsage();
  start = performance.now();
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * ratePerSecond));
    for (; sent < due; sent++) inFlight.push(send(bodies[sent % bodies.length]!, start + (sent * 1000) / ratePerSecond));
    await sleep(1);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  const cpuMs = processCpuMs(pid) - cpuBefore;
  agent.destroy();
  // The whole seconds of the sending window: the first and last are complete only when nothing lagged.
  const wholeSeconds = Array.from({ length: Math.floor(seconds) }, (_, i) => acceptedBySecond[i] ?? 0);
  const p: PacedPhase = {
    beaconsPerSecond: accepted / elapsed, eventsPerSecond: (accepted * EVENTS_PER_BEACON) / elapsed,
    offeredEventsPerSecond: ratePerSecond * EVENTS_PER_BEACON,
    slowestSecondEvents: Math.min(...wholeSeconds) * EVENTS_PER_BEACON,
    p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), failed, cpuMicrosPerBeacon: (cpuMs * 1000) / total,
    generatorCores: (({ user, system }) => (user + system) / 1e6 / elapsed)(process.cpuUsage(ownBefore)),
  };
  process.stdout.write(`${name}: offered ${p.offeredEventsPerSecond} events/s, accepted ${p.beaconsPerSecond.toFixed(0)} beacons/s = ${p.eventsPerSecond.toFixed(0)} events/s ` +
    `(slowest second ${p.slowestSecondEvents}), p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms, ` +
    `${p.cpuMicrosPerBeacon.toFixed(0)} µs CPU/beacon, load generator ${p.generatorCores.toFixed(2)} cores, ${p.failed} failed\n`);
  return p;
}

async function startBare(): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bench/playback-beacons.bench.ts', '--bare', String(port)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  track({ stop: () => terminate(child) });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) resolve(); });
    void exited(child).then((code) => reject(new Error(`bare Fastify server exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid! };
}

async function main(): Promise<void> {
  process.stdout.write('starting Haven, uploading and transcoding a clip…\n');
  const video = await playableVideo({
    // One loopback address stands for every viewer here.
    HAVEN_ANALYTICS_BEACONS_PER_MINUTE_PER_ADDRESS: '10000000',
  });
  const { haven } = video;
  process.stdout.write(`issuing ${TOKENS} playback tokens…\n`);
  const bodies: string[] = [];
  const playbacks = new Set<string>();
  for (let i = 0; i < TOKENS; i++) {
    const p = await viewerPlayback(haven.url, video.videoId) as unknown as { token: string; playbackId: string };
    playbacks.add(p.playbackId);
    const events = Array.from({ length: EVENTS_PER_BEACON }, (_, k) => ({
      type: k === 0 ? 'start' : k === 2 ? 'quality' : 'progress', at: Date.now() + k * 1000, position: k, watched: k, rendition: video.rendition,
    }));
    bodies.push(JSON.stringify({ token: p.token, playbackId: p.playbackId, events, screen: { width: 1280, height: 720 } }));
  }
  const bare = await startBare();

  // Warm both up (JIT, pools), unmeasured.
  await phase('warm-up Haven', haven.url, haven.pid, bodies, 3);
  await phase('warm-up bare Fastify', bare.url, bare.pid, bodies, 2);

  const rate = Math.ceil(OFFERED_EVENTS_PER_SECOND / EVENTS_PER_BEACON);
  const sustained = await paced(`Haven, steady ${rate} beacons/s`, haven.url, haven.pid, bodies, rate, SUSTAINED_SECONDS);
  // Other work on the machine takes CPU from Haven and from this generator alike; the figure says how much there was.
  const loadAfterSustained = loadavg()[0]!;
  const bursty = await phase(`Haven, autocannon overallRate ${rate}/s (bursts)`, haven.url, haven.pid, bodies, 10, rate);
  const havenMax = await phase('Haven, saturated', haven.url, haven.pid, bodies, SATURATION_SECONDS);
  const bareMax = await phase('bare Fastify, saturated', bare.url, bare.pid, bodies, SATURATION_SECONDS);

  // Every playback that sent a beacon is one view once the buffer is flushed.
  await sleep(1000);
  const session = video.session;
  const report = await callApi(haven.url, session, 'GET', `/api/v1/analytics/videos/${video.videoId}`) as { totals: { views: number } };
  const viewsRecorded = report.totals.views;
  process.stdout.write(`views recorded: ${viewsRecorded} of ${playbacks.size} playbacks\n`);

  const ratio = havenMax.beaconsPerSecond / bareMax.beaconsPerSecond;
  // Judged on what was accepted: an offered load the server does not keep up with shows as fewer 204s per second.
  const keptRate = sustained.eventsPerSecond >= TARGET_EVENTS_PER_SECOND;
  emitResult({
    name: 'View beacon ingestion',
    issue: 'issue 6: playback analytics',
    metrics: [
      { label: 'events per beacon', value: EVENTS_PER_BEACON, unit: '' },
      { label: `offered open loop, ${SUSTAINED_SECONDS} s at a steady rate`, value: sustained.offeredEventsPerSecond, unit: 'events/s' },
      { label: 'Haven sustained, accepted (204)', value: sustained.eventsPerSecond, unit: 'events/s' },
      { label: 'Haven sustained, slowest whole second accepted', value: sustained.slowestSecondEvents, unit: 'events' },
      { label: 'load generator (this process) CPU, sustained', value: sustained.generatorCores, unit: 'cores' },
      { label: 'machine load average (1 min) after the sustained phase', value: loadAfterSustained, unit: '' },
      { label: 'Haven sustained p50 latency', value: sustained.p50Ms, unit: 'ms' },
      { label: 'Haven sustained p99 latency', value: sustained.p99Ms, unit: 'ms' },
      { label: 'Haven CPU time per beacon (sustained)', value: sustained.cpuMicrosPerBeacon, unit: 'µs' },
      { label: 'autocannon overallRate (per-second bursts) p99 latency', value: bursty.p99Ms, unit: 'ms' },
      { label: `Haven saturated, ${CONNECTIONS} connections, ${SATURATION_SECONDS} s`, value: havenMax.eventsPerSecond, unit: 'events/s' },
      { label: 'Haven saturated beacons', value: havenMax.beaconsPerSecond, unit: 'beacons/s' },
      { label: 'Haven saturated p99 latency', value: havenMax.p99Ms, unit: 'ms' },
      { label: 'Haven CPU time per beacon (saturated)', value: havenMax.cpuMicrosPerBeacon, unit: 'µs' },
      { label: `bare Fastify saturated, ${CONNECTIONS} connections`, value: bareMax.beaconsPerSecond, unit: 'beacons/s' },
      { label: 'bare Fastify p99 latency', value: bareMax.p99Ms, unit: 'ms' },
      { label: 'throughput ratio Haven / bare Fastify', value: ratio, unit: '' },
      { label: 'failed or non-2xx requests (all phases)', value: sustained.failed + bursty.failed + havenMax.failed + bareMax.failed, unit: '' },
      { label: 'views recorded / playbacks that sent beacons', value: viewsRecorded / playbacks.size, unit: '' },
    ],
    targets: [
      {
        label: `Haven keeps ≥ ${TARGET_EVENTS_PER_SECOND} events/s sustained (accepted of ${sustained.offeredEventsPerSecond}/s offered, every beacon 204)`,
        target: `≥ ${TARGET_EVENTS_PER_SECOND} events/s`,
        actual: `${sustained.eventsPerSecond.toFixed(0)} events/s`,
        met: sustained.failed === 0 && keptRate,
        ratio: sustained.eventsPerSecond / TARGET_EVENTS_PER_SECOND,
      },
      {
        label: `p99 latency at ${sustained.offeredEventsPerSecond} events/s offered`,
        target: `≤ ${TARGET_P99_MS} ms`,
        actual: `${sustained.p99Ms.toFixed(1)} ms`,
        met: sustained.failed === 0 && sustained.p99Ms <= TARGET_P99_MS,
        ratio: sustained.p99Ms / TARGET_P99_MS,
      },
      {
        label: 'every playback that sent beacons is a recorded view',
        target: `${playbacks.size}`,
        actual: `${viewsRecorded}`,
        met: viewsRecorded === playbacks.size,
      },
    ],
  });
}

// --- the reference: `node bench/playback-beacons.bench.ts --bare PORT` -------
if (process.argv[2] === '--bare') {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  app.post('/api/v1/playback/beacons', async (req, reply) => {
    if (typeof req.body !== 'object' || req.body === null) return reply.status(400).send();
    return reply.status(204).send();
  });
  const url = await app.listen({ host: '127.0.0.1', port: Number(process.argv[3]) });
  process.stdout.write(`listening on ${url}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  await runBenchmark(main);
}
