// The trash and the deletion routine (issue 7, item 6): soft delete with a
// per-tenant window (mark.ts, used by the library and identity delete
// paths), the admin's trash (service.ts, routes.ts), the hourly purge
// (purge.ts), and the refusal of a deleted tenant's requests.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { defineJob } from '../../../platform/jobs.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { purgeDue, purgeTenant as purgeTenantNow, type PurgeDeps } from './purge.ts';
import { createTrashService } from './service.ts';

export { seeTrash, hideTrash, trashTypes, type TrashType } from './mark.ts';
export { tenantPurgeKeeps, type PurgeReport } from './purge.ts';

export const purgeTrashJob = defineJob({ name: 'privacy.trash-purge', schema: z.object({}).strict(), cron: '17 * * * *' });

/** For offboarding: destroys a tenant now (key first, then objects and rows), whether or not its trash window has passed. */
export const purgeTenant = (deps: PurgeDeps, tenantId: string, ctx: RequestContext) => purgeTenantNow(deps, tenantId, ctx, { force: true });

export function createTrashPart(platform: Platform, audit: AuditService) {
  const deps: PurgeDeps = { platform, audit };
  const service = createTrashService(deps);
  return {
    service,
    purgeDue: (now?: Date) => purgeDue(deps, now),
    purgeTenant: (tenantId: string, ctx: RequestContext) => purgeTenant(deps, tenantId, ctx),

    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerTrashRoutes } = await import('./routes.ts');
      // A tenant in the trash answers nothing to its members (sessions and API tokens alike) until it is
      // restored. The state comes with the credential (identity's request context): no query here.
      app.addHook('onRequest', (req, _reply, done) => {
        done(req.ctx?.tenantState === 'deleted' ? new AppError('tenant_deleted', 410, 'This organization has been deleted.') : undefined);
      });
      registerTrashRoutes(app, service);
    },
    async startWorkers(): Promise<void> {
      await platform.jobs.work(purgeTrashJob, async () => purgeDue(deps));
    },
    async onStarted(): Promise<void> {
      await platform.jobs.register(purgeTrashJob);
    },
  };
}
