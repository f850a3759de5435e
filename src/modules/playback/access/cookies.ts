// The viewer's proofs, kept in cookies and signed with keys derived from the
// platform signing key (HKDF, one key per purpose): that they unlocked a
// video with its current password, and that they signed in through the
// tenant's SSO for audiences. Nothing is stored server-side for either;
// changing the password (its version) invalidates every unlock at once.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const UNLOCK_TTL_MS = 12 * 3600_000;
export const AUDIENCE_TTL_MS = 12 * 3600_000;
export const AUDIENCE_COOKIE = 'haven_audience';
export const unlockCookieName = (videoId: string) => `haven_unlock_${videoId}`;

export function deriveKey(signingKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', signingKey, Buffer.alloc(0), `haven playback ${purpose}`, 32));
}

const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest('base64url');

function macMatches(key: Buffer, text: string, given: string): boolean {
  const expected = Buffer.from(mac(key, text));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export interface CookieSigner {
  /** The unlock cookie's value for this video at this password version. */
  unlock(videoId: string, passwordVersion: number, now: Date): { value: string; expires: Date };
  unlockValid(value: string | undefined, videoId: string, passwordVersion: number, now: Date): boolean;
  audience(session: AudienceSession): string;
  audienceSession(value: string | undefined, now: Date): AudienceSession | undefined;
}

export interface AudienceSession {
  /** audience_accounts.id */
  accountId: string;
  tenantId: string;
  /** Random id of this sign-in (tokens are bound to it). */
  sessionId: string;
  expiresAt: Date;
}

export function createCookieSigner(signingKey: Buffer): CookieSigner {
  const unlockKey = deriveKey(signingKey, 'unlock');
  const audienceKey = deriveKey(signingKey, 'audience session');

  return {
    unlock(videoId, passwordVersion, now) {
      const expires = new Date(now.getTime() + UNLOCK_TTL_MS);
      const exp = Math.floor(expires.getTime() / 1000);
      return { value: `${exp}.${mac(unlockKey, `${videoId}.${passwordVersion}.${exp}`)}`, expires };
    },
    unlockValid(value, videoId, passwordVersion, now) {
      if (!value || value.length > 200) return false;
      const [expText = '', sig = ''] = value.split('.', 2);
      if (!/^\d{1,12}$/.test(expText) || Number(expText) * 1000 <= now.getTime()) return false;
      return macMatches(unlockKey, `${videoId}.${passwordVersion}.${expText}`, sig);
    },
    audience(s) {
      const body = Buffer.from(JSON.stringify({ a: s.accountId, t: s.tenantId, s: s.sessionId, x: Math.floor(s.expiresAt.getTime() / 1000) })).toString('base64url');
      return `${body}.${mac(audienceKey, body)}`;
    },
    audienceSession(value, now) {
      if (!value || value.length > 1000) return undefined;
      const [body = '', sig = ''] = value.split('.', 2);
      if (!macMatches(audienceKey, body, sig)) return undefined;
      try {
        const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { a?: unknown; t?: unknown; s?: unknown; x?: unknown };
        if (typeof p.a !== 'string' || typeof p.t !== 'string' || typeof p.s !== 'string' || typeof p.x !== 'number') return undefined;
        if (p.x * 1000 <= now.getTime()) return undefined;
        return { accountId: p.a, tenantId: p.t, sessionId: p.s, expiresAt: new Date(p.x * 1000) };
      } catch {
        return undefined;
      }
    },
  };
}
