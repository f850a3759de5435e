// The modules, wired in dependency order. A module reaches another only through
// the service it is handed here.
import type { HttpServer } from '../platform/http/server.ts';
import type { Platform } from '../platform/platform.ts';
import { sweepRateLimits } from '../platform/http/rate-limit-store.ts';
import { defineJob } from '../platform/jobs.ts';
import { z } from 'zod';
import { createTenantService, type Tenant, type TenantService } from './identity/tenants.ts';
import { addMember } from './identity/users.ts';

export interface SetupInput { tenantName: string; slug?: string; region?: string; adminEmail: string; adminPassword: string }

export interface Modules {
  tenants: TenantService;
  /** haven setup: a tenant and its first owner, in one transaction. */
  setup(input: SetupInput): Promise<{ tenant: Tenant; adminEmail: string }>;
  registerRoutes(app: HttpServer): Promise<void>;
  startWorkers(concurrency: number, region?: string): Promise<void>;
  onStarted(): Promise<void>;
}

const sweepRateLimitsJob = defineJob({ name: 'platform.sweep-rate-limits', schema: z.object({}).passthrough(), cron: '17 * * * *', retryLimit: 1 });

export async function createModules(platform: Platform): Promise<Modules> {
  const tenants = createTenantService(platform);
  return {
    tenants,
    async setup(input) {
      const tenant = await tenants.create({ name: input.tenantName, slug: input.slug, region: input.region }, async (tx, t) => {
        await addMember(tx, t.id, { email: input.adminEmail, password: input.adminPassword, role: 'owner' });
      });
      return { tenant, adminEmail: input.adminEmail };
    },
    async registerRoutes(_app) {
      // Domain routes are added here as modules gain HTTP surfaces.
    },
    async startWorkers(concurrency, region) {
      await platform.jobs.work(sweepRateLimitsJob, async () => sweepRateLimits(platform.db.appPool), { concurrency: 1 });
      void concurrency; void region;
    },
    async onStarted() {
      await platform.jobs.register(sweepRateLimitsJob);
    },
  };
}
