// Tenant admins manage the people of their organization: add, change role,
// disable, end sessions. Every change is audited in its transaction; a role
// change ends the person's sessions so new rights take effect at once.
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { actorUserId, type RequestContext, type TenantRole } from './actor.ts';
import { hideTrash, seeTrash, trashColumns, trashWindow } from '../privacy/trash/mark.ts';
import { authorize, roleAtLeast } from './access.ts';
import type { AccessService } from './access-service.ts';
import type { AuditPort } from './audit-port.ts';
import { effectiveSettings } from './settings.ts';
import { endTenantSessions, listMembers, memberById } from './store.ts';
import { addMember, emailSchema, normalizeEmail } from './users.ts';

export interface MemberView {
  id: string;
  username: string;
  email: string;
  displayName: string;
  role: TenantRole;
  status: string;
  language: string;
  emailVerified: boolean;
  twoFactor: boolean;
  memberSince: Date;
}

type MemberRow = NonNullable<Awaited<ReturnType<typeof memberById>>>;
const view = (r: MemberRow): MemberView => ({
  id: r.id, username: r.username, email: r.email, displayName: r.display_name, role: r.role, status: r.status,
  language: r.preferred_language, emailVerified: Boolean(r.email_verified_at), twoFactor: Boolean(r.totp_enabled_at), memberSince: r.created_at,
});

