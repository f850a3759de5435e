// What a session cookie adds to a request's latency; target: p50 added
// latency ≤ 0.5 ms over an unauthenticated route.
//
// The route compared is GET /healthz with and without a signed-in viewer's
// session cookie: the same handler, reply and rate-limit exemption, so the
// only difference is the identity layer, which runs for every request that
// carries a cookie: the session lookup (one transaction: BEGIN, set_config,
// one query joining session, user, membership, tenant, second factor and
// pending consents, COMMIT: four round trips to PostgreSQL) and the consent
// and second-factor gate. That difference is the target.
//
// Two API routes show what a real authenticated call costs on top, and why:
// GET /api/v1/auth/session with the cookie (the cheapest authenticated API
// route: its handler reads the user and their memberships in one more
// transaction) and the same route without a cookie (answered 401 at once,
// after the per-address rate-limit upsert every API route pays, signed in or
// not). Haven runs with HAVEN_RATE_LIMIT_PER_MINUTE=1000000 so the limiter
// still counts every request but never refuses one, and with
// HAVEN_LOG_LEVEL=warn: at info, Fastify logs two lines per API request and
// none for /healthz, which would be counted as session overhead here.
//
// The target is taken at 1 connection: one request at a time, so latency is
// service time with no queueing. 10 connections are reported too; a closed
// loop of 10 saturates a 2-core machine on the database-backed variants, so
// there their latency is mostly queueing (their req/s say so). Latencies come
// from autocannon's per-response times (its histogram keeps whole
// milliseconds only). The variants are loaded in slices, in one order and then
// its reverse, so drift on a shared machine falls on all of them alike. CPU per
// request is counted in Haven and in its PostgreSQL, where the lookup runs.
import { initializedDataDir } from './lib/haven.ts';
import { type LatencySample, loadWithLatencies, percentile, postgresCpuMs, runHavenCli, signIn, startConfiguredHaven } from './lib/identity.ts';
import { processCpuMs, runBenchmark } from './lib/processes.ts';
import { emitResult, type Metric } from './lib/result.ts';

/** 1 connection is the target's; 10 shows the same under a load that saturates the machine. */
const CONNECTION_COUNTS = [1, 10];
const SLICE_SECONDS = 3;
const WARM_UP_SECONDS = 2;
const TARGET_ADDED_P50_MS = 0.5;
const VIEWER = { email: 'viewer@overhead.test', password: 'copper orchard violin 5127' };

interface Variant { name: string; path: string; withCookie: boolean; expectedStatus: number }

const variants: Variant[] = [
  { name: '/healthz, no cookie', path: '/healthz', withCookie: false, expectedStatus: 200 },
  { name: '/healthz, session cookie', path: '/healthz', withCookie: true, expectedStatus: 200 },
  { name: 'GET /api/v1/auth/session, no cookie (401)', path: '/api/v1/auth/session', withCookie: false, expectedStatus: 401 },
  { name: 'GET /api/v1/auth/session, session cookie', path: '/api/v1/auth/session', withCookie: true, expectedStatus: 200 },
];

interface Measured { p50Ms: number; p99Ms: number; requestsPerSecond: number; havenCpuMicros: number; postgresCpuMicros: number; unexpected: number }

