// Keyed pseudonyms let an operator correlate log lines and audit entries about
// the same email or IP address without ever seeing the value itself.
import { createHmac } from 'node:crypto';

export type Pseudonymize = (value: string) => string;

export function createPseudonymizer(key: Buffer, label = 'p'): Pseudonymize {
  return (value) => `${label}_${createHmac('sha256', key).update(value.trim().toLowerCase()).digest('base64url').slice(0, 16)}`;
}

// Also matches the percent-encoded form found in URLs and query strings.
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/gi;
const IPV4 = /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g;
// Full and compressed IPv6 forms (at least two groups and one '::' or 7 colons).
const IPV6 = /(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?(?![\w:])|(?<![\w:])::(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{1,4}(?![\w:])/g;

// Loopback and unspecified addresses identify no one; keeping them readable
// keeps operational lines ("listening on 127.0.0.1:8080") useful.
const NOT_PERSONAL = new Set(['127.0.0.1', '0.0.0.0', '::1', '::']);

/** Replaces every email and IP address in free text with its pseudonym. */
export function scrubText(text: string, pseudonymize: Pseudonymize): string {
  if (!/[@.:%]/.test(text)) return text;
  return text.replace(EMAIL, (m) => pseudonymize(m.replace(/%40/i, '@'))).replace(IPV6, (m) => (NOT_PERSONAL.has(m) ? m : pseudonymize(m))).replace(IPV4, (m) => (NOT_PERSONAL.has(m) ? m : pseudonymize(m)));
}
