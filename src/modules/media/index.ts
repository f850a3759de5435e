// The media module: resumable uploads into a region's private staging, and
// the pipeline that turns them into encrypted HLS (docs/media.md).
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { TenantService } from '../identity/tenants.ts';
import { EventStreams } from './events.ts';
import { ingest } from './ingest.ts';
import { retireGeneration } from './generations.ts';
import { expireUploadsJob, ingestJob, retireGenerationJob, sweepStagingJob, transcodeJob } from './jobs.ts';
import { type PipelineDeps, pipelineHandler, type VideoEventEmitter } from './pipeline.ts';
import { transcodeGroup } from './renditions.ts';
import { createStaging } from './staging.ts';
import { sweepStaging } from './sweeper.ts';
import { createUploadRecords } from './uploads.ts';
import { mediaViewExtension } from './view.ts';

export function createMediaModule(platform: Platform, deps: { audit: AuditService; tenants: TenantService; videoEvents: VideoEventEmitter }) {
  const { jobs, db } = platform;
  const staging = createStaging(platform.config.dataDir);
  const pipeline: PipelineDeps = { platform, audit: deps.audit, staging, videoEvents: deps.videoEvents };
  const records = createUploadRecords(pipeline);
  const events = new EventStreams(db);

  return {
    /** For the library's video view: playable, renditions, technical. */
    viewExtension: mediaViewExtension,
    uploads: records,
    staging,
    sweep: (region: string, now?: Date) => sweepStaging(pipeline, region, now),

    /** Loaded only by a node that serves HTTP (src/serve.ts). */
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerMediaHttp } = await import('./http.ts');
      await registerMediaHttp(app, { platform, audit: deps.audit, tenants: deps.tenants, events, records, staging });
    },

    /** The pipeline's workers, for one region or all; `concurrency` jobs of each kind at once. */
    async startWorkers(concurrency: number, region?: string): Promise<void> {
      for (const r of region ? [region] : platform.storage.regions()) await staging.prepare(r);
      const opts = { concurrency, region };
      await jobs.work(ingestJob, pipelineHandler(pipeline, ingestJob, (data, ctx) => ingest(pipeline, data, ctx)), opts);
      await jobs.work(transcodeJob, pipelineHandler(pipeline, transcodeJob, (data, ctx) => transcodeGroup(pipeline, data, ctx)), opts);
      await jobs.work(retireGenerationJob, (data) => retireGeneration(pipeline, data), { concurrency: 1, region });
      await jobs.work(expireUploadsJob, (_data, ctx) => records.expire(ctx.region!), { concurrency: 1, region });
      await jobs.work(sweepStagingJob, (_data, ctx) => sweepStaging(pipeline, ctx.region!), { concurrency: 1, region });
    },

    /** Cron schedules exist even when only HTTP nodes run. */
    async onStarted(): Promise<void> {
      for (const def of [expireUploadsJob, sweepStagingJob]) await jobs.register(def);
    },

    close(): void {
      events.closeAll();
    },
  };
}

export type MediaModule = ReturnType<typeof createMediaModule>;
