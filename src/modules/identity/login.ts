// Signing in with email and password (and a second factor when the account
// has one). Unknown emails and wrong passwords take the same path and answer
// the same way; throttling is checked before any hash is computed. Passkey
// sign-ins (passkeys.ts) open their sessions through openSession below too.
import { AppError } from '../../platform/errors.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import type { Tx } from '../../platform/db/database.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import { effectiveSettings } from './settings.ts';
import type { SessionService } from './sessions.ts';
import { membershipsOf, type UserRow, userByEmail } from './store.ts';
import type { LoginThrottle } from './throttle.ts';
import { normalizeEmail } from './users.ts';

export interface LoginInput { email: string; password: string; totp?: string; tenant?: string }

export interface SecondFactor {
  /** Checks a TOTP or recovery code for the user; records its use. */
  verify(tx: Parameters<AuditPort['record']>[0], user: UserRow, code: string): Promise<boolean>;
}

export interface LoginResult { token: string; sessionId: string; userId: string; tenantId: string | null; expiresAt: Date }

export const invalidCredentials = () => new AppError('invalid_credentials', 401, 'The email or password is wrong.');
export const noMembership = () => new AppError('no_membership', 403, 'Your account is not a member of any organization.');
const throttled = (seconds: number) => new AppError('too_many_attempts', 429, `Too many sign-in attempts; try again in ${Math.max(1, Math.ceil(seconds / 60))} minutes.`, { retryAfterSeconds: seconds });

export interface LoginDeps {
  platform: Platform;
  sessions: SessionService;
  throttle: LoginThrottle;
  audit: AuditPort;
  secondFactor: SecondFactor;
  /** Passkeys as a second factor; absent, only TOTP is offered. */
  passkeys?: PasskeySecondFactor;
  onAccountLocked(user: UserRow, until: Date): Promise<void>;
}

export interface PasskeySecondFactor {
  /**
   * When the person has a passkey, opens a pending login (single use, five
   * minutes) and returns the options for navigator.credentials.get().
   */
  beginSecondFactor(userId: string): Promise<object | undefined>;
}

