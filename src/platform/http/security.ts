// Security headers for every response. Scripts come only from Haven's origin
// (no inline script); framing is refused unless a route opts in (embeds).
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

export const PERMISSIONS_POLICY = 'camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), geolocation=(), payment=(), usb=(), interest-cohort=()';

export interface SecurityOptions { tls: boolean }

export async function installSecurityHeaders(app: FastifyInstance, opts: SecurityOptions): Promise<void> {
  const headers = securityHeaders(opts);
  // Set on the raw response, so replies that bypass Fastify's (tus, streams, SSE) carry them too.
  app.addHook('onRequest', (req, reply, done) => {
    const res = reply.raw;
    res.setHeader('x-request-id', req.id);
    for (const [name, value] of headers) res.setHeader(name, value);
    done();
  });
}

/**
 * The headers every response carries, computed once: helmet's policy run
 * against a dummy response (running helmet per request cost ~8% of a cheap
 * request's CPU; the headers never change between requests).
 */
export function securityHeaders(opts: SecurityOptions): [string, string][] {
  const setHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: opts.tls ? [] : null,
      },
    },
    // HSTS only means something over TLS; on plain HTTP it would be ignored or, worse, misleading.
    strictTransportSecurity: opts.tls ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  });
  const collected = new Map<string, string>([['permissions-policy', PERMISSIONS_POLICY]]);
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => { collected.set(name.toLowerCase(), String(value)); },
    removeHeader: (name: string) => { collected.delete(name.toLowerCase()); },
  };
  let failure: unknown;
  // helmet's middleware is synchronous: it has called back before returning.
  setHeaders({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => { failure = err; });
  if (failure) throw failure;
  return [...collected];
}

/**
 * Lets a route be framed by the given origins (e.g. /embed/:id per its
 * policy): rewrites frame-ancestors and drops X-Frame-Options for that reply.
 */
export function allowFraming(reply: { getHeader(n: string): unknown; header(n: string, v: string): unknown; removeHeader(n: string): unknown; raw: { removeHeader(n: string): void } }, origins: string[]): void {
  const csp = String(reply.getHeader('content-security-policy') ?? '');
  const ancestors = origins.length ? origins.join(' ') : "'none'";
  reply.header('content-security-policy', csp.replace(/frame-ancestors [^;]*/, `frame-ancestors ${ancestors}`));
  reply.removeHeader('x-frame-options');
  reply.raw.removeHeader('x-frame-options');
}
