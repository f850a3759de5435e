// The seams between the parts of playback: the access policy decides whether
// a viewer may watch a video (access/), the delivery part turns a positive
// decision into a signed playback token and serves playlists, segments and
// the key under it (delivery/), the player page asks for playback and
// reports what the viewer watched (player/), and analytics turns those
// reports into sessions and aggregates (analytics/). Each part depends on
// the others only through these types.
import type { RequestContext } from '../identity/actor.ts';

/** Who is watching, as far as the policy that admitted them says. */
export interface ViewerIdentity {
  /** member: a signed-in user of the video's tenant; audience: a viewer signed in through the tenant's SSO for viewers; anonymous: neither. */
  kind: 'member' | 'audience' | 'anonymous';
  /** user id (member), audience account id (audience), or a random id for this playback (anonymous). */
  id: string;
  /** The Haven session or audience session the viewer came with; tokens are bound to it. */
  sessionId?: string;
}

/** What a viewer brings to the policy: who they are, where they come from, what they unlocked. */
export interface ViewerRequest {
  ctx: RequestContext;
  /** The request's cookies (password unlocks and audience sessions are cookies). */
  cookies: Record<string, string | undefined>;
  /** The unlisted link's secret, when the viewer came through one. */
  linkSecret?: string;
  /** Referer header of the page asking (for referrer and embed-domain rules). */
  referer?: string;
  now: Date;
}

/** Why a viewer may not watch yet, and what would let them. */
export type AccessNeed = 'signin' | 'password' | 'sso' | 'link';

export type AccessDecision =
  | { allowed: true; basis: GrantBasis }
  | { allowed: false; status: 401 | 403 | 404 | 409; code: string; message: string; needs?: AccessNeed; details?: Record<string, unknown> };

/** What a playback token is issued on: enough to check later that it still holds. */
export interface GrantBasis {
  tenantId: string;
  videoId: string;
  region: string;
  /** Increases with every change of the video's policy; a token of an older version opens no key. */
  policyVersion: number;
  /** The unlisted link the viewer came through, if any (revoking it ends the grant). */
  linkId?: string;
  viewer: ViewerIdentity;
  /** Whether the policy asks that tokens only work from the IP they were issued to. */
  bindIp: boolean;
  /**
   * The policy's members rule admitted the viewer (a member): each key fetch
   * checks they still meet it — an active member, in the rule's roles and
   * groups — so removing them from the group ends the grant.
   */
  membersRule?: boolean;
}

export interface PlaybackAccess {
  /** Evaluates the video's policy for this viewer; denials are audited with their reason. */
  decide(videoId: string, viewer: ViewerRequest): Promise<AccessDecision>;
  /** Whether a grant still holds now: same policy version, link not revoked or expired, inside the time window. */
  stillValid(basis: GrantBasis, now: Date): Promise<boolean>;
  /** Origins allowed to frame /embed/{id} ("'none'" when the policy allows no embedding, '*' when any). */
  frameAncestors(videoId: string): Promise<string[]>;
}

/** A verified playback token: its grant, the view it belongs to, where it was issued, when it ends. */
export interface PlaybackGrant extends GrantBasis {
  /** Random id of this playback (one per GET /playback); analytics keys the view session by it. */
  playbackId: string;
  /** The client IP the token was issued to, present only when bindIp. */
  ip?: string;
  expiresAt: Date;
}

export interface PlaybackTokenVerifier {
  /** The grant a token carries, or undefined when forged, expired or malformed (no database access). */
  verify(token: string, now: Date): PlaybackGrant | undefined;
}
