// The serving half of the composition root: the HTTP server, its health and
// signed-URL routes, every module's routes and the web app. main.ts imports
// this only when the node serves HTTP, so CLI commands and worker-only nodes
// never load Fastify, the routes or the OpenAPI machinery.
import type { Config } from './config.ts';
import { registerHealthRoutes } from './platform/http/health.ts';
import type { Metrics } from './platform/http/metrics.ts';
import { buildHttpServer, type HttpServer } from './platform/http/server.ts';
import { registerWebApp } from './platform/http/web-app.ts';
import type { Platform } from './platform/platform.ts';
import { StartupError } from './platform/datadir.ts';
import { registerSignedUrlRoute } from './platform/storage/signed-urls.ts';
import type { Modules } from './modules/index.ts';

export interface ServeDeps {
  platform: Platform;
  modules: Modules;
  metrics: Metrics;
  version: string;
  /** Tests: serve the web app from this build instead of web/dist. */
  webDistDir?: string;
  /** Tests: add routes before the server starts listening. */
  beforeListen?: (app: HttpServer) => Promise<void>;
}

/** Builds the server with every route, then opens the port; closing the returned app is the caller's. */
export async function serveHttp(deps: ServeDeps): Promise<{ app: HttpServer; url: string }> {
  const { platform, modules } = deps;
  const { config, log, db, jobs, storage } = platform;
  const app = await buildHttpServer({
    log, metrics: deps.metrics, rateLimitPool: db.appPool,
    rateLimitPerMinute: config.rateLimitPerMinute,
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    tls: config.tlsCertFile && config.tlsKeyFile ? { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile } : undefined,
    version: deps.version,
    pseudonymize: platform.pseudonymize,
  });
  try {
    registerHealthRoutes(app, { database: () => db.ping(), storage: () => storage.ping(), queue: () => jobs.ping() });
    registerSignedUrlRoute(app, storage, platform.signingKey, () => platform.clock.now());
    await modules.registerRoutes(app);
    registerWebApp(app, { log, distDir: deps.webDistDir });
    await deps.beforeListen?.(app);
    return { app, url: await listen(app, config) };
  } catch (err) {
    await app.close();
    throw err;
  }
}

async function listen(app: HttpServer, config: Config): Promise<string> {
  try {
    return await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${config.port} on ${config.host} is already in use; stop the other server or set HAVEN_PORT`);
    if (code === 'EACCES') throw new StartupError(`not allowed to listen on ${config.host}:${config.port}; choose a port above 1024 with HAVEN_PORT`);
    if (code === 'EADDRNOTAVAIL') throw new StartupError(`address ${config.host} is not available on this machine; check HAVEN_HOST`);
    throw err;
  }
}
