// The invitee's side of an invitation: look at it, and accept it. The token in
// the link proves the mailbox, so a new account starts with a verified email.
// An existing account must also prove it is its owner (its session, or its
// password and second factor), because the mailbox alone must not open an
// account that has credentials. Acceptance is single use, checked in the same
// statement that marks it.
import type { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import type { Tx } from '../../platform/db/database.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext, TenantRole } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import { type InvitationRow, assertDomainAllowed, statusOf, tenantPolicy } from './invitations.ts';
import { invalidCredentials, type LoginResult, openSession, type SecondFactor } from './login.ts';
import { assertAcceptablePassword } from './passwords.ts';
import { hashSecret } from './secrets.ts';
import type { SessionService } from './sessions.ts';
import { membershipsOf, type UserRow, userByEmail, userById } from './store.ts';
import type { LoginThrottle } from './throttle.ts';
import { addMember, displayNameSchema, languages, usernameSchema } from './users.ts';

export interface AcceptInput { token: string; password?: string; totp?: string; username?: string; displayName?: string; language?: (typeof languages)[number] }

/** The session the request came with, if any: accepting while signed in needs no password. */
export interface CurrentSession { id: string; userId: string; mfaAt: Date | null }

export interface InvitationPreview {
  tenant: { name: string; slug: string };
  /** Masked: the link may travel further than its mailbox. */
  email: string;
  role: TenantRole;
  expiresAt: Date;
  /** Whether accepting means signing in (true) or choosing a password (false). */
  accountExists: boolean;
}

export interface AcceptDeps {
  platform: Platform;
  audit: AuditPort;
  sessions: SessionService;
  throttle: LoginThrottle;
  secondFactor: SecondFactor;
}

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

const REFUSED = {
  accepted: () => new AppError('invitation_used', 410, 'This invitation was already accepted; sign in instead.'),
  revoked: () => new AppError('invitation_revoked', 410, 'This invitation was withdrawn; ask the organization for a new one.'),
  expired: () => new AppError('invitation_expired', 410, 'This invitation has expired; ask the organization to send it again.'),
};
function valid<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('invalid_request', 400, `Invalid body.${field}: ${parsed.error.issues[0]?.message ?? 'not valid'}`);
  return parsed.data;
}

const accountAppeared = () => new AppError('sign_in_required', 409, 'An account with this address was set up meanwhile: sign in to it, then accept again.');
const unknownToken = () => new AppError('invitation_not_found', 404, 'This invitation link is not valid; check that it was copied completely.');

