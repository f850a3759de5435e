// Proof that a person's email address reaches them: a single-use link, valid
// 24 hours, bound to the address it was sent to (after an email change an old
// link verifies nothing). The mail is sent after the answer, never awaited in
// the request.
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { countInWindow } from '../../platform/http/rate-limit-store.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import type { EmailVars } from './emails.ts';
import { hashSecret, newSecret } from './secrets.ts';
import { type UserRow, userById } from './store.ts';
import { normalizeEmail } from './users.ts';

export const VERIFY_TOKEN_TTL_MS = 24 * 3600_000;
/** Links a person may ask for per hour; an email change sends one without counting. */
export const VERIFY_REQUESTS_PER_HOUR = 5;

export interface EmailVerificationDeps {
  platform: Platform;
  audit: AuditPort;
  publicUrl: string;
  sendVerification(to: string, language: string, vars: EmailVars['verify_email']): Promise<void>;
}

const invalidLink = () => new AppError('invalid_verification_token', 400, 'This confirmation link is invalid, expired or already used; ask for a new one from your account page.');

export function createEmailVerification(deps: EmailVerificationDeps) {
  const { platform, audit, publicUrl } = deps;
  const { db, clock, log } = platform;

  function self(ctx: RequestContext): string {
    if (ctx.actor.type !== 'user' || !ctx.actor.sessionId) throw new AppError('unauthenticated', 401, 'Sign in to confirm your email address.');
    return ctx.actor.userId;
  }

  /** Stores a token for the user's current address; the mail goes out afterwards. */
  async function issue(tx: Tx, user: UserRow): Promise<() => Promise<boolean>> {
    const token = newSecret('vfy_');
    await tx.insertInto('email_verifications').values({
      token_hash: hashSecret(token), user_id: user.id, email_normalized: normalizeEmail(user.email), expires_at: new Date(clock.now().getTime() + VERIFY_TOKEN_TTL_MS),
    }).execute();
    return () => deps.sendVerification(user.email, user.preferred_language, { verifyUrl: `${publicUrl}/verify-email#token=${token}` }).then(
      () => true,
      (err) => {
        log.error({ err }, 'email verification mail not sent');
        return false;
      },
    );
  }

  return {
    /** Sends a link to the signed-in person's current address. */
    async request(ctx: RequestContext): Promise<void> {
      const userId = self(ctx);
      const send = await db.withPlatform(async (tx) => {
        const user = (await userById(tx, userId))!;
        if (user.email_verified_at) throw new AppError('email_already_verified', 409, 'Your email address is already confirmed.');
        const { current, ttlMs } = await countInWindow(db.appPool, `verify-email:${platform.pseudonymize(userId)}`, 3600_000);
        if (current > VERIFY_REQUESTS_PER_HOUR) {
          const seconds = Math.ceil(ttlMs / 1000);
          throw new AppError('too_many_requests', 429, `You asked for several links already; try again in ${Math.max(1, Math.ceil(seconds / 60))} minutes.`, { retryAfterSeconds: seconds });
        }
        const send = await issue(tx, user);
        await audit.record(tx, ctx, { action: 'account.email.verify_request', target: { type: 'user', id: userId } });
        return send;
      });
      void send();
    },

    /** After an email change (audited by the caller): a link to the new address. Never rejects. */
    async sendAfterChange(userId: string): Promise<boolean> {
      try {
        const send = await db.withPlatform(async (tx) => issue(tx, (await userById(tx, userId))!));
        return await send();
      } catch (err) {
        log.error({ err }, 'email verification after a change not issued');
        return false;
      }
    },

    /** The link works without a session: opening it from the mail client is enough. */
    async confirm(ctx: RequestContext, token: string): Promise<void> {
      if (!token.startsWith('vfy_') || token.length > 100) throw invalidLink();
      await db.withPlatform(async (tx) => {
        const now = clock.now();
        const row = await tx.updateTable('email_verifications').set({ used_at: now }).where('token_hash', '=', hashSecret(token))
          .where('used_at', 'is', null).where('expires_at', '>', now).returning(['user_id', 'email_normalized']).executeTakeFirst();
        const user = row && (await userById(tx, row.user_id));
        if (!user || normalizeEmail(user.email) !== row.email_normalized) throw invalidLink();
        await tx.updateTable('users').set({ email_verified_at: now, updated_at: now }).where('id', '=', user.id).execute();
        await audit.record(tx, { ...ctx, actor: ctx.actor.type === 'user' ? ctx.actor : { type: 'user', userId: user.id, platformRoles: user.platform_roles } }, {
          action: 'account.email.verify', target: { type: 'user', id: user.id },
        });
      });
    },
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;
