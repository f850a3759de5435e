// Viewer analytics, wired from their parts: the tenant's policy (settings),
// beacon ingestion into buffered view sessions (ingest), the nightly roll-up
// and retention (rollup), and the dashboards' figures and CSV (reports).
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { PlaybackTokenVerifier } from '../contracts.ts';
import { createIngest } from './ingest.ts';
import { createWindowLimiter } from './limiter.ts';
import { createReports } from './reports.ts';
import { analyticsNightlyJob, createNightly } from './rollup.ts';
import { createVisitorHasher } from './salts.ts';
import { createSettingsService } from './settings.ts';
import { createCountryLookup, createDeviceParser } from './viewer.ts';

export { analyticsNightlyJob } from './rollup.ts';
export type { AnalyticsSettings } from './settings.ts';

/** Beacons may still arrive this long after their token expired (the last ones of a long view). */
export const BEACON_GRACE_MS = 2 * 3600_000;

export interface AnalyticsDeps {
  audit: AuditService;
  /** Delivery's playback tokens (verify only). */
  tokens: PlaybackTokenVerifier;
}

export function createAnalytics(platform: Platform, deps: AnalyticsDeps) {
  const { config, jobs } = platform;
  const settings = createSettingsService(platform, deps.audit);
  const hasher = createVisitorHasher(platform.db);
  const ingest = createIngest({
    db: platform.db, log: platform.log, hasher,
    settings: (tenantId) => settings.forIngest(tenantId),
    country: createCountryLookup(),
    device: createDeviceParser(),
    flushIntervalMs: config.analyticsFlushIntervalMs,
  });
  const nightly = createNightly(platform, deps.audit, hasher);
  const reports = createReports(platform, deps.audit);
  const limiter = createWindowLimiter();

  return {
    settings, ingest, nightly, reports,

    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerAnalyticsRoutes } = await import('./routes.ts');
      await registerAnalyticsRoutes(app, {
        ingest, settings, reports, tokens: deps.tokens, limiter,
        limits: {
          perPlaybackPerMinute: config.analyticsBeaconsPerMinutePerPlayback,
          perAddressPerMinute: config.analyticsBeaconsPerMinutePerAddress,
          graceMs: BEACON_GRACE_MS,
        },
      });
      // The buffer is filled by HTTP requests only: once the server stops taking them, write what is left
      // (the HTTP server closes before the database on shutdown).
      app.addHook('onClose', async () => { await ingest.close(); });
    },

    async startWorkers(): Promise<void> {
      await jobs.work(analyticsNightlyJob, async () => {
        const r = await nightly.run();
        return { tenants: r.tenants.length, saltsDeleted: r.saltsDeleted };
      });
    },

    async onStarted(): Promise<void> {
      await jobs.register(analyticsNightlyJob);
    },

    /** Writes buffered beacons; later ones are refused. */
    close: () => ingest.close(),
  };
}

export type Analytics = ReturnType<typeof createAnalytics>;
