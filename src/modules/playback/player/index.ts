// The player part of playback: the /watch and /embed pages with their
// browser code, and caption tracks (stored, searchable, served to players).
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { PlaybackAccess, PlaybackTokenVerifier } from '../contracts.ts';
import { createCaptionService } from './captions.ts';

export type { CaptionService, PlayerCaptionTrack } from './captions.ts';

export interface PlayerDeps {
  audit: AuditService;
  tokens: PlaybackTokenVerifier;
  access: Pick<PlaybackAccess, 'frameAncestors' | 'stillValid'>;
}

export function createPlayer(platform: Platform, deps: PlayerDeps) {
  const captions = createCaptionService(platform, deps.audit);
  return {
    captions,
    /** For the delivery part's GET /playback: the tracks, with URLs under the viewer's token. */
    captionTracks: captions.captionTracks,
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerPlayerRoutes } = await import('./routes.ts');
      // The player's files (hls.js among them, ~0.5 MB) are read only by a node that serves them.
      const { loadPlayerAssets } = await import('./assets.ts');
      await registerPlayerRoutes(app, { assets: loadPlayerAssets(), captions, tokens: deps.tokens, access: deps.access, clock: platform.clock });
    },
  };
}

export type Player = ReturnType<typeof createPlayer>;