await runBenchmark(async () => {
  process.stdout.write('initializing a data dir (first start: initdb, migrations, secrets)…\n');
  const dataDir = await initializedDataDir();
  const haven = await startConfiguredHaven(dataDir, { HAVEN_RATE_LIMIT_PER_MINUTE: '1000000', HAVEN_LOG_LEVEL: 'warn' });
  await runHavenCli(haven, ['setup', '--tenant', 'Overhead', '--slug', 'overhead', '--admin-email', 'owner@overhead.test', '--admin-password', 'tidal meadow lantern 8841']);
  await runHavenCli(haven, ['user', 'create', '--tenant', 'overhead', '--email', VIEWER.email, '--role', 'viewer', '--password', VIEWER.password]);
  const { cookie } = await signIn(haven.url, VIEWER.email, VIEWER.password);

  const load = (v: Variant, connections: number, seconds: number) =>
    loadWithLatencies(`${haven.url}${v.path}`, connections, seconds, v.withCookie ? { cookie } : {});

  const metrics: Metric[] = [];
  const addedP50: Record<number, number> = {};
  let unexpectedAnswers = 0;
  for (const connections of CONNECTION_COUNTS) {
    for (const v of variants) await load(v, connections, WARM_UP_SECONDS);
    const samples = new Map<Variant, { slices: LatencySample[]; havenMs: number; postgresMs: number }>(
      variants.map((v) => [v, { slices: [], havenMs: 0, postgresMs: 0 }]),
    );
    for (const v of [...variants, ...[...variants].reverse()]) {
      const havenBefore = processCpuMs(haven.pid);
      const postgresBefore = postgresCpuMs(dataDir);
      const slice = await load(v, connections, SLICE_SECONDS);
      const entry = samples.get(v)!;
      entry.havenMs += processCpuMs(haven.pid) - havenBefore;
      entry.postgresMs += postgresCpuMs(dataDir) - postgresBefore;
      entry.slices.push(slice);
    }
    const measured = new Map<Variant, Measured>();
    for (const [v, { slices, havenMs, postgresMs }] of samples) {
      const latencies = slices.flatMap((s) => s.latenciesMs);
      const answered = (code: number) => slices.reduce((n, s) => n + (s.statuses.get(code) ?? 0), 0);
      const m: Measured = {
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        requestsPerSecond: latencies.length / (slices.length * SLICE_SECONDS),
        havenCpuMicros: (havenMs * 1000) / Math.max(latencies.length, 1),
        postgresCpuMicros: (postgresMs * 1000) / Math.max(latencies.length, 1),
        unexpected: latencies.length - answered(v.expectedStatus) + slices.reduce((n, s) => n + s.failed, 0),
      };
      measured.set(v, m);
      unexpectedAnswers += m.unexpected;
      process.stdout.write(`${connections} conn, ${v.name}: p50 ${m.p50Ms.toFixed(3)} ms, p99 ${m.p99Ms.toFixed(3)} ms, ` +
        `${m.requestsPerSecond.toFixed(0)} req/s, CPU/request ${m.havenCpuMicros.toFixed(0)} µs Haven + ${m.postgresCpuMicros.toFixed(0)} µs PostgreSQL, ` +
        `${m.unexpected} unexpected\n`);
      metrics.push(
        { label: `${connections} conn: ${v.name}, p50`, value: m.p50Ms, unit: 'ms' },
        { label: `${connections} conn: ${v.name}, p99`, value: m.p99Ms, unit: 'ms' },
        { label: `${connections} conn: ${v.name}, req/s`, value: m.requestsPerSecond, unit: '/s' },
        { label: `${connections} conn: ${v.name}, Haven CPU per request`, value: m.havenCpuMicros, unit: 'µs' },
        { label: `${connections} conn: ${v.name}, PostgreSQL CPU per request`, value: m.postgresCpuMicros, unit: 'µs' },
      );
    }
    const [anonHealthz, cookieHealthz, anonApi, cookieApi] = variants.map((v) => measured.get(v)!) as [Measured, Measured, Measured, Measured];
    addedP50[connections] = cookieHealthz.p50Ms - anonHealthz.p50Ms;
    metrics.push(
      { label: `${connections} conn: added p50 of the session (cookie vs none, /healthz)`, value: addedP50[connections]!, unit: 'ms' },
      { label: `${connections} conn: added p99 of the session (cookie vs none, /healthz)`, value: cookieHealthz.p99Ms - anonHealthz.p99Ms, unit: 'ms' },
      { label: `${connections} conn: added p50 of an authenticated API call over /healthz`, value: cookieApi.p50Ms - anonHealthz.p50Ms, unit: 'ms' },
      { label: `${connections} conn: added p50 of an anonymous API call over /healthz (rate-limit upsert, 401)`, value: anonApi.p50Ms - anonHealthz.p50Ms, unit: 'ms' },
    );
  }
  metrics.push({ label: 'answers other than the expected status, errors, timeouts', value: unexpectedAnswers, unit: '' });
  if (unexpectedAnswers > 0) process.stdout.write('some answers were not the expected status: the comparison does not count\n');

  emitResult({
    name: 'Session-authenticated request overhead',
    issue: 'identity',
    metrics,
    targets: [{
      label: 'p50 latency a session cookie adds to GET /healthz, 1 connection (every answer as expected)',
      target: `≤ ${TARGET_ADDED_P50_MS} ms`,
      actual: `${addedP50[1]!.toFixed(3)} ms`,
      met: unexpectedAnswers === 0 && addedP50[1]! <= TARGET_ADDED_P50_MS,
      ratio: addedP50[1]! / TARGET_ADDED_P50_MS,
    }],
  });
});
