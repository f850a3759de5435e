// Security headers for every response. Scripts come only from Haven's origin
// (no inline script); framing is refused unless a route opts in (embeds).
import helmet from 'helmet';
import type { FastifyInstance } from 'fastify';

export const PERMISSIONS_POLICY = 'camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), geolocation=(), payment=(), usb=(), interest-cohort=()';

export interface SecurityOptions { tls: boolean }

export async function installSecurityHeaders(app: FastifyInstance, opts: SecurityOptions): Promise<void> {
  // One helmet instance for the server's life: @fastify/helmet 13 rebuilds it
  // on every request, which cost ~15% of a cheap request's CPU.
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
  app.addHook('onRequest', (req, reply, done) => {
    reply.raw.setHeader('permissions-policy', PERMISSIONS_POLICY);
    setHeaders(req.raw, reply.raw, done as (err?: unknown) => void);
  });
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
