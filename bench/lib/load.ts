// HTTP load from this process with autocannon's programmatic API. The package
// ships no types, so the few result fields read here are declared below.
import { createRequire } from 'node:module';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

type Autocannon = (opts: { url: string; connections: number; duration: number }) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadResult {
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  /** Errors, timeouts and non-2xx answers together: any of them voids a comparison. */
  failed: number;
}

export async function loadTest(url: string, connections: number, durationSeconds: number): Promise<LoadResult> {
  const r = await autocannon({ url, connections, duration: durationSeconds });
  return {
    seconds: durationSeconds,
    requests: r.requests.total,
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ok: r['2xx'],
    failed: r.errors + r.timeouts + r.non2xx,
  };
}
