// The tus lock, held in PostgreSQL so every node of a region sees it: a
// request that writes or reads an upload takes a short lease on its row and
// renews it while it runs. A second PATCH to the same upload is refused at
// once with 409 (tus clients then ask for the offset and resume); a HEAD
// waits briefly for the writer to finish. A lease left by a node that died
// runs out, or — when the dead process was on this host — is taken over at
// once, so a restarted Haven resumes its uploads without waiting.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lock, Locker } from '@tus/utils';
import { sql } from 'kysely';
import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';

const LEASE_SECONDS = 20;
const RENEW_EVERY_MS = 5_000;
/** This process, as written into the locks it holds: host, pid, and an id for this start. */
const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

export const uploadLocked = () => new AppError('upload_locked', 409, 'Another request is writing to this upload. Ask for its offset (HEAD) and resume from there.');

export function createUploadLocker(db: Database, tenantId: string, opts: { waitMs: number }): Locker {
  return { newLock: (uploadId) => new UploadLock(db, tenantId, uploadId, opts.waitMs) };
}

class UploadLock implements Lock {
  private readonly db: Database;
  private readonly tenantId: string;
  private readonly uploadId: string;
  private readonly waitMs: number;
  private token?: string;
  private renew?: NodeJS.Timeout;

  constructor(db: Database, tenantId: string, uploadId: string, waitMs: number) {
    this.db = db;
    this.tenantId = tenantId;
    this.uploadId = uploadId;
    this.waitMs = waitMs;
  }

  async lock(signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    const token = `${owner}/${randomUUID()}`;
    for (;;) {
      const holder = await this.tryTake(token);
      if (holder === token) break;
      if (holder === undefined) throw new AppError('upload_not_found', 404, 'No upload with that id exists.');
      if (Date.now() >= deadline || signal.aborted) throw uploadLocked();
      await sleep(100);
    }
    this.token = token;
    this.renew = setInterval(() => {
      this.db.withTenant(this.tenantId, (tx) => tx.updateTable('uploads').set({ lock_expires_at: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
        .where('id', '=', this.uploadId).where('lock_token', '=', token).execute()).catch(() => undefined);
    }, RENEW_EVERY_MS);
    this.renew.unref();
  }

  /** Takes the lease if it is free, expired or left by a dead process on this host; returns who holds it now. */
  private async tryTake(token: string): Promise<string | undefined> {
    return this.db.withTenant(this.tenantId, async (tx) => {
      const row = await tx.selectFrom('uploads').select(['lock_token', sql<boolean>`lock_expires_at < now()`.as('expired')]).where('id', '=', this.uploadId).forUpdate().executeTakeFirst();
      if (!row) return undefined;
      if (row.lock_token && !row.expired && !leftByDeadProcess(row.lock_token)) return row.lock_token as string;
      await tx.updateTable('uploads').set({ lock_token: token, lock_expires_at: sql`now() + make_interval(secs => ${LEASE_SECONDS})` }).where('id', '=', this.uploadId).execute();
      return token;
    });
  }

  async unlock(): Promise<void> {
    clearInterval(this.renew);
    const token = this.token;
    this.token = undefined;
    if (!token) return;
    await this.db.withTenant(this.tenantId, (tx) => tx.updateTable('uploads').set({ lock_token: null, lock_expires_at: null })
      .where('id', '=', this.uploadId).where('lock_token', '=', token).execute());
  }
}

function leftByDeadProcess(token: string): boolean {
  const [host, pid, start] = token.split('/');
  if (host !== hostname() || !pid) return false;
  // Our own pid: this process (a real conflict), or an earlier Haven that had the same pid (a container's pid 1).
  if (Number(pid) === process.pid) return `${host}/${pid}/${start}` !== owner;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
