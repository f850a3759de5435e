// Signed local URLs: a time-limited, unguessable link to one stored object,
// served by Haven itself (for the filesystem driver, and for any driver when
// objects must not be reachable from outside). The signature covers region,
// key and expiry with the platform's signing key; nothing is stored.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import type { Storage } from './regions.ts';
import { ByteRangeNotSatisfiableError, InvalidObjectKeyError, ObjectNotFoundError } from './types.ts';
import { assertValidKey } from './keys.ts';

export const SIGNED_URL_PREFIX = '/storage';

export interface SignedUrlOptions { region: string; key: string; expiresAt: Date; contentType?: string }

function signature(signingKey: Buffer, region: string, key: string, expires: number, contentType: string): Buffer {
  return createHmac('sha256', signingKey).update(`haven:signed-object:${region}\n${key}\n${expires}\n${contentType}`).digest();
}

export function signObjectUrl(signingKey: Buffer, opts: SignedUrlOptions): string {
  assertValidKey(opts.key);
  const expires = Math.floor(opts.expiresAt.getTime() / 1000);
  const type = opts.contentType ?? 'application/octet-stream';
  const sig = signature(signingKey, opts.region, opts.key, expires, type).toString('base64url');
  const path = opts.key.split('/').map(encodeURIComponent).join('/');
  return `${SIGNED_URL_PREFIX}/${encodeURIComponent(opts.region)}/${path}?expires=${expires}&type=${encodeURIComponent(type)}&sig=${sig}`;
}

const invalid = () => new AppError('signed_url_invalid', 403, 'This link is invalid or has expired.');

/** Serves signed object URLs, with byte ranges. */
export function registerSignedUrlRoute(app: FastifyInstance, storage: Storage, signingKey: Buffer, now: () => Date = () => new Date()): void {
  app.get(`${SIGNED_URL_PREFIX}/:region/*`, { schema: { hide: true } }, async (req, reply) => {
    const { region, '*': key } = req.params as { region: string; '*': string };
    const q = req.query as { expires?: string; sig?: string; type?: string };
    const expires = Number(q.expires);
    const type = q.type ?? 'application/octet-stream';
    if (!Number.isInteger(expires) || !q.sig || !storage.regions().includes(region)) throw invalid();
    const given = Buffer.from(q.sig, 'base64url');
    const expected = signature(signingKey, region, key, expires, type);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    if (expires * 1000 < now().getTime()) throw invalid();
    try {
      assertValidKey(key);
    } catch (err) {
      if (err instanceof InvalidObjectKeyError) throw invalid();
      throw err;
    }
    const store = storage.forRegion(region);
    const info = await store.head(key);
    if (!info) throw new AppError('object_not_found', 404, 'The object behind this link no longer exists.');
    const range = parseRange(req.headers.range, info.size);
    reply
      .header('content-type', type)
      .header('accept-ranges', 'bytes')
      .header('etag', `"${info.etag}"`)
      .header('cache-control', `private, max-age=${Math.max(0, expires - Math.floor(now().getTime() / 1000))}`);
    try {
      if (range) {
        reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`).header('content-length', range.end - range.start + 1);
        return reply.send(await store.get(key, range));
      }
      reply.header('content-length', info.size);
      return reply.send(await store.get(key));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new AppError('object_not_found', 404, 'The object behind this link no longer exists.');
      if (err instanceof ByteRangeNotSatisfiableError) throw new AppError('range_not_satisfiable', 416, 'The requested byte range is outside the object.');
      throw err;
    }
  });
}

/** One "bytes=a-b" range (suffix and open-ended forms too); invalid → 416, absent → undefined. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new AppError('range_not_satisfiable', 416, 'Only one byte range of the form bytes=start-end is supported.');
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start > end || start >= size) throw new AppError('range_not_satisfiable', 416, 'The requested byte range is outside the object.');
  return { start, end };
}
