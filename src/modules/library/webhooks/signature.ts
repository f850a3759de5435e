// Webhook signatures, in the scheme Stripe made familiar: the header
//   Haven-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// lets a receiver check that the body came from Haven, unchanged, and
// recently (compare t with its clock to refuse replays). The key is the
// endpoint's secret string as shown at registration (whsec_…).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'haven-signature';
export const SECRET_PREFIX = 'whsec_';

export const newWebhookSecret = (): string => `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;

export function signaturePayload(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${signaturePayload(secret, timestamp, body)}`;
}

/**
 * What a receiver does: true when a v1 signature in the header matches the
 * body and the timestamp is within toleranceSeconds of now.
 */
export function verifySignature(secret: string, header: string, body: string, now: Date = new Date(), toleranceSeconds = 300): boolean {
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signaturePayload(secret, t, body), 'hex');
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, 'hex'), expected);
  });
}
