// /healthz answers while the process is alive; /readyz only when every
// dependency (database, storage, queue) answers, so a balancer can drain a node.
import type { FastifyInstance } from 'fastify';
import { withTimeout } from '../timeout.ts';

export type ReadinessCheck = () => Promise<void>;

export function registerHealthRoutes(app: FastifyInstance, checks: Record<string, ReadinessCheck>, timeoutMs = 2000): void {
  const noLimit = { rateLimit: false } as const;
  app.get('/healthz', { schema: { hide: true }, config: noLimit, logLevel: 'warn' }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
  app.get('/readyz', { schema: { hide: true }, config: noLimit, logLevel: 'warn' }, async (_req, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs, `readiness check ${name}`);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, s]) => s === 'ok');
    reply.status(ready ? 200 : 503).header('cache-control', 'no-store');
    return { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) };
  });
}
