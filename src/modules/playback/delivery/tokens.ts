// Playback tokens: short-lived, signed grants that playlists, segments, the
// key and images are served under, checked without the database.
//
//   token = base64url(payload) "." base64url(HMAC-SHA256(macKey, payload))
//   payload = version byte | 16-byte IV | AES-256-CTR(encKey, IV, fields)
//
// Both keys come from the platform signing key by HKDF ('haven playback
// token'). The fields are encrypted as well as signed because a token rides
// in URLs (browser history, proxy and CDN logs): it must not show who
// watches (viewer and session ids) or from which address (bound IP).
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { GrantBasis, PlaybackGrant, PlaybackTokenVerifier, ViewerIdentity } from '../contracts.ts';

const VERSION = 1;
const IV_LENGTH = 16;
const MAC_LENGTH = 32;
const VIEWER_KINDS: ViewerIdentity['kind'][] = ['member', 'audience', 'anonymous'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A token longer than this is not one of ours; refused before any crypto. */
const MAX_TOKEN_LENGTH = 1024;

export interface PlaybackTokenOptions {
  /** Lifetime of a token when issue() is not told otherwise (HAVEN_PLAYBACK_TOKEN_TTL_SECONDS). */
  ttlSeconds: number;
  now?: () => Date;
}

export interface IssuedToken { token: string; expiresAt: Date }

export interface PlaybackTokens extends PlaybackTokenVerifier {
  issue(basis: GrantBasis, extra: { playbackId?: string; ip?: string; ttlSeconds?: number }): IssuedToken & { playbackId: string };
  /** Why verify() refused a token, for the error code (expired tokens are told apart from forged ones). */
  check(token: string, now: Date): { grant: PlaybackGrant } | { problem: 'invalid' | 'expired' };
}

export function createPlaybackTokens(signingKey: Buffer, opts: PlaybackTokenOptions): PlaybackTokens {
  const keys = Buffer.from(hkdfSync('sha256', signingKey, Buffer.alloc(0), 'haven playback token', 64));
  // Imported once: handing raw Buffers to createHmac/createCipheriv imports them again on every call.
  const macKey = createSecretKey(keys.subarray(0, 32));
  const encKey = createSecretKey(keys.subarray(32, 64));
  keys.fill(0);
  const clock = opts.now ?? (() => new Date());

  function issue(basis: GrantBasis, extra: { playbackId?: string; ip?: string; ttlSeconds?: number }) {
    const playbackId = extra.playbackId ?? randomUUID();
    const ttl = extra.ttlSeconds ?? opts.ttlSeconds;
    const expiresSeconds = Math.floor(clock().getTime() / 1000) + ttl;
    if (basis.bindIp && !extra.ip) throw new Error('a token bound to the IP needs the IP');
    const fields = encodeFields({ ...basis, playbackId, ip: basis.bindIp ? extra.ip : undefined, expiresAt: new Date(expiresSeconds * 1000) });
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-ctr', encKey, iv);
    const payload = Buffer.concat([Buffer.from([VERSION]), iv, cipher.update(fields), cipher.final()]);
    const mac = createHmac('sha256', macKey).update(payload).digest();
    return { token: `${payload.toString('base64url')}.${mac.toString('base64url')}`, expiresAt: new Date(expiresSeconds * 1000), playbackId };
  }

  function check(token: string, now: Date): { grant: PlaybackGrant } | { problem: 'invalid' | 'expired' } {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { problem: 'invalid' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { problem: 'invalid' };
    const payload = Buffer.from(token.slice(0, dot), 'base64url');
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = createHmac('sha256', macKey).update(payload).digest();
    if (given.length !== MAC_LENGTH || !timingSafeEqual(given, expected)) return { problem: 'invalid' };
    if (payload.length < 1 + IV_LENGTH || payload[0] !== VERSION) return { problem: 'invalid' };
    const decipher = createDecipheriv('aes-256-ctr', encKey, payload.subarray(1, 1 + IV_LENGTH));
    const grant = decodeFields(Buffer.concat([decipher.update(payload.subarray(1 + IV_LENGTH)), decipher.final()]));
    if (!grant) return { problem: 'invalid' };
    if (grant.expiresAt.getTime() <= now.getTime()) return { problem: 'expired' };
    return { grant };
  }

  return {
    issue,
    check,
    verify(token, now) {
      const r = check(token, now);
      return 'grant' in r ? r.grant : undefined;
    },
  };
}

// --- the binary field layout (inside the encryption) ------------------------
// flags(1: bind IP, link, session, IP, members rule) | expires(u32 s) | policyVersion(u32) | tenant(16) | video(16) | playback(16)
// | viewer kind(1) | viewer id(str) | region(str) | [link(str)] | [session(str)] | [ip(1|4|16)]
// str = u8 length + UTF-8, or 0xff + 16 bytes when the value is a lower-case UUID.

const F_BIND_IP = 1;
const F_LINK = 2;
const F_SESSION = 4;
const F_IP = 8;
const F_MEMBERS_RULE = 16;

function encodeFields(g: PlaybackGrant): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(9);
  head[0] = (g.bindIp ? F_BIND_IP : 0) | (g.linkId ? F_LINK : 0) | (g.viewer.sessionId ? F_SESSION : 0) | (g.ip ? F_IP : 0) | (g.membersRule ? F_MEMBERS_RULE : 0);
  head.writeUInt32BE(Math.floor(g.expiresAt.getTime() / 1000), 1);
  head.writeUInt32BE(g.policyVersion, 5);
  parts.push(head, uuidBytes(g.tenantId), uuidBytes(g.videoId), uuidBytes(g.playbackId));
  parts.push(Buffer.from([VIEWER_KINDS.indexOf(g.viewer.kind)]), str(g.viewer.id), str(g.region));
  if (g.linkId) parts.push(str(g.linkId));
  if (g.viewer.sessionId) parts.push(str(g.viewer.sessionId));
  if (g.ip) parts.push(ipBytes(g.ip));
  return Buffer.concat(parts);
}

function decodeFields(b: Buffer): PlaybackGrant | undefined {
  try {
    let at = 0;
    const take = (n: number) => {
      if (at + n > b.length) throw new RangeError('short');
      const s = b.subarray(at, at + n);
      at += n;
      return s;
    };
    const readStr = () => {
      const len = take(1)[0]!;
      return len === 0xff ? uuidString(take(16)) : take(len).toString('utf8');
    };
    const flags = take(1)[0]!;
    const head = take(8);
    const expires = head.readUInt32BE(0);
    const policyVersion = head.readUInt32BE(4);
    const tenantId = uuidString(take(16));
    const videoId = uuidString(take(16));
    const playbackId = uuidString(take(16));
    const kind = VIEWER_KINDS[take(1)[0]!];
    if (!kind) return undefined;
    const viewer: ViewerIdentity = { kind, id: readStr() };
    const region = readStr();
    const linkId = flags & F_LINK ? readStr() : undefined;
    if (flags & F_SESSION) viewer.sessionId = readStr();
    let ip: string | undefined;
    if (flags & F_IP) {
      const family = take(1)[0]!;
      ip = family === 4 ? [...take(4)].join('.') : family === 6 ? ipv6String(take(16)) : undefined;
      if (!ip) return undefined;
    }
    if (at !== b.length) return undefined;
    return {
      tenantId, videoId, region, policyVersion, viewer, bindIp: Boolean(flags & F_BIND_IP), ...(flags & F_MEMBERS_RULE ? { membersRule: true } : {}),
      ...(linkId ? { linkId } : {}), playbackId, ...(ip ? { ip } : {}), expiresAt: new Date(expires * 1000),
    };
  } catch {
    return undefined;
  }
}

function str(value: string): Buffer {
  if (UUID.test(value)) return Buffer.concat([Buffer.from([0xff]), uuidBytes(value)]);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length >= 0xff) throw new Error('token field too long');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function uuidBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error(`not a lower-case UUID: ${id.length} characters`);
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function ipBytes(ip: string): Buffer {
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(plain) === 4) return Buffer.from([4, ...plain.split('.').map(Number)]);
  if (isIP(plain) === 6) return Buffer.concat([Buffer.from([6]), ipv6Bytes(plain)]);
  throw new Error('not an IP address');
}

function ipv6Bytes(ip: string): Buffer {
  const [left, right] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const l = groups(left);
  const r = groups(right);
  const words = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  return out;
}

function ipv6String(b: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16));
  return words.join(':');
}

/** Whether a request's address is the one a token was bound to (IPv4-mapped IPv6 counts as IPv4; IPv6 compared in full form). */
export function sameIp(a: string, b: string): boolean {
  const norm = (ip: string) => {
    try {
      const bytes = ipBytes(ip);
      return bytes[0] === 4 ? [...bytes.subarray(1)].join('.') : ipv6String(bytes.subarray(1));
    } catch {
      return ip;
    }
  };
  return norm(a) === norm(b);
}
