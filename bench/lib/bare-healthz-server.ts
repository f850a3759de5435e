// The reference for the /healthz throughput benchmark: a bare Fastify server
// with the same route and reply as Haven's, none of Haven's middleware, in its
// own process as Haven is. Usage: node bench/lib/bare-healthz-server.ts PORT
import Fastify from 'fastify';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node bench/lib/bare-healthz-server.ts PORT\n');
  process.exit(2);
}

const app = Fastify({ logger: false });
app.get('/healthz', async (_req, reply) => {
  reply.header('cache-control', 'no-store');
  return { status: 'ok' };
});

const url = await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`listening on ${url}\n`);

const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
