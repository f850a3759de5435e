// The media pipeline's jobs. All are regional: they run only on workers of the
// video's region, next to its staging dir and store. Pipeline jobs heartbeat,
// so one whose worker died is retried within seconds; each handler checks the
// video's state first, so a repeated delivery finds its work done.
import { z } from 'zod';
import { defineJob } from '../../platform/jobs.ts';

const videoRef = z.object({ tenantId: z.uuid(), videoId: z.uuid() });
const cronPayload = z.object({}).passthrough();
const renditionName = z.string().regex(/^[a-z0-9_-]{1,32}$/);

export const PIPELINE_RETRY_LIMIT = 3;
const pipeline = { regional: true, heartbeatSeconds: 10, retryLimit: PIPELINE_RETRY_LIMIT, retryDelaySeconds: 5 } as const;

/** Upload finished → validate, hash, encrypt the original, plan the ladder, queue the transcode jobs. */
export const ingestJob = defineJob({ name: 'media.ingest', schema: videoRef, ...pipeline, expireInSeconds: 6 * 3600 });

/** Encodes a group of renditions (and, with the top rendition, the images) from one decode of the source and publishes each. */
export const transcodeJob = defineJob({ name: 'media.transcode', schema: videoRef.extend({ renditions: z.array(renditionName).min(1).max(16) }), ...pipeline, expireInSeconds: 24 * 3600 });

/** Removes the ladder a replaced source was played from, a grace period after the new one is complete (generations.ts). */
export const retireGenerationJob = defineJob({
  name: 'media.retire-generation', schema: videoRef.extend({ generation: z.number().int().min(0) }), regional: true, retryLimit: PIPELINE_RETRY_LIMIT, retryDelaySeconds: 5,
});

/** Removes uploads nobody finished (and finishes those whose bytes all arrived). */
export const expireUploadsJob = defineJob({ name: 'media.expire-uploads', schema: cronPayload, regional: true, cron: '*/10 * * * *', retryLimit: 1 });

/** Removes plaintext left in staging by crashes and by videos no longer processing. */
export const sweepStagingJob = defineJob({ name: 'media.sweep-staging', schema: cronPayload, regional: true, cron: '7,37 * * * *', retryLimit: 1 });

export type VideoRef = z.infer<typeof videoRef>;
