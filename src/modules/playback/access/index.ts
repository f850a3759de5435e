// Who may watch a video: per-video audience policies, unlisted links,
// password unlocks and (audience-sso.ts) viewers signed in through the
// tenant's single sign-on. The rest of playback uses only the PlaybackAccess
// of contracts.ts; the routes here are for editors and viewers.
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { PlaybackAccess } from '../contracts.ts';
import { createAudienceSso } from './audience-sso.ts';
import { listenForPlaybackChanges } from './change-listener.ts';
import { createCookieSigner } from './cookies.ts';
import { createPlaybackAccess as createDecisions } from './decide.ts';
import { createGrantCache } from './grant-cache.ts';
import { createAccessManagement } from './management.ts';
import type { GroupDirectory } from './groups-port.ts';

export { evaluatePolicy, type Policy, type PolicyFacts, policySchema } from './policy.ts';

export interface PlaybackAccessDeps {
  platform: Platform;
  audit: AuditService;
  /** Identity's groups (members rules that name groups). */
  groups: GroupDirectory;
}

/** The decision side alone (what delivery and the player call). */
export function createPlaybackAccess(deps: PlaybackAccessDeps): PlaybackAccess {
  return createDecisions({ ...deps, cookies: createCookieSigner(deps.platform.signingKey) });
}

/** Grant facts kept per node (grant-cache.ts): bounded, and aged out as a last resort. */
export const GRANT_CACHE_ENTRIES = 20_000;
export const GRANT_CACHE_TTL_MS = 30_000;

/**
 * The decisions and the management and viewer routes, as the playback module
 * wires them. A node that serves HTTP listens for playback changes and keeps
 * grant facts in memory while it does.
 */
export function createAccessPart(deps: PlaybackAccessDeps) {
  const cookies = createCookieSigner(deps.platform.signingKey);
  const grants = createGrantCache({ maxEntries: GRANT_CACHE_ENTRIES, ttlMs: GRANT_CACHE_TTL_MS });
  const listener = listenForPlaybackChanges(deps.platform.db.appUrl, grants, deps.platform.log);
  const access = createDecisions({ ...deps, cookies, grants });
  const management = createAccessManagement({ ...deps, cookies });
  const audienceSso = createAudienceSso({ ...deps, cookies });
  return {
    access,
    management,
    audienceSso,
    grants,
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerAccessRoutes } = await import('./routes.ts');
      app.addHook('onClose', async () => {
        await listener.stop();
      });
      void listener.start();
      registerAccessRoutes(app, management);
      audienceSso.registerRoutes(app);
    },
  };
}
