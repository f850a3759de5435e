// The access decision as the rest of playback sees it (contracts.ts): find the
// video wherever it lives, gather what the viewer brings, let the pure policy
// function decide, audit refusals. stillValid is the check behind every key
// fetch: from the node's grant cache while it listens for changes, else one
// round trip (grant-cache.ts).
import { randomUUID } from 'node:crypto';
import { AppError } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { Actor, TenantRole } from '../../identity/actor.ts';
import { roleAtLeast } from '../../identity/access.ts';
import { hashSecret } from '../../identity/secrets.ts';
import type { AccessDecision, GrantBasis, PlaybackAccess, ViewerIdentity, ViewerRequest } from '../contracts.ts';
import { factsKey, type GrantCache, grantHolds } from './grant-cache.ts';
import type { GroupDirectory } from './groups-port.ts';
import { AUDIENCE_COOKIE, type CookieSigner, unlockCookieName } from './cookies.ts';
import { evaluatePolicy, type PolicyFacts, storedPolicy } from './policy.ts';
import * as store from './store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const audienceStartUrl = (videoId: string, providerId: string) => `/api/v1/videos/${videoId}/audience/sso/${providerId}`;

export { storedPolicy };

/** The actor's role in this tenant, when they act as one of its members and may read videos. */
export function memberRole(actor: Actor, tenantId: string): { userId: string; role: TenantRole; sessionId?: string } | undefined {
  if (actor.type === 'user' && actor.tenantId === tenantId && actor.role) return { userId: actor.userId, role: actor.role, sessionId: actor.sessionId };
  if (actor.type === 'api_token' && actor.tenantId === tenantId && actor.scopes.includes('videos:read')) return { userId: actor.userId, role: actor.role };
  return undefined;
}

export interface AccessDeps {
  platform: Platform;
  audit: AuditService;
  cookies: CookieSigner;
  /** Identity's groups: which groups a member is in (members rules that name groups). */
  groups: GroupDirectory;
  /** The node's cache of grant facts; without one every check asks the database. */
  grants?: GrantCache;
}

