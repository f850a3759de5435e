// The references for the /healthz throughput benchmark: a bare Fastify server
// with the same route and reply as Haven's, in its own process as Haven is.
// With "required", it also runs Haven's own code for the middleware the
// issue names for every response — request ids (x-request-id), the security
// headers, and the Prometheus latency histogram — and nothing else of Haven's.
// Usage: node bench/lib/bare-healthz-server.ts PORT [required]
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { createMetrics, instrumentHttp } from '../../src/platform/http/metrics.ts';
import { installSecurityHeaders } from '../../src/platform/http/security.ts';

const port = Number(process.argv[2]);
const required = process.argv[3] === 'required';
if (!Number.isInteger(port) || port <= 0 || (process.argv[3] !== undefined && !required)) {
  process.stderr.write('usage: node bench/lib/bare-healthz-server.ts PORT [required]\n');
  process.exit(2);
}

const app = Fastify({ logger: false, ...(required ? { genReqId: () => randomUUID(), requestIdHeader: false } : {}) });
if (required) {
  await installSecurityHeaders(app, { tls: false });
  instrumentHttp(app, createMetrics());
}
app.get('/healthz', async (_req, reply) => {
  reply.header('cache-control', 'no-store');
  return { status: 'ok' };
});

const url = await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`listening on ${url}\n`);

const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
