// Opaque page cursors for video listings. A cursor names the last row of a
// page (its sort key and id) and is signed, bound to the tenant and to the
// search it came from: an edited cursor, or one reused with other filters or
// by another tenant, is a 400, never a wrong page.
import { createHash, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';

export interface CursorPosition {
  /** The sort key of the last row: a string (timestamp, title) or a number (rank, duration). */
  key: string | number;
  id: string;
}

const payloadSchema = z.object({
  v: z.literal(1),
  t: z.string(),
  f: z.string(),
  k: z.union([z.string().max(2000), z.number()]),
  id: z.uuid(),
});

export const invalidCursor = () =>
  new AppError('invalid_cursor', 400, 'The cursor is invalid or belongs to a different search; start again without a cursor.');

/** A digest of what a cursor belongs to: every filter and the sort, but not the page size. */
export function searchDigest(search: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(search).sort().map((k) => [k, search[k] ?? null]));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export function createCursorCodec(signingKey: Buffer) {
  const key = createSecretKey(createHmac('sha256', signingKey).update('haven:library:cursor-key:v1').digest());
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  return {
    encode(tenantId: string, digest: string, position: CursorPosition): string {
      const body = Buffer.from(JSON.stringify({ v: 1, t: tenantId, f: digest, k: position.key, id: position.id })).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    decode(tenantId: string, digest: string, cursor: string): CursorPosition {
      const [body, sig, extra] = cursor.split('.');
      if (!body || !sig || extra !== undefined) throw invalidCursor();
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
      let payload: z.output<typeof payloadSchema>;
      try {
        payload = payloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
      } catch {
        throw invalidCursor();
      }
      if (payload.t !== tenantId || payload.f !== digest) throw invalidCursor();
      return { key: payload.k, id: payload.id };
    },
  };
}

export type CursorCodec = ReturnType<typeof createCursorCodec>;
