// What a signed-in person does with their own account: profile, password,
// email, sessions, API tokens. Changing password, email or second factor
// needs a recent re-authentication (ASVS 6.2.3, 7.5.1).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import { rolePermissions, type TokenScope } from './access.ts';
import type { AuditPort } from './audit-port.ts';
import type { SecondFactor } from './login.ts';
import { assertAcceptablePassword } from './passwords.ts';
import { assertRecentReauth } from './reauth.ts';
import { hashSecret, newSecret } from './secrets.ts';
import type { SessionService } from './sessions.ts';
import { type UserRow, userByEmail, userById } from './store.ts';
import { displayNameSchema, emailSchema, normalizeEmail } from './users.ts';

export const RESET_TOKEN_TTL_MS = 10 * 60_000;

export interface AccountDeps {
  platform: Platform;
  sessions: SessionService;
  audit: AuditPort;
  secondFactor: SecondFactor;
  /** Sends the reset link; called only for existing, active accounts. */
  sendPasswordReset(user: UserRow, token: string): Promise<void>;
  /** Sends a confirmation link to a just-changed address; resolves false (never rejects) when not sent. */
  sendEmailVerification(userId: string): Promise<boolean>;
}

export function createAccountService(deps: AccountDeps) {
  const { platform, sessions, audit, secondFactor } = deps;
  const { db, clock } = platform;

  function self(ctx: RequestContext) {
    if (ctx.actor.type !== 'user' || !ctx.actor.sessionId) throw new AppError('unauthenticated', 401, 'Sign in to manage your account.');
    return { userId: ctx.actor.userId, sessionId: ctx.actor.sessionId };
  }


  const inPlatform = <T>(fn: (tx: Tx) => Promise<T>) => db.withPlatform(fn);

  return {
    async profile(ctx: RequestContext) {
      const { userId } = self(ctx);
      const u = await inPlatform((tx) => userById(tx, userId));
      if (!u) throw notFound('user');
      return { id: u.id, username: u.username, email: u.email, emailVerified: Boolean(u.email_verified_at), displayName: u.display_name, language: u.preferred_language, twoFactor: Boolean(u.totp_enabled_at), createdAt: u.created_at };
    },

    async updateProfile(ctx: RequestContext, change: { displayName?: string; language?: 'en' | 'sv' | 'fi' | 'de' }) {
      const { userId } = self(ctx);
      await inPlatform(async (tx) => {
        const before = (await userById(tx, userId))!;
        const displayName = change.displayName === undefined ? before.display_name : displayNameSchema.parse(change.displayName);
        const language = change.language ?? before.preferred_language;
        await tx.updateTable('users').set({ display_name: displayName, preferred_language: language, updated_at: clock.now() }).where('id', '=', userId).execute();
        await audit.record(tx, ctx, { action: 'account.update', target: { type: 'user', id: userId }, diff: { before: { display_name: before.display_name, preferred_language: before.preferred_language }, after: { display_name: displayName, preferred_language: language } }, personal: ['display_name'] });
      });
      return this.profile(ctx);
    },

    async reauthenticate(ctx: RequestContext, password: string, code?: string) {
      const { userId, sessionId } = self(ctx);
      const user = (await inPlatform((tx) => userById(tx, userId)))!;
      const ok = Boolean(user.password_hash) && (await verifyPassword(user.password_hash!, password));
      const second = !user.totp_enabled_at || (code !== undefined && (await inPlatform((tx) => secondFactor.verify(tx, user, code))));
      await inPlatform(async (tx) => {
        if (ok && second) await sessions.markReauthenticated(tx, sessionId);
        await audit.record(tx, ctx, { action: 'auth.reauthenticate', outcome: ok && second ? 'success' : 'failed', target: { type: 'user', id: userId } });
      });
      if (!ok) throw new AppError('invalid_credentials', 401, 'The password is wrong.');
      if (!second) throw new AppError(code ? 'invalid_second_factor' : 'second_factor_required', 401, 'Enter the code from your authenticator app.');
    },

    async changePassword(ctx: RequestContext, currentPassword: string, newPassword: string) {
      const { userId, sessionId } = self(ctx);
      const user = (await inPlatform((tx) => userById(tx, userId)))!;
      if (!user.password_hash || !(await verifyPassword(user.password_hash, currentPassword))) {
        await inPlatform((tx) => audit.record(tx, ctx, { action: 'account.password.change', outcome: 'failed', target: { type: 'user', id: userId } }));
        throw new AppError('invalid_credentials', 401, 'The current password is wrong.');
      }
      await assertAcceptablePassword(newPassword, [user.username, normalizeEmail(user.email).split('@')[0]!]);
      const hash = await hashPassword(newPassword);
      await inPlatform(async (tx) => {
        await tx.updateTable('users').set({ password_hash: hash, password_changed_at: clock.now(), updated_at: clock.now() }).where('id', '=', userId).execute();
        // Other sessions might be an attacker's: a new password ends them.
        const ended = await sessions.revokeAll(tx, userId, 'password_change', sessionId);
        await audit.record(tx, ctx, { action: 'account.password.change', target: { type: 'user', id: userId }, details: { other_sessions_ended: ended } });
      });
    },

    async changeEmail(ctx: RequestContext, email: string) {
      const { userId, sessionId } = self(ctx);
      const parsed = emailSchema.parse(email);
      await inPlatform(async (tx) => {
        await assertRecentReauth(tx, sessionId, clock);
        const clash = await userByEmail(tx, normalizeEmail(parsed));
        if (clash && clash.id !== userId) throw new AppError('email_taken', 409, 'Another account uses that email address.');
        await tx.updateTable('users').set({ email: parsed, email_normalized: normalizeEmail(parsed), email_verified_at: null, updated_at: clock.now() }).where('id', '=', userId).execute();
        await audit.record(tx, ctx, { action: 'account.email.change', target: { type: 'user', id: userId } });
      });
      // Not awaited, like the reset mail: the answer does not wait for the mail server.
      void deps.sendEmailVerification(userId);
    },

    async requestPasswordReset(ctx: RequestContext, email: string): Promise<void> {
      const parsed = emailSchema.safeParse(email);
      const user = parsed.success ? await inPlatform((tx) => userByEmail(tx, normalizeEmail(parsed.data))) : undefined;
      await inPlatform((tx) => audit.record(tx, ctx, { action: 'auth.password_reset.request', target: user ? { type: 'user', id: user.id } : undefined, details: { known: Boolean(user) } }));
      if (!user || user.status !== 'active') return;
      const token = newSecret('rst_');
      await inPlatform((tx) => tx.insertInto('password_resets').values({ token_hash: hashSecret(token), user_id: user.id, expires_at: new Date(clock.now().getTime() + RESET_TOKEN_TTL_MS) }).execute());
      // Not awaited: the answer must not take longer for a known address than for an unknown one.
      void deps.sendPasswordReset(user, token).catch((err) => platform.log.error({ err }, 'password reset mail failed'));
    },

    /** Single use, 10 minutes, and a second factor still required when the account has one. */
    async confirmPasswordReset(ctx: RequestContext, token: string, newPassword: string, code?: string): Promise<void> {
      const invalid = () => new AppError('invalid_reset_token', 400, 'This reset link is invalid, expired or already used; ask for a new one.');
      if (token.length > 100) throw invalid();
      const row = await inPlatform((tx) => tx.selectFrom('password_resets').selectAll().where('token_hash', '=', hashSecret(token)).executeTakeFirst());
      if (!row || row.used_at || row.expires_at <= clock.now()) throw invalid();
      const user = (await inPlatform((tx) => userById(tx, row.user_id)))!;
      if (user.totp_enabled_at) {
        if (!code) throw new AppError('second_factor_required', 401, 'Enter the code from your authenticator app to reset your password.');
        if (!(await inPlatform((tx) => secondFactor.verify(tx, user, code)))) throw new AppError('invalid_second_factor', 401, 'That code is wrong or was already used.');
      }
      await assertAcceptablePassword(newPassword, [user.username, normalizeEmail(user.email).split('@')[0]!]);
      const hash = await hashPassword(newPassword);
      await inPlatform(async (tx) => {
        const used = await tx.updateTable('password_resets').set({ used_at: clock.now() }).where('token_hash', '=', row.token_hash).where('used_at', 'is', null).executeTakeFirst();
        if (Number(used.numUpdatedRows) !== 1) throw invalid();
        await tx.updateTable('users').set({ password_hash: hash, password_changed_at: clock.now(), locked_until: null, updated_at: clock.now() }).where('id', '=', user.id).execute();
        await sessions.revokeAll(tx, user.id, 'password_reset');
        await audit.record(tx, { ...ctx, actor: { type: 'user', userId: user.id, platformRoles: [] } }, { action: 'auth.password_reset.complete', target: { type: 'user', id: user.id } });
      });
    },

    async listSessions(ctx: RequestContext) {
      const { userId, sessionId } = self(ctx);
      const list = await inPlatform((tx) => sessions.list(tx, userId));
      return list.map((s) => ({ ...s, current: s.id === sessionId }));
    },

    async revokeSession(ctx: RequestContext, id: string) {
      const { userId } = self(ctx);
      await inPlatform(async (tx) => {
        if (!(await sessions.revoke(tx, userId, id, 'user'))) throw notFound('session');
        await audit.record(tx, ctx, { action: 'account.session.revoke', target: { type: 'session', id } });
      });
    },

    async listTokens(ctx: RequestContext) {
      const { userId } = self(ctx);
      if (!ctx.tenantId) return [];
      return db.withTenant(ctx.tenantId, (tx) =>
        tx.selectFrom('api_tokens').select(['id', 'name', 'scopes', 'created_at', 'expires_at', 'last_used_at', 'revoked_at']).where('user_id', '=', userId).orderBy('created_at', 'desc').execute(),
      );
    },

    /** The token itself is returned once and never stored. */
    async createToken(ctx: RequestContext, input: { name: string; scopes: TokenScope[]; expiresInDays: number }) {
      const { userId } = self(ctx);
      const role = ctx.actor.type === 'user' ? ctx.actor.role : undefined;
      if (!ctx.tenantId || !role) throw new AppError('tenant_required', 400, 'API tokens belong to an organization; sign in to one first.');
      const tenantId = ctx.tenantId;
      const beyond = input.scopes.filter((s) => !rolePermissions[role].has(s));
      if (beyond.length) throw new AppError('scope_not_allowed', 403, `Your role cannot grant: ${beyond.join(', ')}.`);
      const token = newSecret('hvn_');
      const id = randomUUID();
      const expiresAt = new Date(clock.now().getTime() + input.expiresInDays * 86400_000);
      await db.withTenant(tenantId, async (tx) => {
        await tx.insertInto('api_tokens').values({ id, tenant_id: tenantId, user_id: userId, name: input.name, token_hash: hashSecret(token), scopes: input.scopes, expires_at: expiresAt }).execute();
        await audit.record(tx, ctx, { action: 'api_token.create', target: { type: 'api_token', id }, details: { scopes: input.scopes, expires_in_days: input.expiresInDays } });
      });
      return { id, name: input.name, scopes: input.scopes, expiresAt, token };
    },

    async revokeToken(ctx: RequestContext, id: string) {
      const { userId } = self(ctx);
      if (!ctx.tenantId || !z.uuid().safeParse(id).success) throw notFound('api_token');
      await db.withTenant(ctx.tenantId, async (tx) => {
        const res = await tx.updateTable('api_tokens').set({ revoked_at: clock.now() }).where('id', '=', id).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw notFound('api_token');
        await audit.record(tx, ctx, { action: 'api_token.revoke', target: { type: 'api_token', id } });
      });
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
