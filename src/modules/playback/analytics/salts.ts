// The unique-viewer estimate without stored IPs: a visitor hash is
// HMAC(day's salt, tenant + ip + user agent). Salts are random, shared by all
// nodes through the database, and kept only for the current and previous
// day; once a salt is deleted nobody can recompute that day's hashes or link
// them to another day's.
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../../platform/db/database.ts';

export const dayOf = (d: Date): string => d.toISOString().slice(0, 10);

export function createVisitorHasher(db: Database) {
  // As key objects: createHmac with a raw Buffer re-imports the key on every call, which costs more than the hash.
  const salts = new Map<string, Promise<KeyObject>>();

  async function loadSalt(day: string): Promise<KeyObject> {
    return db.withPlatform(async (tx) => {
      await sql`insert into analytics_salts (day, salt) values (${day}, ${randomBytes(32)}) on conflict (day) do nothing`.execute(tx);
      const row = await tx.selectFrom('analytics_salts').select('salt').where('day', '=', day).executeTakeFirstOrThrow();
      return createSecretKey(row.salt as Buffer);
    });
  }

  function saltFor(day: string): Promise<KeyObject> {
    let salt = salts.get(day);
    if (!salt) {
      for (const d of salts.keys()) if (d < day) salts.delete(d);
      salt = loadSalt(day);
      salt.catch(() => salts.delete(day));
      salts.set(day, salt);
    }
    return salt;
  }

  return {
    async hash(now: Date, tenantId: string, ip: string, userAgent: string): Promise<string> {
      const salt = await saltFor(dayOf(now));
      return createHmac('sha256', salt).update(`${tenantId}\n${ip}\n${userAgent}`).digest('base64url').slice(0, 32);
    },
    /** Deletes salts older than the previous day; returns how many went. */
    async sweep(now: Date): Promise<number> {
      const yesterday = dayOf(new Date(now.getTime() - 86_400_000));
      for (const d of salts.keys()) if (d < yesterday) salts.delete(d);
      return db.withPlatform(async (tx) => Number((await tx.deleteFrom('analytics_salts').where('day', '<', yesterday).executeTakeFirst()).numDeletedRows));
    },
  };
}

export type VisitorHasher = ReturnType<typeof createVisitorHasher>;
