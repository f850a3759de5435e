// Builds the Fastify instance with everything every route relies on: request
// ids, schemas (zod), the error envelope, security headers (with the
// x-request-id header), rate limits, OpenAPI, metrics and health. Domain
// routes are registered by main.ts.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { StartupError } from '../datadir.ts';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { Logger } from '../log.ts';
import { registerApiDocs } from './api-docs.ts';
import { installErrorHandling } from './errors.ts';
import { instrumentHttp, type Metrics } from './metrics.ts';
import { pgRateLimitStore } from './rate-limit-store.ts';
import { lazyChildLogger } from './request-log.ts';
import { installSecurityHeaders } from './security.ts';

export type HttpServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface HttpOptions {
  log: Logger;
  metrics: Metrics;
  rateLimitPool: pg.Pool;
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  trustProxy?: string;
  tls?: { certFile: string; keyFile: string };
  version: string;
  /** Rate-limit counters are keyed by a pseudonym of the client address, never the address. */
  pseudonymize: (value: string) => string;
}

/**
 * Every schema is zod. Given as the compiler factories, they keep Fastify from
 * loading ajv and its JSON-schema serializer compiler (~2.5 MB resident that
 * nothing would use). Fastify's types describe ajv's factories, hence the cast.
 */
const zodCompilersFactory = { buildValidator: () => validatorCompiler, buildSerializer: () => serializerCompiler } as unknown as
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

export async function buildHttpServer(opts: HttpOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    childLoggerFactory: lazyChildLogger,
    schemaController: { compilersFactory: zodCompilersFactory },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: opts.bodyLimitBytes,
    trustProxy: opts.trustProxy ? opts.trustProxy.split(',').map((s) => s.trim()) : false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    ...(opts.tls ? { https: readTlsFiles(opts.tls) } : {}),
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpServer;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Once closing, a reply that was in flight ends its keep-alive connection;
  // otherwise close() would wait out keepAliveTimeout (72 s) for it to go idle.
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  installErrorHandling(app);
  await installSecurityHeaders(app, { tls: Boolean(opts.tls) });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimitPerMinute,
    timeWindow: 60_000,
    store: pgRateLimitStore(opts.rateLimitPool),
    // A database outage must not turn every request into a 500; readiness reports it.
    skipOnError: true,
    keyGenerator: (req) => opts.pseudonymize(req.ip),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Haven API', version: opts.version, description: 'Self-hostable video platform with data protection built in.' },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'haven_session' },
          apiToken: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  registerApiDocs(app, '/api/v1/docs');
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  instrumentHttp(app, opts.metrics);
  return app;
}

function readTlsFiles({ certFile, keyFile }: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string, setting: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new StartupError(`cannot read ${file} (${setting}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read(certFile, 'HAVEN_TLS_CERT_FILE');
  const key = read(keyFile, 'HAVEN_TLS_KEY_FILE');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new StartupError(`the TLS key ${keyFile} (HAVEN_TLS_KEY_FILE) does not match the certificate ${certFile} (HAVEN_TLS_CERT_FILE), or one is not PEM: ${(err as Error).message}`);
  }
  return { cert, key };
}
