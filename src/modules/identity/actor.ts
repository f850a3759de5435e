// Who is acting, as every module sees it. Built by the identity module from a
// session, an API token, a support grant, or a job; passed to services.
export type TenantRole = 'owner' | 'admin' | 'editor' | 'viewer';
export type PlatformRole = 'operator' | 'support' | 'reseller';

export type Actor =
  | { type: 'user'; userId: string; tenantId?: string; role?: TenantRole; platformRoles: PlatformRole[]; sessionId?: string }
  | { type: 'api_token'; tokenId: string; userId: string; tenantId: string; role: TenantRole; scopes: string[] }
  | { type: 'support_grant'; grantId: string; userId: string; tenantId: string }
  | { type: 'system'; job: string }
  | { type: 'anonymous' };

/** What a service needs to know about the request it serves (for audit and policy). */
export interface RequestContext {
  actor: Actor;
  /** The tenant the request works in, if any. */
  tenantId?: string;
  /** What that tenant allows its members now, read with the credential (no extra query per request). */
  tenantState?: TenantState;
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

/** Everything; reads only (offboarding: the contract ended); nothing (the tenant is in the trash or purged). */
export type TenantState = 'active' | 'read_only' | 'deleted';

export function tenantStateOf(status: string | null, deleted: boolean): TenantState {
  if (deleted) return 'deleted';
  return status === 'offboarding' || status === 'ended' ? 'read_only' : 'active';
}

export const systemContext = (job: string, tenantId?: string): RequestContext => ({ actor: { type: 'system', job }, tenantId });

export function actorUserId(actor: Actor): string | undefined {
  return actor.type === 'user' || actor.type === 'api_token' || actor.type === 'support_grant' ? actor.userId : undefined;
}
