// Just-in-time provisioning: who a validated ID token stands for in Haven.
// An existing link (provider, subject) decides first; otherwise the email
// address, but only when the IdP vouches for it and only for an account the
// tenant's IdP may speak for; otherwise a new account and membership.
import type { Tx } from '../../../platform/db/database.ts';
import type { RequestContext, TenantRole } from '../actor.ts';
import { roleAtLeast } from '../access.ts';
import type { AuditPort } from '../audit-port.ts';
import type { TenantSettings } from '../settings.ts';
import { type UserRow, userById, userByEmail } from '../store.ts';
import { addMember, displayNameSchema, emailSchema, normalizeEmail } from '../users.ts';
import { type Claims, domainAllowed, emailVerified } from './presets.ts';
import { accountDisabled, domainNotAllowed, emailInvalid, emailMissing, emailNotVerified, SsoRefusal } from './refusals.ts';
import { identityBySubject, linkIdentity, type SsoProviderRow, type SsoRole } from './store.ts';

export interface SignInSubject {
  user: UserRow;
  role: TenantRole;
  /** How the person was recognized. */
  via: 'linked_identity' | 'verified_email' | 'new_account';
  membershipCreated: boolean;
}

/** The role a new member gets: the highest one the mapping grants for the claim's values, else the default. */
export function mappedRole(provider: Pick<SsoProviderRow, 'role_mapping' | 'default_role'>, claims: Claims): SsoRole {
  const mapping = provider.role_mapping;
  if (!mapping) return provider.default_role;
  const raw = claims[mapping.claim];
  let best: SsoRole | undefined;
  for (const value of Array.isArray(raw) ? raw : [raw]) {
    if (typeof value !== 'string' || !Object.hasOwn(mapping.values, value)) continue;
    const role = mapping.values[value]!;
    if (!best || roleAtLeast(role, best)) best = role;
  }
  return best ?? provider.default_role;
}

const notLinkable = (reason: 'platform_staff' | 'member_elsewhere' | 'owner_account') =>
  new SsoRefusal('sso_account_not_linkable', 409,
    'An account with this email address exists that this organization\'s identity provider cannot sign in to; sign in with its password instead.', reason);

export interface ProvisioningContext {
  audit: AuditPort;
  ctx: RequestContext;
  /** Every membership of a person, in all tenants (a platform-scope read; the transaction sees one tenant). */
  membershipsOf(userId: string): Promise<{ tenant_id: string; role: TenantRole }[]>;
}

/** Runs in the tenant's transaction; throws a refusal when the person may not sign in this way. */
export async function provision(tx: Tx, pc: ProvisioningContext, provider: SsoProviderRow, settings: TenantSettings, claims: Claims): Promise<SignInSubject> {
  const { audit, ctx } = pc;
  const tenantId = provider.tenant_id;
  const subject = String(claims.sub);
  if (typeof claims.email !== 'string' || !claims.email) throw emailMissing();
  const parsed = emailSchema.safeParse(claims.email);
  if (!parsed.success) throw emailInvalid();
  const email = normalizeEmail(parsed.data);
  if (!domainAllowed(provider.preset, email, claims, provider.allowed_domains) || !domainAllowed(provider.preset, email, claims, settings.allowedEmailDomains)) {
    throw domainNotAllowed();
  }

  const role = mappedRole(provider, claims);
  const linked = await identityBySubject(tx, provider.id, subject);
  let user: UserRow | undefined;
  let via: SignInSubject['via'];
  let membershipCreated = false;

  if (linked) {
    user = await userById(tx, linked.user_id);
    via = 'linked_identity';
  } else {
    // An address the IdP does not vouch for could be anyone's: neither link it nor claim it for a new account.
    if (!emailVerified(provider.preset, claims)) throw emailNotVerified();
    user = await userByEmail(tx, email);
    if (user) {
      assertLinkable(tenantId, user, await pc.membershipsOf(user.id));
      via = 'verified_email';
    } else {
      const name = displayNameSchema.safeParse(typeof claims.name === 'string' ? claims.name : '');
      const added = await addMember(tx, tenantId, { email: parsed.data, displayName: name.success ? name.data : '', role, emailVerified: true });
      user = (await userById(tx, added.userId))!;
      membershipCreated = true;
      via = 'new_account';
    }
    await linkIdentity(tx, { providerId: provider.id, subject, userId: user.id, tenantId });
    await audit.record(tx, ctx, { action: 'auth.sso.identity_linked', target: { type: 'user', id: user.id }, details: { provider: provider.id, via } });
  }

  if (!user || user.status !== 'active') throw accountDisabled('account_disabled');
  // Platform staff sign in with their own credentials; a tenant's IdP must never hand out platform roles.
  if (user.platform_roles.length > 0) throw notLinkable('platform_staff');

  const membership = await tx.selectFrom('memberships').select(['role', 'status']).where('tenant_id', '=', tenantId).where('user_id', '=', user.id).executeTakeFirst();
  if (membership?.status === 'disabled') throw accountDisabled('membership_disabled');
  let memberRole: TenantRole = membership?.role ?? role;
  if (!membership) {
    // A linked person the admins removed comes back through their IdP, as JIT provisioning does.
    await tx.insertInto('memberships').values({ tenant_id: tenantId, user_id: user.id, role }).execute();
    membershipCreated = true;
    memberRole = role;
  }
  if (membershipCreated) {
    await audit.record(tx, ctx, { action: 'user.add', target: { type: 'user', id: user.id }, details: { role: memberRole, new_account: via === 'new_account', via: 'sso' } });
  }
  return { user, role: memberRole, via, membershipCreated };
}

/**
 * Linking by email hands the account's sign-in to this tenant's IdP (whose
 * admins can assert any address). That is only acceptable for an account
 * that lives in this tenant alone and is not an owner: otherwise a tenant
 * admin could take over people of other organizations, platform staff, or
 * their own tenant's owners.
 */
function assertLinkable(tenantId: string, user: UserRow, memberships: { tenant_id: string; role: TenantRole }[]): void {
  if (user.platform_roles.length > 0) throw notLinkable('platform_staff');
  if (memberships.some((m) => m.tenant_id !== tenantId)) throw notLinkable('member_elsewhere');
  if (memberships.some((m) => m.role === 'owner')) throw notLinkable('owner_account');
}
