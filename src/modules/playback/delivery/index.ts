// Delivery: turns a positive access decision into a playback token and
// serves what a player needs under it — playlists, init and segments
// (ciphertext, cacheable anywhere), the HLS key (checked against the grant
// on every fetch) and the decrypted images. docs/playback.md.
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { PlaybackAccess } from '../contracts.ts';
import { createTtlCache, createVideoKeyCache } from './key-cache.ts';
import { createMediaReader } from './media-file.ts';
import { createPlaybackTokens, type PlaybackTokens } from './tokens.ts';

export { createPlaybackTokens, type PlaybackTokens } from './tokens.ts';

export interface CaptionTrack { lang: string; label: string; url: string }
/** The player part's captions of a video, with URLs under the token (none until wired). */
export type CaptionTracks = (tenantId: string, videoId: string, token: string) => Promise<CaptionTrack[]>;

export interface DeliveryDeps {
  audit: AuditService;
  access: PlaybackAccess;
  captionTracks?: CaptionTracks;
  /** Where view beacons go (the analytics part's route). */
  beaconUrl?: string;
}

export interface PlaybackDelivery {
  tokens: PlaybackTokens;
  registerRoutes(app: HttpServer): Promise<void>;
}

/** Unwrapped keys live this long in memory; a revoked grant is still refused at once (the grant is rechecked, not cached). */
export const KEY_CACHE_TTL_MS = 60_000;
export const KEY_CACHE_ENTRIES = 10_000;
/** A newly published rendition shows in the master playlist within this time. */
export const PLAYLIST_CACHE_TTL_MS = 5_000;

export function createPlaybackDelivery(platform: Platform, deps: DeliveryDeps): PlaybackDelivery {
  const tokens = createPlaybackTokens(platform.signingKey, { ttlSeconds: platform.config.playbackTokenTtlSeconds, now: () => platform.clock.now() });
  const keys = createVideoKeyCache({ maxEntries: KEY_CACHE_ENTRIES, ttlMs: KEY_CACHE_TTL_MS });
  // Object keys are per region's store; a key names one tenant's video, so the key alone identifies the text.
  const texts = createTtlCache<string>({ maxEntries: 5_000, ttlMs: PLAYLIST_CACHE_TTL_MS });
  const captionTracks: CaptionTracks = deps.captionTracks ?? (async () => []);
  const media = createMediaReader();
  return {
    tokens,
    async registerRoutes(app) {
      const { registerPlaybackRoute } = await import('./playback-route.ts');
      const { registerPlayRoutes } = await import('./serve.ts');
      registerPlaybackRoute(app, { platform, audit: deps.audit, access: deps.access, tokens, captionTracks, beaconUrl: deps.beaconUrl ?? '/api/v1/playback/beacons' });
      registerPlayRoutes(app, { platform, audit: deps.audit, access: deps.access, tokens, keys, texts, media });
    },
  };
}
