// Data-subject requests and the export archive (issue 7, items 2 and 3).
import type { JobQueue } from '../../../platform/jobs.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { createDsarService, type DsarDeps, type DsarService, processJob, remindJob, sweepJob } from './service.ts';

export { createDsarService, dueDate, type DsarService, type PrivacyRequest, type RequestType } from './service.ts';
export type { ArchiveReport } from './archive.ts';

export function createDsar(deps: DsarDeps) {
  const service = createDsarService(deps);
  const jobs: JobQueue = deps.platform.jobs;
  return {
    service,
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerDsarRoutes } = await import('./routes.ts');
      registerDsarRoutes(app, service);
    },
    async startWorkers(): Promise<void> {
      await jobs.work(processJob, async (data) => service.process(data.requestId), { concurrency: 1 });
      await jobs.work(remindJob, async () => service.remindDue());
      await jobs.work(sweepJob, async () => ({ deleted: await service.sweepExports() }));
    },
    async onStarted(): Promise<void> {
      await jobs.register(processJob);
      await jobs.register(remindJob);
      await jobs.register(sweepJob);
    },
  };
}
export type Dsar = ReturnType<typeof createDsar> & { service: DsarService };
