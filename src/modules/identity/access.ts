// The one place that answers "may this actor do this". Roles grant
// permissions in a tenant; API tokens narrow them to their scopes; platform
// roles grant nothing inside a tenant (support needs a consent grant).
import { AppError } from '../../platform/errors.ts';
import type { Actor, RequestContext, TenantRole } from './actor.ts';

export const permissions = [
  'videos:read', 'videos:write', 'analytics:read',
  'users:read', 'users:write', 'tenant:read', 'tenant:write',
  'audit:read', 'privacy:read', 'privacy:write', 'tenant:own',
] as const;
export type Permission = (typeof permissions)[number];

/** Scopes an API token may carry (a subset of what its user's role allows). */
export const tokenScopes = ['videos:read', 'videos:write', 'analytics:read', 'audit:read', 'users:read', 'users:write', 'privacy:read'] as const;
export type TokenScope = (typeof tokenScopes)[number];

const viewer: Permission[] = ['videos:read'];
const editor: Permission[] = [...viewer, 'videos:write', 'analytics:read'];
const admin: Permission[] = [...editor, 'users:read', 'users:write', 'tenant:read', 'tenant:write', 'audit:read', 'privacy:read', 'privacy:write'];
const owner: Permission[] = [...admin, 'tenant:own'];

export const rolePermissions: Record<TenantRole, ReadonlySet<Permission>> = {
  viewer: new Set(viewer),
  editor: new Set(editor),
  admin: new Set(admin),
  owner: new Set(owner),
};

const roleRank: Record<TenantRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };
export const roleAtLeast = (role: TenantRole | undefined, min: TenantRole) => role !== undefined && roleRank[role] >= roleRank[min];

export function actorPermissions(actor: Actor): ReadonlySet<Permission> {
  switch (actor.type) {
    case 'user':
      return actor.role ? rolePermissions[actor.role] : new Set();
    case 'api_token':
      return new Set(actor.scopes.filter((s): s is Permission => rolePermissions[actor.role].has(s as Permission)));
    default:
      return new Set();
  }
}

export const can = (ctx: RequestContext, permission: Permission): boolean => Boolean(ctx.tenantId) && actorPermissions(ctx.actor).has(permission);

export class Forbidden extends AppError {
  readonly permission: string;
  constructor(permission: string, message = 'You do not have permission to do that.') {
    super('forbidden', 403, message);
    this.permission = permission;
  }
}

/** Throws Forbidden (the HTTP layer audits it as a denied attempt). */
export function authorize(ctx: RequestContext, permission: Permission): asserts ctx is RequestContext & { tenantId: string } {
  if (ctx.actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
  if (!can(ctx, permission)) throw new Forbidden(permission);
}

export function isPlatformOperator(actor: Actor): boolean {
  return actor.type === 'user' && actor.platformRoles.includes('operator');
}
