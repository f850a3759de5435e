// Keyed pseudonyms let an operator correlate log lines and audit entries about
// the same email or IP address without ever seeing the value itself.
import { createHmac, createSecretKey } from 'node:crypto';
import { isIPv6 } from 'node:net';

export type Pseudonymize = (value: string) => string;

export function createPseudonymizer(key: Buffer, label = 'p'): Pseudonymize {
  // A KeyObject made once: importing the raw key on every call cost ~10 µs.
  const secret = createSecretKey(key);
  return (value) => `${label}_${createHmac('sha256', secret).update(canonicalSpelling(value)).digest('base64url').slice(0, 16)}`;
}

/**
 * One spelling per address, so one person gets one pseudonym: emails and names
 * are case-folded; IPv6 addresses are written in their shortest form, and an
 * IPv4 client seen through a dual-stack socket (::ffff:a.b.c.d) as plain IPv4.
 */
function canonicalSpelling(value: string): string {
  const v = value.trim().toLowerCase();
  if (!v.includes(':') || !isIPv6(v)) return v;
  try {
    const host = new URL(`http://[${v}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (!mapped) return host;
    const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  } catch {
    return v; // zone ids (fe80::1%eth0) are not URL hosts
  }
}

// Also matches the percent-encoded form found in URLs and query strings.
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/gi;
const IPV4 = /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g;
const IPV4_MAPPED = /(?<![\w:])::ffff:((?:\d{1,3}\.){3}\d{1,3})\b/gi;
// Full and compressed IPv6 forms (at least two groups and one '::' or 7 colons).
const IPV6 = /(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?(?![\w:])|(?<![\w:])::(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{1,4}(?![\w:])/g;
// IPv6 in a query string, its colons percent-encoded (2001%3Adb8%3A%3A7).
const IPV6_ENCODED = /(?<![0-9A-Za-z_])[0-9A-Fa-f]{0,4}(?:%3A[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z_])/gi;

// Loopback and unspecified addresses identify no one; keeping them readable
// keeps operational lines ("listening on 127.0.0.1:8080") useful.
const NOT_PERSONAL = new Set(['127.0.0.1', '0.0.0.0', '::1', '::']);

/** Replaces every email and IP address in free text with its pseudonym. */
export function scrubText(text: string, pseudonymize: Pseudonymize): string {
  if (!/[@.:%]/.test(text)) return text;
  const ip = (m: string) => (NOT_PERSONAL.has(m) ? m : pseudonymize(m));
  return text
    .replace(EMAIL, (m) => pseudonymize(percentDecoded(m)))
    .replace(IPV4_MAPPED, (_m, v4: string) => ip(v4))
    .replace(IPV6, ip)
    .replace(IPV6_ENCODED, (m) => {
      const decoded = m.replace(/%3A/gi, ':');
      return isIPv6(decoded) ? ip(decoded) : m;
    })
    .replace(IPV4, ip);
}

function percentDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%40/gi, '@');
  }
}
