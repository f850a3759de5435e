// Publish state: a video is a draft until it is published, now or at a
// scheduled time. The scheduled-publish job flips due videos to published,
// as the system, with an audit event per video. (Whether a published video
// plays also depends on it being ready and on its access policy.)
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { defineJob } from '../../platform/jobs.ts';
import type { Platform } from '../../platform/platform.ts';
import { systemContext } from '../identity/actor.ts';
import type { AuditService } from '../audit/service.ts';
import type { PublishState } from './view.ts';

export interface PublishFields { published_state: PublishState; publish_at: Date | null; published_at: Date | null }
export interface PublishChange { publishState?: PublishState; publishAt?: string | null }

/**
 * The publish fields after a change. publishAt alone schedules (or, null,
 * unschedules); "scheduled" needs a time in the future; "published" clears
 * any schedule; "draft" clears both.
 */
export function applyPublishChange(current: PublishFields, change: PublishChange, now: Date): PublishFields {
  const publishAt = change.publishAt === undefined ? undefined : change.publishAt === null ? null : new Date(change.publishAt);
  let state = change.publishState;
  if (state === undefined && publishAt !== undefined) state = publishAt ? 'scheduled' : current.published_state === 'scheduled' ? 'draft' : current.published_state;
  if (state === undefined) return { published_state: current.published_state, publish_at: current.publish_at, published_at: current.published_at };
  switch (state) {
    case 'draft':
      if (publishAt) throw new AppError('publish_at_not_allowed', 400, 'A draft has no publish time; set publishState to "scheduled" to publish at publishAt.');
      return { published_state: 'draft', publish_at: null, published_at: null };
    case 'published':
      if (publishAt) throw new AppError('publish_at_not_allowed', 400, 'publishAt is for scheduled publishing; leave it out to publish now.');
      return { published_state: 'published', publish_at: null, published_at: current.published_state === 'published' ? current.published_at : now };
    case 'scheduled': {
      const at = publishAt === undefined ? current.publish_at : publishAt;
      if (!at) throw new AppError('publish_at_required', 400, 'Scheduling needs publishAt, the time to publish.');
      if (at.getTime() <= now.getTime()) throw new AppError('publish_at_in_past', 400, 'publishAt must be in the future; publish now with publishState "published".');
      return { published_state: 'scheduled', publish_at: at, published_at: null };
    }
  }
}

export const publishScheduledJob = defineJob({
  name: 'library.publish-scheduled',
  schema: z.object({}).passthrough(),
  cron: '* * * * *',
  retryLimit: 1,
  expireInSeconds: 300,
});

const DUE_BATCH = 500;

/** Publishes every scheduled video whose time has come; returns how many. */
export async function publishDue(platform: Platform, audit: AuditService, now: Date = platform.clock.now()): Promise<number> {
  const { db } = platform;
  let published = 0;
  for (;;) {
    const tenants = await db.withPlatform((tx) =>
      tx.selectFrom('videos').select('tenant_id').distinct().where('published_state', '=', 'scheduled').where('publish_at', '<=', now).limit(100).execute());
    let pass = 0;
    for (const { tenant_id: tenantId } of tenants) {
      pass += await db.withTenant(tenantId, (tx) => publishDueInTenant(tx, audit, tenantId, now));
    }
    published += pass;
    // Nothing moved: what is left is held by another worker running the same tick.
    if (pass === 0) return published;
  }
}

async function publishDueInTenant(tx: Tx, audit: AuditService, tenantId: string, now: Date): Promise<number> {
  // skip locked: a second worker running the same tick takes other videos, never the same ones twice.
  const due = await tx
    .selectFrom('videos')
    .select(['id', 'publish_at'])
    .where('published_state', '=', 'scheduled')
    .where('publish_at', '<=', now)
    .orderBy('publish_at')
    .limit(DUE_BATCH)
    .forUpdate()
    .skipLocked()
    .execute();
  if (due.length === 0) return 0;
  await tx
    .updateTable('videos')
    .set({ published_state: 'published', published_at: sql`publish_at`, publish_at: null, updated_at: sql`now()` })
    .where('id', 'in', due.map((d) => d.id))
    .execute();
  const ctx = systemContext('library.publish-scheduled', tenantId);
  for (const video of due) {
    await audit.record(tx, ctx, {
      action: 'video.publish',
      target: { type: 'video', id: video.id },
      diff: { before: { published_state: 'scheduled', publish_at: video.publish_at }, after: { published_state: 'published', published_at: video.publish_at } },
      details: { scheduled: true },
    });
  }
  return due.length;
}
