// Scheduled audit work. pg-boss runs each cron job once per tick across all
// nodes; the sealing loop runs in every worker node (the head row lock keeps
// two nodes from sealing one tenant at once).
import { z } from 'zod';
import { defineJob, type JobQueue } from '../../platform/jobs.ts';
import type { AuditService } from './service.ts';

const noPayload = z.object({}).passthrough();

/** Signs each chain head that moved; bounds how long a consistent rewrite of the tail goes unnoticed. */
export const auditCheckpointJob = defineJob({ name: 'audit.checkpoint', schema: noPayload, cron: '*/5 * * * *', retryLimit: 1, expireInSeconds: 600 });

/** Deletes entries past retention behind signed cut checkpoints. */
export const auditSweepJob = defineJob({ name: 'audit.sweep', schema: noPayload, cron: '41 2 * * *', retryLimit: 2, expireInSeconds: 3600 });

export const auditJobs = [auditCheckpointJob, auditSweepJob];

/** Creates the queues and cron schedules (Modules.onStarted). */
export async function registerAuditJobs(jobs: JobQueue): Promise<void> {
  for (const def of auditJobs) await jobs.register(def);
}

/** Runs the scheduled jobs and the sealing loop in this node (Modules.startWorkers). */
export async function startAuditWorkers(jobs: JobQueue, audit: AuditService, sealIntervalMs = 500): Promise<void> {
  await jobs.work(auditCheckpointJob, async () => ({ checkpoints: (await audit.checkpoint()).length }));
  await jobs.work(auditSweepJob, async () => ({ swept: (await audit.sweep()).map((r) => ({ tenantId: r.tenantId, cutSeq: r.cutSeq, deleted: r.deleted })) }));
  audit.startSealer(sealIntervalMs);
}
