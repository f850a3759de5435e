// Bearer secrets (session cookies, API tokens, reset links) are 256-bit random
// values; only their SHA-256 is stored, so a database leak yields no usable token.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const newSecret = (prefix = ''): string => prefix + randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** A value bound to a session with the signing key (CSRF tokens). */
export function sessionBoundToken(signingKey: Buffer, sessionId: string, purpose: string): string {
  return createHmac('sha256', signingKey).update(`${purpose}:${sessionId}`).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
