// The library module: video metadata and search, custom fields, collections,
// attachments, source versions, scheduled publishing and webhooks, wired
// from their parts. Other modules use what this returns — the media module
// extends the video view (views.extend), records replaced sources
// (recordNewVersion) and reports outcomes (emitVideoEvent).
import type { Tx } from '../../platform/db/database.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { RequestContext } from '../identity/actor.ts';
import { createAttachmentService } from './attachments.ts';
import { createCollectionService } from './collections.ts';
import { createCursorCodec } from './cursor.ts';
import { createCustomFieldService } from './custom-fields.ts';
import { publishDue, publishScheduledJob } from './publishing.ts';
import { ensureLeakproofSearchOperators } from './search-operators.ts';
import { createVersionService, type NewVersion, recordNewVersion } from './versions.ts';
import { createVideoService } from './videos.ts';
import { createVideoViews } from './view.ts';
import {
  createWebhookDelivery, DEFAULT_RETRY_DELAYS_SECONDS, DELIVERY_TIMEOUT_MS, deliverWebhookJob, listenForEvents, requeueWebhooksJob, webhookRetentionJob,
} from './webhooks/delivery.ts';
import { createWebhookEndpointService } from './webhooks/endpoints.ts';

export { emitVideoEvent, type WebhookEventType, webhookEventTypes } from './webhooks/events.ts';
export type { VideoViewExtension, VideoView } from './view.ts';
export type { NewVersion } from './versions.ts';

export interface LibraryOptions {
  /** Seconds before each webhook retry (attempt 2, 3, …); the default spans about two days. */
  webhookRetryDelaysSeconds?: number[];
  webhookTimeoutMs?: number;
}

export function createLibraryModule(platform: Platform, audit: AuditService, opts: LibraryOptions = {}) {
  const { jobs, log } = platform;
  const views = createVideoViews();
  const cursors = createCursorCodec(platform.signingKey);
  const videos = createVideoService({ platform, audit, views, cursors });
  const versions = createVersionService(platform);
  const customFields = createCustomFieldService(platform, audit);
  const collections = createCollectionService(platform, audit);
  const attachments = createAttachmentService(platform, audit);
  const webhooks = createWebhookEndpointService(platform, audit);
  const delivery = createWebhookDelivery(platform, {
    retryDelaysSeconds: opts.webhookRetryDelaysSeconds ?? DEFAULT_RETRY_DELAYS_SECONDS,
    timeoutMs: opts.webhookTimeoutMs ?? DELIVERY_TIMEOUT_MS,
  });
  // After a reconnect, whatever was committed while the connection was down.
  const listener = listenForEvents(platform.db.appUrl, log, delivery.dispatchEvent, () => delivery.requeueOverdue(0));
  const cronJobs = [publishScheduledJob, requeueWebhooksJob, webhookRetentionJob];

  return {
    views, videos, versions, customFields, collections, attachments, webhooks, delivery,

    /**
     * For the media module, inside the transaction in which a new upload
     * replaces the video's source: archives the current source as a version.
     */
    recordNewVersion: (tx: Tx, ctx: RequestContext, tenantId: string, videoId: string, input?: { reason?: string }): Promise<NewVersion> =>
      recordNewVersion(tx, audit, ctx, tenantId, videoId, input),

    /** Publishes scheduled videos that are due (the minutely job; tests call it with a clock). */
    publishDue: (now?: Date) => publishDue(platform, audit, now),

    /** Loaded only by a node that serves HTTP (src/serve.ts). */
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerLibraryRoutes } = await import('./http.ts');
      await registerLibraryRoutes(app, { videos, versions, views, customFields, collections, attachments, webhooks });
    },

    async startWorkers(concurrency = 2): Promise<void> {
      await jobs.work(deliverWebhookJob, (data) => delivery.attempt(data), { concurrency: Math.max(2, concurrency) });
      await jobs.work(publishScheduledJob, async () => ({ published: await publishDue(platform, audit) }));
      await jobs.work(requeueWebhooksJob, async () => ({ requeued: await delivery.requeueOverdue() }));
      await jobs.work(webhookRetentionJob, async () => ({ deleted: await delivery.sweepLog() }));
      await listener.start();
      // Events committed while no worker listened (or before this one started).
      await delivery.requeueOverdue(0);
    },

    async onStarted(): Promise<void> {
      await ensureLeakproofSearchOperators(platform.db.ownerPool, log);
      for (const def of cronJobs) await jobs.register(def);
    },

    async close(): Promise<void> {
      await listener.stop();
    },
  };
}

export type LibraryModule = ReturnType<typeof createLibraryModule>;
