// The API's docs page (Swagger UI) under /api/v1/docs. @fastify/swagger-ui,
// with the static-file server and YAML library it brings, held about 2.5 MB
// of a node that nobody may ever ask for its docs, so it loads on the first
// docs request, into a Fastify instance of its own that never listens; Haven's
// docs routes pass each request to it. The page reads the document that
// @fastify/swagger builds from Haven's routes.
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyReply, type FastifyRequest } from 'fastify';
import type { HttpServer } from './server.ts';

/** Request headers that change what the docs server answers (conditional and range requests). */
const FORWARDED_HEADERS = ['accept', 'if-none-match', 'if-modified-since', 'range', 'if-range'];
/** Response headers that belong to the hop between the two instances, not to the client's reply. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

export function registerApiDocs(app: HttpServer, routePrefix: string): void {
  let docsServer: Promise<FastifyInstance> | undefined;
  const loadDocsServer = () => {
    docsServer ??= startDocsServer(app, routePrefix).catch((err: unknown) => {
      docsServer = undefined; // a failed load is retried on the next request
      throw err;
    });
    return docsServer;
  };
  app.addHook('onClose', async () => { await (await docsServer?.catch(() => undefined))?.close(); });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const docs = await loadDocsServer();
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    // Always a GET: for a HEAD, Fastify's own HEAD route sends the GET's headers and length without the body.
    const res = await docs.inject({ method: 'GET', url: req.url, headers });
    reply.status(res.statusCode);
    for (const [name, value] of Object.entries(res.headers)) if (!HOP_HEADERS.has(name) && value !== undefined) reply.header(name, value);
    return res.rawPayload;
  };
  app.get(routePrefix, { schema: { hide: true } }, handler);
  app.get(`${routePrefix}/*`, { schema: { hide: true } }, handler);
}

async function startDocsServer(app: HttpServer, routePrefix: string): Promise<FastifyInstance> {
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  const docs = Fastify({ logger: false });
  await docs.register(openApiOf(app));
  await docs.register(swaggerUi, { routePrefix, staticCSP: true, uiConfig: { deepLinking: false } });
  await docs.ready();
  return docs;
}

/**
 * Stands in for @fastify/swagger in the docs instance (swagger-ui declares it
 * as a dependency and reads its swagger()), answering with Haven's document.
 * Not encapsulated, and named, as fastify-plugin would mark it.
 */
function openApiOf(app: HttpServer): FastifyPluginCallback {
  const plugin: FastifyPluginCallback = (instance, _opts, done) => {
    instance.decorate('swagger', ((opts?: { yaml?: boolean }) => app.swagger(opts as { yaml: true })) as typeof app.swagger);
    done();
  };
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' },
  });
}