export function createPeopleService(platform: Platform, audit: AuditPort, access: AccessService) {
  const { db } = platform;

  /** Only an owner may create, promote to, demote or disable an owner. */
  function assertMayAssign(ctx: RequestContext, role: TenantRole, currentRole?: TenantRole) {
    const actorRole = ctx.actor.type === 'user' || ctx.actor.type === 'api_token' ? ctx.actor.role : undefined;
    if ((role === 'owner' || currentRole === 'owner') && actorRole !== 'owner') {
      throw new AppError('forbidden', 403, 'Only an owner can change who is an owner.');
    }
  }

  return {
    async list(ctx: RequestContext): Promise<MemberView[]> {
      authorize(ctx, 'users:read');
      const rows = await db.withTenant(ctx.tenantId, (tx) => listMembers(tx, ctx.tenantId));
      return rows.map(view);
    },

    async get(ctx: RequestContext, userId: string): Promise<MemberView> {
      await access.assertAll(ctx, 'users:read', 'user', [userId]);
      authorize(ctx, 'users:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const row = await memberById(tx, ctx.tenantId, userId);
        if (!row) throw notFound('user');
        // Staff reading a person's record is an access to personal data: audited.
        await audit.record(tx, ctx, { action: 'user.read', target: { type: 'user', id: userId } });
        return view(row);
      });
    },

    async add(ctx: RequestContext, input: { email: string; username?: string; displayName?: string; role: TenantRole }): Promise<MemberView> {
      authorize(ctx, 'users:write');
      assertMayAssign(ctx, input.role);
      return db.withTenant(ctx.tenantId, async (tx) => {
        const tenant = await tx.selectFrom('tenants').select(['settings', 'security_level']).where('id', '=', ctx.tenantId).executeTakeFirstOrThrow();
        const domains = effectiveSettings(tenant.settings, tenant.security_level).allowedEmailDomains;
        const email = emailSchema.parse(input.email);
        if (domains.length && !domains.includes(normalizeEmail(email).split('@')[1]!)) {
          throw new AppError('email_domain_not_allowed', 400, `This organization only accepts addresses at ${domains.join(', ')}.`);
        }
        const { userId, created } = await addMember(tx, ctx.tenantId, { email, username: input.username, displayName: input.displayName, role: input.role });
        await audit.record(tx, ctx, { action: 'user.add', target: { type: 'user', id: userId }, details: { role: input.role, new_account: created } });
        return view((await memberById(tx, ctx.tenantId, userId))!);
      });
    },

    async update(ctx: RequestContext, userId: string, change: { role?: TenantRole; status?: 'active' | 'disabled' }): Promise<MemberView> {
      await access.assertAll(ctx, 'users:write', 'user', [userId]);
      authorize(ctx, 'users:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await memberById(tx, ctx.tenantId, userId);
        if (!before) throw notFound('user');
        if (change.role && change.role !== before.role) {
          assertMayAssign(ctx, change.role, before.role);
          if (before.role === 'owner') await assertAnotherOwner(tx, ctx.tenantId, userId);
          await tx.updateTable('memberships').set({ role: change.role }).where('tenant_id', '=', ctx.tenantId).where('user_id', '=', userId).execute();
          await endTenantSessions(tx, ctx.tenantId, userId, 'privilege_change');
        }
        if (change.status && change.status !== before.status) {
          if (!roleAtLeast(actorRole(ctx), 'admin')) throw new AppError('forbidden', 403, 'Only admins can disable people.');
          assertMayAssign(ctx, before.role, before.role);
          if (before.role === 'owner' && change.status === 'disabled') await assertAnotherOwner(tx, ctx.tenantId, userId);
          // A tenant disables the person's membership, not their account in other tenants.
          await tx.updateTable('memberships').set({ status: change.status }).where('tenant_id', '=', ctx.tenantId).where('user_id', '=', userId).execute();
          if (change.status === 'disabled') {
            await endTenantSessions(tx, ctx.tenantId, userId, 'disabled');
          }
        }
        const after = (await memberById(tx, ctx.tenantId, userId))!;
        await audit.record(tx, ctx, {
          action: 'user.update',
          target: { type: 'user', id: userId },
          diff: { before: { role: before.role, status: before.status }, after: { role: after.role, status: after.status } },
        });
        return view(after);
      });
    },

    async remove(ctx: RequestContext, userId: string): Promise<void> {
      await access.assertAll(ctx, 'users:write', 'user', [userId]);
      authorize(ctx, 'users:write');
      await db.withTenant(ctx.tenantId, async (tx) => {
        const before = await memberById(tx, ctx.tenantId, userId);
        if (!before) throw notFound('user');
        assertMayAssign(ctx, before.role, before.role);
        if (before.role === 'owner') await assertAnotherOwner(tx, ctx.tenantId, userId);
        // To the trash: the membership is hidden at once (people lists, sign-in, API tokens) and restorable until purgeAfter.
        const window = await trashWindow(tx, ctx.tenantId, platform.clock.now());
        await seeTrash(tx);
        await tx.updateTable('memberships').set(trashColumns(window, actorUserId(ctx.actor))).where('tenant_id', '=', ctx.tenantId).where('user_id', '=', userId).execute();
        await hideTrash(tx);
        const sessionsEnded = await endTenantSessions(tx, ctx.tenantId, userId, 'removed');
        await audit.record(tx, ctx, {
          action: 'user.trash', target: { type: 'user', id: userId },
          details: { role: before.role, sessionsEnded, purgeAfter: window.purgeAfter.toISOString() },
        });
      });
    },

    async endSessions(ctx: RequestContext, userId: string): Promise<number> {
      await access.assertAll(ctx, 'users:write', 'user', [userId]);
      authorize(ctx, 'users:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        if (!(await memberById(tx, ctx.tenantId, userId))) throw notFound('user');
        const n = await endTenantSessions(tx, ctx.tenantId, userId, 'admin');
        await audit.record(tx, ctx, { action: 'user.sessions.revoke', target: { type: 'user', id: userId }, details: { sessions: n } });
        return n;
      });
    },
  };
}

const actorRole = (ctx: RequestContext) => (ctx.actor.type === 'user' || ctx.actor.type === 'api_token' ? ctx.actor.role : undefined);

async function assertAnotherOwner(tx: Parameters<Parameters<Platform['db']['withTenant']>[1]>[0], tenantId: string, leavingUserId: string) {
  const others = await tx.selectFrom('memberships').select('user_id').where('tenant_id', '=', tenantId).where('role', '=', 'owner').where('user_id', '<>', leavingUserId).execute();
  if (others.length === 0) throw new AppError('last_owner', 409, 'An organization needs at least one owner; make someone else owner first.');
}

export type PeopleService = ReturnType<typeof createPeopleService>;
