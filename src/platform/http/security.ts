// Security headers for every response. Scripts come only from Haven's origin
// (no inline script); framing is refused unless a route opts in (embeds).
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const PERMISSIONS_POLICY = 'camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), geolocation=(), payment=(), usb=(), interest-cohort=()';

export interface SecurityOptions { tls: boolean }

export async function installSecurityHeaders(app: FastifyInstance, opts: SecurityOptions): Promise<void> {
  await app.register(helmet, {
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
  app.addHook('onSend', async (_req, reply) => {
    reply.header('permissions-policy', PERMISSIONS_POLICY);
  });
}

/**
 * Lets a route be framed by the given origins (e.g. /embed/:id per its
 * policy): rewrites frame-ancestors and drops X-Frame-Options for that reply.
 */
export function allowFraming(reply: { getHeader(n: string): unknown; header(n: string, v: string): unknown; removeHeader(n: string): unknown }, origins: string[]): void {
  const csp = String(reply.getHeader('content-security-policy') ?? '');
  const ancestors = origins.length ? origins.join(' ') : "'none'";
  reply.header('content-security-policy', csp.replace(/frame-ancestors [^;]*/, `frame-ancestors ${ancestors}`));
  reply.removeHeader('x-frame-options');
}
