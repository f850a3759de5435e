// Offboarding (issue 7, item 9): the service, its routes and read-only hook,
// and the scheduled destruction of tenants whose grace period ended.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { defineJob } from '../../../platform/jobs.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { createOffboardingService } from './service.ts';

export { verifyCertificate, canonicalJson, type DeletionCertificate, type SignedCertificate } from './certificate.ts';
export type { OffboardingService } from './service.ts';

export const offboardingDestroyJob = defineJob({ name: 'privacy.offboarding-destroy', schema: z.object({}).strict(), cron: '41 * * * *', retryLimit: 2 });

export function createOffboardingPart(platform: Platform, audit: AuditService) {
  const service = createOffboardingService({ platform, audit });
  return {
    service,
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerOffboardingRoutes } = await import('./routes.ts');
      registerOffboardingRoutes(app, service);
    },
    async startWorkers(): Promise<void> {
      await platform.jobs.work(offboardingDestroyJob, async () => { await service.destroyDue(); }, { concurrency: 1 });
    },
    async onStarted(): Promise<void> {
      await platform.jobs.register(offboardingDestroyJob);
    },
  };
}