export function createPlaybackAccess(deps: AccessDeps): PlaybackAccess {
  const { platform: { db, log }, audit, cookies, groups, grants } = deps;

  async function denied(videoId: string, tenantId: string, viewer: ViewerRequest, decision: Extract<AccessDecision, { allowed: false }>): Promise<AccessDecision> {
    await audit.recordNow({ ...viewer.ctx, tenantId }, {
      action: 'playback.denied', outcome: 'denied', tenantId,
      target: { type: 'video', id: videoId },
      details: { code: decision.code, ...(decision.needs ? { needs: decision.needs } : {}) },
    }).catch((err) => log.error({ err, tenantId }, 'could not audit a playback denial'));
    return decision;
  }

  return {
    async decide(videoId, viewer) {
      // A video in the trash is hidden by row-level security (migration 0016); a video of a tenant in the trash is refused here.
      const video = UUID.test(videoId)
        ? await db.withPlatform(async (tx) => {
          const found = await store.videoWithPolicy(tx, videoId);
          const tenant = found && await tx.selectFrom('tenants').select('deleted_at').where('id', '=', found.tenant_id).executeTakeFirst();
          return tenant && !tenant.deleted_at ? found : undefined;
        })
        : undefined;
      if (!video) return { allowed: false, status: 404, code: 'video_not_found', message: 'No video with that id exists.' };
      const tenantId = video.tenant_id;
      const policy = storedPolicy(video.policy);
      const { actor } = viewer.ctx;
      const member = memberRole(actor, tenantId);
      const audienceSession = cookies.audienceSession(viewer.cookies[AUDIENCE_COOKIE], viewer.now);
      const wantsSso = policy.audiences.some((a) => a.type === 'sso');

      const facts: PolicyFacts = {
        published: video.published_state === 'published',
        member: member ? { role: member.role } : undefined,
        signedInElsewhere: !member && actor.type !== 'anonymous',
        passwordUnlocked: video.password_version !== null
          && cookies.unlockValid(viewer.cookies[unlockCookieName(videoId)], videoId, video.password_version, viewer.now),
        ip: viewer.ctx.ip,
        referer: viewer.referer,
      };
      let linkId: string | undefined;
      let audienceAccountId: string | undefined;
      // A member's groups are read only when a members rule names groups and the member is no staff (staff are admitted anyway).
      const wantsGroups = Boolean(member && !roleAtLeast(member.role, 'editor')
        && policy.audiences.some((a) => a.type === 'members' && a.groups));
      if (viewer.linkSecret || (wantsSso && !member) || wantsGroups) {
        await db.withTenant(tenantId, async (tx) => {
          if (viewer.linkSecret) {
            const link = viewer.linkSecret.length <= 200 ? await store.linkBySecret(tx, videoId, hashSecret(viewer.linkSecret)) : undefined;
            facts.link = !link ? 'unknown' : link.revoked_at ? 'revoked' : link.expires_at && link.expires_at <= viewer.now ? 'expired' : 'valid';
            if (facts.link === 'valid') linkId = link!.id;
          }
          if (wantsGroups) facts.member = { role: member!.role, groupIds: await groups.memberGroupIds(tx, tenantId, member!.userId) };
          if (wantsSso && !member) {
            if (audienceSession?.tenantId === tenantId) {
              const account = await store.audienceAccount(tx, tenantId, audienceSession.accountId);
              if (account) {
                facts.audience = { providerId: account.provider_id, email: account.email };
                audienceAccountId = account.id;
              }
            }
            facts.ssoProviders = (await store.enabledProviders(tx, tenantId)).map((p) => ({ ...p, startUrl: audienceStartUrl(videoId, p.id) }));
            // A provider switched off no longer vouches for anyone.
            if (facts.audience && !facts.ssoProviders.some((p) => p.id === facts.audience!.providerId)) facts.audience = undefined;
          }
        });
      }

      const result = evaluatePolicy(policy, facts, viewer.now);
      if (!result.allowed) {
        const { allowed: _, ...denial } = result;
        return denied(videoId, tenantId, viewer, { allowed: false, ...denial });
      }
      if (!video.playable) return { allowed: false, status: 409, code: 'video_not_ready', message: 'This video is still being processed; try again in a moment.' };

      let identity: ViewerIdentity;
      if (member) identity = { kind: 'member', id: member.userId, sessionId: member.sessionId };
      else if (result.via === 'sso' && audienceAccountId) identity = { kind: 'audience', id: audienceAccountId, sessionId: audienceSession!.sessionId };
      else identity = { kind: 'anonymous', id: randomUUID() };
      const basis: GrantBasis = {
        tenantId, videoId, region: video.region,
        policyVersion: video.version ?? 0,
        linkId: result.via === 'link' ? linkId : undefined,
        viewer: identity,
        bindIp: result.bindIp,
        ...(result.via === 'members' ? { membersRule: true } : {}),
      };
      return { allowed: true, basis };
    },

    async stillValid(basis, now) {
      const key = factsKey(basis);
      if (grants && await grants.synced()) {
        const cached = grants.lookup(key);
        if (cached.hit) return grantHolds(cached.facts, basis, now.getTime());
      }
      const generation = grants?.generation();
      const memberId = basis.viewer.kind === 'member' ? basis.viewer.id : undefined;
      const facts = await store.grantFacts(db.appPool, { tenantId: basis.tenantId, videoId: basis.videoId, linkId: basis.linkId, memberId });
      if (grants && generation !== undefined) grants.store(key, basis, facts, generation);
      return grantHolds(facts, basis, now.getTime());
    },

    async frameAncestors(videoId) {
      if (!UUID.test(videoId)) return ["'none'"];
      const video = await db.withPlatform((tx) => store.videoWithPolicy(tx, videoId));
      if (!video) return ["'none'"];
      const policy = storedPolicy(video.policy);
      // Scheme-less host sources: the site on any port, over Haven's own scheme (or https when Haven is on http).
      if (policy.conditions.referrers) return policy.conditions.referrers.map((r) => `${r}:*`);
      return policy.audiences.some((a) => a.type === 'public' || a.type === 'link') ? ['*'] : ["'self'"];
    },
  };
}

export const notFoundVideo = () => new AppError('video_not_found', 404, 'No video with that id exists.');
