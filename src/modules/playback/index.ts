// The playback module: who may watch (access/), the signed tokens, playlists,
// segments and keys that let them (delivery/), the player pages and captions
// (player/), and what viewers watched, kept as the tenant's policy allows
// (analytics/). The parts meet only through contracts.ts.
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { IdentityModule } from '../identity/index.ts';
import type { LibraryModule } from '../library/index.ts';
import { createAccessPart } from './access/index.ts';
import { createPlaybackDelivery } from './delivery/index.ts';
import { createAnalytics } from './analytics/index.ts';
import { createPlayer } from './player/index.ts';

export interface PlaybackDeps {
  audit: AuditService;
  identity: IdentityModule;
  library: LibraryModule;
}

export function createPlaybackModule(platform: Platform, deps: PlaybackDeps) {
  void platform; void deps;
  // --- access (policies, links, password unlock, audience SSO) ---
  const accessPart = createAccessPart({ platform, audit: deps.audit, groups: deps.identity.groups });
  const access = accessPart.access;
  // --- delivery (tokens, /playback, playlists, segments, keys) ---
  // captionTracks is only called per request, after the player below exists.
  const delivery = createPlaybackDelivery(platform, { audit: deps.audit, access, captionTracks: (t, v, token) => player.captionTracks(t, v, token) });
  // --- player (/watch, /embed, assets, captions) ---
  const player = createPlayer(platform, { audit: deps.audit, tokens: delivery.tokens, access });
  // --- analytics (beacons, sessions, aggregates) ---
  const analytics = createAnalytics(platform, { audit: deps.audit, tokens: delivery.tokens });

  return {
    access,
    accessManagement: accessPart.management,
    /** Grant facts this node keeps while it listens for playback changes (access/grant-cache.ts). */
    grants: accessPart.grants,
    /** Verifies playback tokens (analytics, player). */
    playbackTokens: delivery.tokens,
    /** Caption tracks (player part). */
    captions: player.captions,
    /** Viewer analytics: settings, ingestion (flushed on HTTP close), nightly roll-up, reports. */
    analytics,
    async registerRoutes(app: HttpServer): Promise<void> {
      void app;
      // --- routes: access ---
      await accessPart.registerRoutes(app);
      const { registerPublicListingRoutes } = await import('./access/public-listing.ts');
      registerPublicListingRoutes(app, platform);
      // --- routes: delivery ---
      await delivery.registerRoutes(app);
      // --- routes: player ---
      await player.registerRoutes(app);
      // --- routes: analytics ---
      await analytics.registerRoutes(app);
    },
    async startWorkers(): Promise<void> {
      // --- workers: analytics ---
      await analytics.startWorkers();
    },
    async onStarted(): Promise<void> {
      // --- schedules: analytics ---
      await analytics.onStarted();
    },
  };
}

export type PlaybackModule = ReturnType<typeof createPlaybackModule>;
