// TOTP second factor (RFC 6238: 30 s steps, ±1 step, each code usable once)
// and ten single-use recovery codes stored hashed. The TOTP seed is sealed with
// the key of the tenant the person enrolled in.
import { randomBytes } from 'node:crypto';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import type { SecondFactor } from './login.ts';
import { assertRecentReauth } from './reauth.ts';
import { hashSecret } from './secrets.ts';
import { type UserRow, userById } from './store.ts';

const RECOVERY_CODES = 10;
const TOTP_PURPOSE = 'totp-seed';
const SIX_DIGITS = /^\d{6}$/;
const RECOVERY = /^[a-z0-9]{5}-[a-z0-9]{5}$/;

// otplib and its crypto plugins are loaded when someone first enrols or enters
// a code, not at start-up: sign-ins without a second factor never need them.
let loaded: Promise<typeof import('otplib')> | undefined;
const otplib = () => (loaded ??= import('otplib'));

const newRecoveryCode = () => {
  const s = randomBytes(10).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0');
  return `${s.slice(0, 5)}-${s.slice(5, 10)}`;
};

export function createTotpService(platform: Platform, audit: AuditPort) {
  const { db, keyring, clock } = platform;
  const requireRecentReauth = (tx: Tx, sessionId: string) => assertRecentReauth(tx, sessionId, clock);

  async function seedOf(tx: Tx, user: UserRow): Promise<string> {
    const [tenantId, sealed] = splitSealed(user.totp_secret_sealed!);
    return (await keyring.openForTenant(tx, tenantId, sealed, `${TOTP_PURPOSE}:${user.id}`)).toString();
  }

  const self = (ctx: RequestContext) => {
    if (ctx.actor.type !== 'user' || !ctx.actor.sessionId || !ctx.tenantId) throw new AppError('unauthenticated', 401, 'Sign in to an organization to set up two-factor authentication.');
    return { userId: ctx.actor.userId, sessionId: ctx.actor.sessionId, tenantId: ctx.tenantId };
  };

  const secondFactor: SecondFactor = {
    async verify(tx, user, rawCode) {
      const code = rawCode.trim().toLowerCase().replace(/\s/g, '');
      if (SIX_DIGITS.test(code) && user.totp_secret_sealed && user.totp_enabled_at) {
        const { verify: verifyTotp } = await otplib();
        const result = await verifyTotp({
          secret: await seedOf(tx, user),
          token: code,
          epoch: Math.floor(clock.now().getTime() / 1000),
          epochTolerance: 30,
          ...(user.totp_last_step !== null ? { afterTimeStep: user.totp_last_step } : {}),
        }).catch(() => ({ valid: false as const }));
        if (!result.valid || !('timeStep' in result)) return false;
        // Remember the step so the same code cannot be replayed within its window.
        const used = await tx.updateTable('users').set({ totp_last_step: result.timeStep }).where('id', '=', user.id)
          .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', result.timeStep)])).executeTakeFirst();
        return Number(used.numUpdatedRows) === 1;
      }
      if (RECOVERY.test(code)) {
        const res = await tx.updateTable('recovery_codes').set({ used_at: clock.now() }).where('user_id', '=', user.id).where('code_hash', '=', hashSecret(code)).where('used_at', 'is', null).executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      }
      return false;
    },
  };

  return {
    secondFactor,

    /** Starts enrolment: a fresh seed, not yet active until confirmed with a code. */
    async begin(ctx: RequestContext): Promise<{ secret: string; uri: string }> {
      const { userId, sessionId, tenantId } = self(ctx);
      return db.withPlatform(async (tx) => {
        await requireRecentReauth(tx, sessionId);
        const user = (await userById(tx, userId))!;
        if (user.totp_enabled_at) throw new AppError('totp_already_enabled', 409, 'Two-factor authentication is already on; turn it off first to set up a new app.');
        const { generateSecret, generateURI } = await otplib();
        const secret = generateSecret({ length: 20 });
        const sealed = await keyring.sealForTenant(tx, tenantId, Buffer.from(secret), `${TOTP_PURPOSE}:${userId}`);
        await tx.updateTable('users').set({ totp_secret_sealed: `${tenantId}|${sealed}`, totp_last_step: null }).where('id', '=', userId).execute();
        await audit.record(tx, ctx, { action: 'account.totp.begin', target: { type: 'user', id: userId } });
        return { secret, uri: generateURI({ issuer: 'Haven', label: user.username, secret }) };
      });
    },

    /** Confirms enrolment with a first code; returns the recovery codes, shown once. */
    async confirm(ctx: RequestContext, code: string): Promise<{ recoveryCodes: string[] }> {
      const { userId } = self(ctx);
      return db.withPlatform(async (tx) => {
        const user = (await userById(tx, userId))!;
        if (!user.totp_secret_sealed || user.totp_enabled_at) throw new AppError('totp_not_pending', 409, 'Start setting up two-factor authentication first.');
        const { verify: verifyTotp } = await otplib();
        const result = await verifyTotp({ secret: await seedOf(tx, user), token: code.trim(), epoch: Math.floor(clock.now().getTime() / 1000), epochTolerance: 30 }).catch(() => ({ valid: false as const }));
        if (!result.valid || !('timeStep' in result)) throw new AppError('invalid_second_factor', 400, 'That code is wrong; check the time on your device and try the next code.');
        const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
        await tx.updateTable('users').set({ totp_enabled_at: clock.now(), totp_last_step: result.timeStep }).where('id', '=', userId).execute();
        await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        await tx.insertInto('recovery_codes').values(codes.map((c) => ({ user_id: userId, code_hash: hashSecret(c) }))).execute();
        // A new factor is a privilege change: mark this session as second-factor verified.
        await tx.updateTable('sessions').set({ mfa_at: clock.now() }).where('id', '=', ctx.actor.type === 'user' ? ctx.actor.sessionId! : '').execute();
        await audit.record(tx, ctx, { action: 'account.totp.enable', target: { type: 'user', id: userId } });
        return { recoveryCodes: codes };
      });
    },

    async disable(ctx: RequestContext): Promise<void> {
      const { userId, sessionId } = self(ctx);
      await db.withPlatform(async (tx) => {
        await requireRecentReauth(tx, sessionId);
        await clearTotp(tx, userId);
        await audit.record(tx, ctx, { action: 'account.totp.disable', target: { type: 'user', id: userId } });
      });
    },

    async regenerateRecoveryCodes(ctx: RequestContext): Promise<{ recoveryCodes: string[] }> {
      const { userId, sessionId } = self(ctx);
      return db.withPlatform(async (tx) => {
        await requireRecentReauth(tx, sessionId);
        const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
        await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        await tx.insertInto('recovery_codes').values(codes.map((c) => ({ user_id: userId, code_hash: hashSecret(c) }))).execute();
        await audit.record(tx, ctx, { action: 'account.recovery_codes.regenerate', target: { type: 'user', id: userId } });
        return { recoveryCodes: codes };
      });
    },

    /** Operator reset (haven user reset-2fa), audited by the caller. */
    clearTotp,
  };
}

async function clearTotp(tx: Tx, userId: string): Promise<void> {
  await tx.updateTable('users').set({ totp_secret_sealed: null, totp_enabled_at: null, totp_last_step: null }).where('id', '=', userId).execute();
  await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
}

function splitSealed(value: string): [string, string] {
  const i = value.indexOf('|');
  return [value.slice(0, i), value.slice(i + 1)];
}

export type TotpService = ReturnType<typeof createTotpService>;
