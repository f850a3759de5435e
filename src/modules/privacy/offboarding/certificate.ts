// The certificate of deletion: a JSON statement of what was destroyed, signed
// with Ed25519. The private key is derived from the platform signing key (in
// the nodes' configuration, never in the database), so whoever can rewrite
// the database cannot forge or alter a certificate; the public key is printed
// with it so a tenant can check it without Haven.
import { createHmac, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export interface DeletionCertificate {
  format: 'haven-deletion-certificate/1';
  tenant: { id: string; slug: string; region: string; jurisdiction: string };
  offboarding: { requestedAt: string; graceEndsAt: string; exportReadyAt: string | null; exportDownloadedAt: string | null };
  keys: { destroyed: number; destroyedAt: string | null };
  rows: { destroyed: Record<string, number>; remaining: Record<string, number>; retained: Record<string, { rows: number; reason: string }> };
  objects: { region: string; jurisdiction: string; driver: string; destroyed: number; remaining: number }[];
  auditChain: { finalCheckpoint: { chainSeq: number; hash: string; createdAt: string; kind: string; signature: string } | null };
  backups: { region: string; copiesBefore: number; goneBy: string }[];
  residual: string[];
  issuedAt: string;
}

export interface SignedCertificate { certificate: DeletionCertificate; signature: string; publicKey: string }

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function certificateKeys(signingKey: Buffer): { privateKey: KeyObject; publicKey: KeyObject } {
  const seed = createHmac('sha256', signingKey).update('haven:deletion-certificate:ed25519:v1').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Keys sorted at every level: one byte sequence per certificate, whatever built it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const publicKeyText = (key: KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64');

export function signCertificate(signingKey: Buffer, certificate: DeletionCertificate): SignedCertificate {
  const { privateKey, publicKey } = certificateKeys(signingKey);
  const signature = sign(null, Buffer.from(canonicalJson(certificate)), privateKey).toString('base64');
  return { certificate, signature, publicKey: publicKeyText(publicKey) };
}

/** True only when the signature covers exactly this certificate and was made with this installation's key. */
export function verifyCertificate(signingKey: Buffer, signed: { certificate: unknown; signature: string }): boolean {
  const { publicKey } = certificateKeys(signingKey);
  try {
    return verify(null, Buffer.from(canonicalJson(signed.certificate)), publicKey, Buffer.from(signed.signature, 'base64'));
  } catch {
    return false;
  }
}
