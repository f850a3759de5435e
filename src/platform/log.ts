// Structured JSON logs (pino). Every line passes one filter just before it is
// written, whatever produced it (Haven, Fastify, a serializer, an error): values
// under credential-like keys are redacted at any depth, credentials inside text
// (bearer tokens, URL passwords, token query parameters) are cut out, and
// emails and IP addresses become keyed pseudonyms, so an operator can follow
// one person's requests without the logs holding personal data.
import pino, { type DestinationStream, type Logger } from 'pino';
import { type Pseudonymize, scrubText } from './crypto/pseudonym.ts';

export type { Logger };

export const REDACTED = '[redacted]';

/** password, newPassword, apiToken, clientSecret, authorization, set-cookie, x-api-key, … */
const SECRET_KEY = /(?:password|passphrase|secret|token|totp|authorization|cookie|api[-_]?key|private[-_]?key)s?$/i;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/?#"]+):[^\s@/?#"]+@/gi;
const QUERY_PARAM = /([?&;])([^=&#\s"]+)=([^&#\s"]*)/g;

export interface LogOptions {
  level: string;
  pseudonymize: Pseudonymize;
  destination?: DestinationStream;
}

export function createLogger({ level, pseudonymize, destination }: LogOptions): Logger {
  const protectText = (text: string): string =>
    scrubText(
      text
        .replace(BEARER, `$1 ${REDACTED}`)
        .replace(URL_PASSWORD, `$1:${REDACTED}@`)
        .replace(QUERY_PARAM, (m, sep: string, name: string) => (SECRET_KEY.test(decodeName(name)) ? `${sep}${name}=${REDACTED}` : m)),
      pseudonymize,
    );

  const protect = (value: unknown): unknown => {
    if (typeof value === 'string') return protectText(value);
    if (Array.isArray(value)) return value.map(protect);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      // Flags such as { totp: true } say nothing secret; any other value under such a key goes.
      out[protectText(key)] = SECRET_KEY.test(key) && v !== null && typeof v !== 'boolean' ? REDACTED : protect(v);
    }
    return out;
  };

  const protectLine = (line: string): string => {
    try {
      return `${JSON.stringify(protect(JSON.parse(line)))}\n`;
    } catch {
      return protectText(line);
    }
  };

  return pino(
    {
      level,
      base: { service: 'haven' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: protectLine },
      serializers: {
        // Method, URL and client address only: headers carry credentials and fingerprints.
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: req.url, ip: req.ip }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