export function createInvitationAcceptance(deps: AcceptDeps) {
  const { platform, audit, sessions, throttle, secondFactor } = deps;
  const { db, clock } = platform;

  /** The invitation behind a token, usable now (a platform-scope read: the tenant is not known yet). */
  async function usable(token: string): Promise<InvitationRow> {
    if (!token.startsWith('inv_') || token.length > 100) throw unknownToken();
    const row = (await db.withPlatform((tx) => tx.selectFrom('invitations').selectAll().where('token_hash', '=', hashSecret(token)).executeTakeFirst())) as InvitationRow | undefined;
    if (!row) throw unknownToken();
    const status = statusOf(row, clock.now());
    if (status !== 'pending') throw REFUSED[status]();
    return row;
  }

  /** An account someone can already sign in to; one without any credential is claimed by setting a password. */
  const hasCredentials = async (tx: Tx, user: UserRow) =>
    Boolean(user.password_hash) || Boolean(await tx.selectFrom('webauthn_credentials').select('id').where('user_id', '=', user.id).executeTakeFirst());

  const failed = (ctx: RequestContext, inv: InvitationRow, reason: string) =>
    db.withTenant(inv.tenant_id, (tx) => audit.record(tx, { ...ctx, tenantId: inv.tenant_id }, { action: 'invitation.accept', outcome: 'failed', target: { type: 'invitation', id: inv.id }, details: { reason } }));

  /** Proves the caller owns the existing account; returns whether a second factor was part of the proof. */
  async function proveOwner(ctx: RequestContext, inv: InvitationRow, user: UserRow, input: AcceptInput, session?: CurrentSession): Promise<boolean> {
    if (session?.userId === user.id) return Boolean(session.mfaAt);
    if (!input.password) throw new AppError('sign_in_required', 401, 'This address already has an account: sign in to it first, or give its password.');
    const ip = ctx.ip ?? 'unknown';
    const gate = await throttle.attempt(ip, inv.email_normalized);
    if (gate.blocked) throw new AppError('too_many_attempts', 429, 'Too many sign-in attempts; try again later.', { retryAfterSeconds: gate.retryAfterSeconds });
    const locked = user.locked_until && user.locked_until > clock.now();
    if (!user.password_hash || !(await verifyPassword(user.password_hash, input.password)) || locked) {
      await failed(ctx, inv, 'wrong_password');
      throw invalidCredentials();
    }
    if (user.totp_enabled_at) {
      if (!input.totp) throw new AppError('second_factor_required', 401, 'Enter the code from your authenticator app.', { methods: ['totp'] });
      if (!(await db.withPlatform((tx) => secondFactor.verify(tx, user, input.totp!)))) {
        await failed(ctx, inv, 'wrong_second_factor');
        throw new AppError('invalid_second_factor', 401, 'That code is wrong or was already used.');
      }
      await throttle.succeeded(ip, inv.email_normalized);
      return true;
    }
    const passkey = await db.withPlatform((tx) => tx.selectFrom('webauthn_credentials').select('id').where('user_id', '=', user.id).executeTakeFirst());
    if (passkey) throw new AppError('sign_in_required', 401, 'Sign in with your passkey first, then open the invitation link again.');
    await throttle.succeeded(ip, inv.email_normalized);
    return false;
  }

  /** Marks the invitation used, or says why it no longer can be. */
  async function consume(tx: Tx, inv: InvitationRow): Promise<void> {
    const now = clock.now();
    const res = await tx.updateTable('invitations').set({ accepted_at: now }).where('id', '=', inv.id)
      .where('accepted_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) return;
    const again = (await tx.selectFrom('invitations').selectAll().where('id', '=', inv.id).executeTakeFirstOrThrow()) as InvitationRow;
    const status = statusOf(again, now);
    throw status === 'pending' ? unknownToken() : REFUSED[status]();
  }

  /** Creates the account, claims a credential-less one, or adds an existing one; returns its id. */
  async function join(tx: Tx, inv: InvitationRow, input: AcceptInput, existing: UserRow | undefined, claim: boolean): Promise<{ userId: string; newAccount: boolean; alreadyMember: boolean }> {
    const now = clock.now();
    if (!existing) {
      if (!input.password) throw new AppError('password_required', 400, 'Choose a password for your new account.');
      // addMember would reuse an account made since the check above; that account must prove its owner first.
      if (await userByEmail(tx, inv.email_normalized)) throw accountAppeared();
      const username = input.username === undefined ? undefined : valid(usernameSchema, input.username, 'username');
      const displayName = input.displayName === undefined ? undefined : valid(displayNameSchema, input.displayName, 'displayName');
      const { userId } = await addMember(tx, inv.tenant_id, { email: inv.email, username, displayName, password: input.password, role: inv.role, emailVerified: true });
      await tx.updateTable('users').set({ preferred_language: input.language ?? inv.language }).where('id', '=', userId).execute();
      return { userId, newAccount: true, alreadyMember: false };
    }
    if (claim) {
      if (!input.password) throw new AppError('password_required', 400, 'Choose a password for your account.');
      const current = await tx.selectFrom('users').select('password_hash').where('id', '=', existing.id).forUpdate().executeTakeFirstOrThrow();
      if (current.password_hash) throw accountAppeared();
      await assertAcceptablePassword(input.password, [existing.username, inv.email_normalized.split('@')[0]!]);
      await tx.updateTable('users').set({ password_hash: await hashPassword(input.password), password_changed_at: now, updated_at: now }).where('id', '=', existing.id).execute();
    }
    // Following the link proves the mailbox, as a verification link would.
    await tx.updateTable('users').set({ email_verified_at: now }).where('id', '=', existing.id).where('email_verified_at', 'is', null).execute();
    const member = await tx.selectFrom('memberships').select('status').where('tenant_id', '=', inv.tenant_id).where('user_id', '=', existing.id).executeTakeFirst();
    if (member?.status === 'disabled') throw new AppError('membership_disabled', 403, 'Your access to this organization was disabled by its admins.');
    // An existing member keeps their role: role changes go through the people rules.
    if (!member) await tx.insertInto('memberships').values({ tenant_id: inv.tenant_id, user_id: existing.id, role: inv.role }).execute();
    return { userId: existing.id, newAccount: false, alreadyMember: Boolean(member) };
  }

  return {
    async lookup(token: string): Promise<InvitationPreview> {
      const inv = await usable(token);
      return db.withPlatform(async (tx) => {
        const tenant = await tenantPolicy(tx, inv.tenant_id);
        const user = await userByEmail(tx, inv.email_normalized);
        return { tenant: { name: tenant.name, slug: tenant.slug }, email: maskEmail(inv.email), role: inv.role, expiresAt: inv.expires_at, accountExists: Boolean(user && (await hasCredentials(tx, user))) };
      });
    },

    /** Accepts and signs the person in to the organization; a session the request came with is replaced. */
    async accept(ctx: RequestContext, input: AcceptInput, session?: CurrentSession): Promise<LoginResult> {
      const inv = await usable(input.token);
      const existing = await db.withPlatform((tx) => userByEmail(tx, inv.email_normalized));
      if (existing && existing.status !== 'active') throw new AppError('account_disabled', 403, 'This account is disabled; contact the platform operator.');
      const claim = Boolean(existing) && !(await db.withPlatform((tx) => hasCredentials(tx, existing!)));
      const mfa = existing && !claim ? await proveOwner(ctx, inv, existing, input, session) : false;

      const joined = await db.withTenant(inv.tenant_id, async (tx) => {
        const tenant = await tenantPolicy(tx, inv.tenant_id);
        if (!tenant.active) throw REFUSED.revoked();
        assertDomainAllowed(tenant.domains, inv.email_normalized);
        await consume(tx, inv);
        const result = await join(tx, inv, input, existing, claim);
        const actor = { type: 'user' as const, userId: result.userId, tenantId: inv.tenant_id, platformRoles: existing?.platform_roles ?? [] };
        await audit.record(tx, { ...ctx, tenantId: inv.tenant_id, actor }, {
          action: 'invitation.accept', target: { type: 'invitation', id: inv.id },
          details: { role: inv.role, new_account: result.newAccount, already_member: result.alreadyMember, claimed_account: claim },
        });
        return result;
      });

      const user = (await db.withPlatform((tx) => userById(tx, joined.userId)))!;
      const membership = (await db.withPlatform((tx) => membershipsOf(tx, user.id))).find((m) => m.tenant_id === inv.tenant_id);
      const result = await openSession({ platform, sessions, audit }, user, membership, ctx, { mfa, details: { method: 'invitation', second_factor: mfa } });
      if (session) await db.withPlatform((tx) => sessions.revoke(tx, session.userId, session.id, 'replaced'));
      return result;
    },
  };
}

export type InvitationAcceptance = ReturnType<typeof createInvitationAcceptance>;
