// The modules, wired in dependency order. A module reaches another only through
// the service it is handed here.
import { z } from 'zod';
import type { HttpServer } from '../platform/http/server.ts';
import { sweepRateLimits } from '../platform/http/rate-limit-store.ts';
import { defineJob } from '../platform/jobs.ts';
import type { Platform } from '../platform/platform.ts';
import { registerAuditJobs } from './audit/jobs.ts';
import { type AuditService, createAuditService } from './audit/service.ts';
import { createIdentityModule, type IdentityModule } from './identity/index.ts';
import { createLibraryModule, emitVideoEvent, type LibraryModule } from './library/index.ts';
import { createMediaModule, type MediaModule } from './media/index.ts';
import { createNoticesModule, type NoticesModule } from './notices/index.ts';
import { createPlaybackModule, type PlaybackModule } from './playback/index.ts';
import { createPrivacyModule, type PrivacyModule } from './privacy/index.ts';
import type { Tenant, TenantService } from './identity/tenants.ts';
import { addMember } from './identity/users.ts';
import { systemContext } from './identity/actor.ts';

export interface SetupInput { tenantName: string; slug?: string; region?: string; adminEmail: string; adminPassword: string }

export interface Modules {
  audit: AuditService;
  identity: IdentityModule;
  tenants: TenantService;
  library: LibraryModule;
  media: MediaModule;
  playback: PlaybackModule;
  privacy: PrivacyModule;
  notices: NoticesModule;
  /** haven setup: a tenant and its first owner, in one transaction. */
  setup(input: SetupInput): Promise<{ tenant: Tenant; adminEmail: string }>;
  registerRoutes(app: HttpServer): Promise<void>;
  startWorkers(concurrency: number, region?: string): Promise<void>;
  onStarted(): Promise<void>;
  close(): Promise<void>;
}

const sweepRateLimitsJob = defineJob({ name: 'platform.sweep-rate-limits', schema: z.object({}).passthrough(), cron: '17 * * * *', retryLimit: 1 });

export async function createModules(platform: Platform): Promise<Modules> {
  const audit = createAuditService(platform);
  const identity = createIdentityModule(platform, audit);
  const { tenants } = identity;
  const library = createLibraryModule(platform, audit);
  const media = createMediaModule(platform, { audit, tenants, videoEvents: emitVideoEvent });
  library.views.extend(media.viewExtension);
  const playback = createPlaybackModule(platform, { audit, identity, library });
  const privacy = createPrivacyModule(platform, { audit, identity, library, media, playback });
  const notices = createNoticesModule(platform, { audit });

  return {
    audit,
    identity,
    tenants,
    library,
    media,
    playback,
    privacy,
    notices,
    async setup(input) {
      const tenant = await tenants.create({ name: input.tenantName, slug: input.slug, region: input.region }, async (tx, t) => {
        const { userId } = await addMember(tx, t.id, { email: input.adminEmail, password: input.adminPassword, role: 'owner', emailVerified: true });
        await audit.record(tx, systemContext('setup', t.id), { action: 'user.add', target: { type: 'user', id: userId }, details: { role: 'owner', via: 'setup' } });
      });
      return { tenant, adminEmail: input.adminEmail };
    },
    /** Every module's routes, each loaded only now: a node that does not serve HTTP never imports them. */
    async registerRoutes(app) {
      await identity.registerRoutes(app);
      const { registerAuditRoutes } = await import('./audit/routes.ts');
      const { registerOwnAccessRoutes } = await import('./audit/own-access-routes.ts');
      registerAuditRoutes(app, audit);
      registerOwnAccessRoutes(app, audit);
      await library.registerRoutes(app);
      await media.registerRoutes(app);
      await playback.registerRoutes(app);
      await privacy.registerRoutes(app);
      await notices.registerRoutes(app);
    },
    async startWorkers(concurrency, region) {
      void concurrency; void region;
      await platform.jobs.work(sweepRateLimitsJob, async () => sweepRateLimits(platform.db.appPool), { concurrency: 1 });
      await audit.startWorkers();
      await library.startWorkers(concurrency);
      await media.startWorkers(concurrency, region);
      await playback.startWorkers();
      await privacy.startWorkers();
    },
    async onStarted() {
      await platform.jobs.register(sweepRateLimitsJob);
      // Cron schedules exist even when only HTTP nodes are running.
      await registerAuditJobs(platform.jobs);
      await identity.onStarted();
      await library.onStarted();
      await media.onStarted();
      await playback.onStarted();
      await privacy.onStarted();
    },
    async close() {
      media.close();
      await library.close();
      await audit.stop?.();
    },
  };
}
