// Leases on pieces of a video's output (a rendition, the images). Jobs are
// delivered at least once, so a duplicate could run beside the original and
// delete objects the other is writing. A worker claims a task before it
// touches the task's objects and renews the claim while it works; a
// duplicate finds the claim held and leaves. The claim names its job, so the
// retry of a killed attempt (same job id, the attempt is known dead) takes it
// over at once instead of waiting for the lease to run out.
import { sql } from 'kysely';
import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';

const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 5_000;

export interface Claim {
  /** Aborted when the job is cancelled or the claim was lost (the work must stop). */
  signal: AbortSignal;
  release(): Promise<void>;
}

export async function claimTask(
  db: Database, log: Logger,
  target: { tenantId: string; videoId: string; task: string },
  job: { id: string; attempt: number; signal: AbortSignal },
): Promise<Claim | undefined> {
  const token = `${job.id}:${job.attempt}`;
  const { tenantId, videoId, task } = target;
  const claimed = await db.withTenant(tenantId, async (tx) => {
    const { rows } = await sql<{ token: string }>`
      insert into media_claims (video_id, tenant_id, task, token, expires_at)
      values (${videoId}, ${tenantId}, ${task}, ${token}, now() + make_interval(secs => ${LEASE_SECONDS}))
      on conflict (video_id, task) do update set token = excluded.token, expires_at = excluded.expires_at
        where media_claims.expires_at < now() or media_claims.token like ${`${job.id}:%`}
      returning token`.execute(tx);
    return rows.length === 1;
  });
  if (!claimed) return undefined;

  const lost = new AbortController();
  const signal = AbortSignal.any([job.signal, lost.signal]);
  const renew = setInterval(() => {
    db.withTenant(tenantId, (tx) => tx.updateTable('media_claims').set({ expires_at: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
      .where('video_id', '=', videoId).where('task', '=', task).where('token', '=', token).executeTakeFirst())
      .then((res) => {
        if (Number(res.numUpdatedRows) === 0) {
          log.warn({ videoId, task }, 'media claim lost to another worker; stopping this attempt');
          lost.abort(new Error('claim lost'));
        }
      })
      .catch((err) => log.warn({ err, videoId, task }, 'could not renew a media claim'));
  }, RENEW_EVERY_MS);
  renew.unref();

  return {
    signal,
    async release() {
      clearInterval(renew);
      await db.withTenant(tenantId, (tx) => tx.deleteFrom('media_claims').where('video_id', '=', videoId).where('task', '=', task).where('token', '=', token).execute());
    },
  };
}
