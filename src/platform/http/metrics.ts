// Prometheus metrics, one registry per server instance (no process globals),
// so tests can run several Havens in one process.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  jobsFailed: Counter<'queue'>;
}

export function createMetrics(jobCounts?: () => Promise<{ queue: string; state: string; count: number }[]>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'haven_' });
  const httpDuration = new Histogram({
    name: 'haven_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const jobsFailed = new Counter({ name: 'haven_jobs_failed_total', help: 'Job attempts that threw', labelNames: ['queue'] as const, registers: [registry] });
  if (jobCounts) {
    new Gauge({
      name: 'haven_jobs',
      help: 'Jobs in the queue by queue and state',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await jobCounts().catch(() => [])) this.set({ queue: row.queue, state: row.state }, row.count);
      },
    });
  }
  return { registry, httpDuration, jobsFailed };
}

export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}