/** A hash of a random password, verified against when the email is unknown so both paths cost the same. */
let decoyHash: Promise<string> | undefined;
const decoy = () => (decoyHash ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`));

export function createLogin(deps: LoginDeps) {
  const { platform, sessions, throttle, audit, secondFactor } = deps;
  const { db, clock } = platform;

  async function auditAttempt(ctx: RequestContext, outcome: 'success' | 'failed' | 'denied', action: string, userId?: string, details: Record<string, string> = {}) {
    await db.withPlatform((tx) => audit.record(tx, { ...ctx, actor: userId ? { type: 'user', userId, platformRoles: [] } : ctx.actor }, { action, outcome, target: userId ? { type: 'user', id: userId } : undefined, details }));
  }

  return async function login(input: LoginInput, ctx: RequestContext): Promise<LoginResult> {
    const ip = ctx.ip ?? 'unknown';
    const email = normalizeEmail(input.email);
    const gate = await throttle.attempt(ip, email);
    if (gate.blocked) {
      await auditAttempt(ctx, 'denied', 'auth.login.throttled');
      throw throttled(gate.retryAfterSeconds);
    }

    const user = await db.withPlatform((tx) => userByEmail(tx, email));
    const passwordOk = user?.password_hash ? await verifyPassword(user.password_hash, input.password) : (await verifyPassword(await decoy(), input.password), false);
    const locked = user?.locked_until && user.locked_until > clock.now();
    if (!user || !passwordOk || locked || user.status !== 'active') {
      if (gate.lastForAccount && user) {
        const until = new Date(clock.now().getTime() + 3600_000);
        await db.withPlatform((tx) => tx.updateTable('users').set({ locked_until: until }).where('id', '=', user.id).execute());
        await deps.onAccountLocked(user, until).catch(() => undefined);
      }
      await auditAttempt(ctx, 'failed', 'auth.login.failed', user?.id, { reason: !user ? 'unknown_account' : locked ? 'locked' : user.status !== 'active' ? 'disabled' : 'wrong_password' });
      throw invalidCredentials();
    }

    const { chosen, refused } = await db.withPlatform((tx) => chooseTenant(tx, user, input.tenant));
    if (refused) {
      await auditAttempt(ctx, 'denied', 'auth.login.failed', user.id, { reason: refused });
      throw refused === 'not_a_member' ? invalidCredentials() : noMembership();
    }

    let mfa = false;
    const totpCode = user.totp_enabled_at ? input.totp : undefined;
    if (!totpCode) {
      // Every second factor the account has is offered; a passkey finishes this
      // sign-in at POST /api/v1/auth/passkey/verify with the options returned here.
      const passkeyOptions = await deps.passkeys?.beginSecondFactor(user.id);
      const methods = [...(user.totp_enabled_at ? ['totp'] : []), ...(passkeyOptions ? ['passkey'] : [])];
      if (methods.length > 0) {
        // The password was right: only a wrong code counts as a failure.
        await throttle.succeeded(ip, email);
        await auditAttempt(ctx, 'denied', 'auth.login.second_factor_required', user.id, { methods: methods.join('/') });
        const ask = methods.length > 1 ? 'Confirm with your passkey or enter the code from your authenticator app.' : passkeyOptions ? 'Confirm with your passkey.' : 'Enter the code from your authenticator app.';
        throw new AppError('second_factor_required', 401, ask, { methods, ...(passkeyOptions ? { passkeyOptions } : {}) });
      }
    } else {
      const ok = await db.withPlatform((tx) => secondFactor.verify(tx, user, totpCode));
      if (!ok) {
        await auditAttempt(ctx, 'failed', 'auth.login.second_factor_failed', user.id);
        throw new AppError('invalid_second_factor', 401, 'That code is wrong or was already used.');
      }
      mfa = true;
    }

    await throttle.succeeded(ip, email);
    return openSession(deps, user, chosen, ctx, { mfa, details: { method: 'password', second_factor: mfa } });
  };
}

type Membership = Awaited<ReturnType<typeof membershipsOf>>[number];

/**
 * The tenant a sign-in opens: the one asked for (slug or id), else the
 * person's first. Every way of signing in (password, passkey) decides alike.
 */
export async function chooseTenant(tx: Tx, user: UserRow, tenant?: string): Promise<{ chosen?: Membership; refused?: 'not_a_member' | 'no_membership' }> {
  const memberships = await membershipsOf(tx, user.id);
  const chosen = tenant ? memberships.find((m) => m.slug === tenant || m.tenant_id === tenant) : memberships[0];
  if (tenant && !chosen) return { refused: 'not_a_member' };
  if (!chosen && user.platform_roles.length === 0) return { refused: 'no_membership' };
  return { chosen };
}

/** Opens the session of a person who has fully proven who they are, with the tenant's lifetimes, and audits the sign-in. */
export async function openSession(
  deps: Pick<LoginDeps, 'platform' | 'sessions' | 'audit'>,
  user: UserRow,
  chosen: Membership | undefined,
  ctx: RequestContext,
  how: { mfa: boolean; details: Record<string, string | boolean> },
): Promise<LoginResult> {
  const { platform: { db, clock }, sessions, audit } = deps;
  return db.withPlatform(async (tx) => {
    const settings = effectiveSettings(chosen?.settings, chosen?.security_level);
    const session = await sessions.create(tx, {
      userId: user.id,
      tenantId: chosen?.tenant_id ?? null,
      idleMinutes: settings.sessionIdleMinutes,
      absoluteHours: settings.sessionAbsoluteHours,
      mfa: how.mfa,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    // Only a lock that has run out is cleared: a passkey may sign in to an account
    // locked against password guessing, and must not end that lock early.
    if (user.locked_until && user.locked_until <= clock.now()) await tx.updateTable('users').set({ locked_until: null }).where('id', '=', user.id).execute();
    await audit.record(tx, { ...ctx, tenantId: chosen?.tenant_id, actor: { type: 'user', userId: user.id, platformRoles: user.platform_roles, sessionId: session.id } }, {
      action: 'auth.login.succeeded',
      target: { type: 'session', id: session.id },
      details: how.details,
    });
    return { token: session.token, sessionId: session.id, userId: user.id, tenantId: chosen?.tenant_id ?? null, expiresAt: session.expiresAt };
  });
}
