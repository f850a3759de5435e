// What the platform operator does from the command line (haven user …,
// haven tenant set): account-wide changes no tenant admin may make. The CLI
// has no session, so these take no RequestContext; each is audited as the
// system actor "operator", in the platform's chain or the tenant's.
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { type PlatformRole, systemContext, type TenantRole } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import { assertDomainAllowed, parseEmail, tenantPolicy } from './invitations.ts';
import { type TenantSettings, tenantSettingsSchema } from './settings.ts';
import { listMembers, revokeSessions, type UserRow, userByEmail } from './store.ts';
import { addMember, normalizeEmail } from './users.ts';

export const platformRoles = ['operator', 'support', 'reseller'] as const satisfies readonly PlatformRole[];

export interface TenantChange { name?: string; securityLevel?: 'standard' | 'high'; settings?: Partial<TenantSettings> }

export interface OperatorDeps {
  platform: Platform;
  audit: AuditPort;
  clearTotp(tx: Tx, userId: string): Promise<void>;
}

export function createOperatorService({ platform, audit, clearTotp }: OperatorDeps) {
  const { db, clock } = platform;
  const operator = (tenantId?: string) => systemContext('operator', tenantId);

  async function account(tx: Tx, email: string): Promise<UserRow> {
    const user = await userByEmail(tx, normalizeEmail(email));
    if (!user) throw new AppError('user_not_found', 404, `No account uses the address ${email}.`);
    return user;
  }

  return {
    /** Every account, with how many organizations it belongs to. */
    listAccounts() {
      return db.withPlatform((tx) =>
        tx.selectFrom('users as u')
          .select(['u.id', 'u.email', 'u.status', 'u.platform_roles', 'u.totp_enabled_at', sql<number>`(select count(*)::int from memberships m where m.user_id = u.id)`.as('tenants')])
          .orderBy('u.created_at').execute());
    },

    listMembers: (tenantId: string) => db.withTenant(tenantId, (tx) => listMembers(tx, tenantId)),

    /** An account with a password, made by the operator (without one, invite instead). */
    async createMember(tenantId: string, input: { email: string; password: string; role: TenantRole; username?: string }): Promise<string> {
      const email = parseEmail(input.email);
      return db.withTenant(tenantId, async (tx) => {
        assertDomainAllowed((await tenantPolicy(tx, tenantId)).domains, normalizeEmail(email));
        if (await userByEmail(tx, normalizeEmail(email))) throw new AppError('account_exists', 409, 'That address already has an account; leave out --password to invite it instead.');
        const { userId } = await addMember(tx, tenantId, { email, password: input.password, role: input.role, username: input.username });
        await audit.record(tx, operator(tenantId), { action: 'user.add', target: { type: 'user', id: userId }, details: { role: input.role, new_account: true, via: 'cli' } });
        return userId;
      });
    },

    /** Disables or re-enables an account in every tenant; disabling ends all its sessions. */
    async setAccountStatus(email: string, status: 'active' | 'disabled'): Promise<{ userId: string; sessionsEnded: number }> {
      return db.withPlatform(async (tx) => {
        const user = await account(tx, email);
        await tx.updateTable('users').set({ status, updated_at: clock.now() }).where('id', '=', user.id).execute();
        const sessionsEnded = status === 'disabled' ? await revokeSessions(tx, { userId: user.id }, 'disabled') : 0;
        await audit.record(tx, operator(), {
          action: status === 'disabled' ? 'user.disable' : 'user.enable', target: { type: 'user', id: user.id },
          diff: { before: { status: user.status }, after: { status } }, details: { sessions_ended: sessionsEnded },
        });
        return { userId: user.id, sessionsEnded };
      });
    },

    /** For a person who lost their authenticator: TOTP and recovery codes go, and so do their sessions. */
    async resetSecondFactor(email: string): Promise<{ userId: string; sessionsEnded: number }> {
      return db.withPlatform(async (tx) => {
        const user = await account(tx, email);
        await clearTotp(tx, user.id);
        const sessionsEnded = await revokeSessions(tx, { userId: user.id }, 'second_factor_reset');
        await audit.record(tx, operator(), { action: 'user.totp.reset', target: { type: 'user', id: user.id }, details: { had_totp: Boolean(user.totp_enabled_at), sessions_ended: sessionsEnded } });
        return { userId: user.id, sessionsEnded };
      });
    },

    /** Platform roles are read on every request, so a change applies at once. */
    async setPlatformRole(email: string, role: PlatformRole, granted: boolean): Promise<PlatformRole[]> {
      return db.withPlatform(async (tx) => {
        const user = await account(tx, email);
        const roles = granted ? [...new Set([...user.platform_roles, role])] : user.platform_roles.filter((r) => r !== role);
        await tx.updateTable('users').set({ platform_roles: roles, updated_at: clock.now() }).where('id', '=', user.id).execute();
        await audit.record(tx, operator(), { action: granted ? 'user.platform_role.grant' : 'user.platform_role.revoke', target: { type: 'user', id: user.id }, details: { role } });
        return roles;
      });
    },

    async listTenants() {
      const rows = await db.withPlatform((tx) => tx.selectFrom('tenants').selectAll().orderBy('created_at').execute());
      return rows.map((t) => ({ id: t.id as string, slug: t.slug as string, name: t.name as string, region: t.region as string, status: t.status as string, securityLevel: t.security_level as string, settings: tenantSettingsSchema.parse(t.settings ?? {}) }));
    },

    /** The same rules as an admin's change (tenant-admin.ts), without a tenant role. */
    async updateTenant(tenantId: string, change: TenantChange) {
      return db.withTenant(tenantId, async (tx) => {
        const before = await tx.selectFrom('tenants').selectAll().where('id', '=', tenantId).forUpdate().executeTakeFirstOrThrow();
        const settings = tenantSettingsSchema.parse({ ...tenantSettingsSchema.parse(before.settings ?? {}), ...change.settings });
        const after = await tx.updateTable('tenants')
          .set({ name: change.name ?? before.name, security_level: change.securityLevel ?? before.security_level, settings: JSON.stringify(settings) })
          .where('id', '=', tenantId).returningAll().executeTakeFirstOrThrow();
        await audit.record(tx, operator(tenantId), {
          action: 'tenant.update', target: { type: 'tenant', id: tenantId },
          diff: { before: { name: before.name, security_level: before.security_level, settings: before.settings }, after: { name: after.name, security_level: after.security_level, settings: after.settings } },
        });
        return { name: after.name as string, securityLevel: after.security_level as string, settings };
      });
    },
  };
}

export type OperatorService = ReturnType<typeof createOperatorService>;
