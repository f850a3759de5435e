// Structured JSON logs (pino). Secrets are redacted by path; emails and IP
// addresses anywhere in a line are replaced by keyed pseudonyms, so an operator
// can follow one person's requests without the logs holding personal data.
import pino, { type DestinationStream, type Logger } from 'pino';
import { type Pseudonymize, scrubText } from './crypto/pseudonym.ts';

export type { Logger };

const REDACT = [
  'password', '*.password', 'currentPassword', '*.currentPassword', 'newPassword', '*.newPassword',
  'token', '*.token', 'secret', '*.secret', 'totp', '*.totp',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  'headers.authorization', 'headers.cookie',
];

export interface LogOptions {
  level: string;
  pseudonymize: Pseudonymize;
  destination?: DestinationStream;
}

export function createLogger({ level, pseudonymize, destination }: LogOptions): Logger {
  const scrub = (value: unknown, depth = 0): unknown => {
    if (typeof value === 'string') return scrubText(value, pseudonymize);
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
    if (value instanceof Error) return { type: value.name, message: scrubText(value.message, pseudonymize), code: (value as { code?: unknown }).code, stack: value.stack && scrubText(value.stack, pseudonymize) };
    // Only plain objects are rebuilt: class instances (requests, replies) go to their serializers.
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
    return out;
  };
  return pino(
    {
      level,
      base: { service: 'haven' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubText(a, pseudonymize) : a)) as Parameters<typeof method>);
        },
      },
      serializers: {
        // Serializers run after formatters.log, so they scrub their own strings.
        req: (req: { method: string; url: string; id: string; ip?: string }) => ({
          method: req.method,
          url: scrubText(req.url, pseudonymize),
          ip: req.ip && scrubText(req.ip, pseudonymize),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
