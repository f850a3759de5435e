// Passkeys (WebAuthn). A signed-in person registers one after re-authenticating;
// it then serves as the second factor after a password, or alone for a
// passwordless sign-in. Every challenge is single use and lives five minutes,
// and a signature counter that fails to grow (a cloned authenticator) is refused.
import { randomUUID } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';

// Loaded on first use: the library costs ~9 MB that installations without passkeys never need.
const webauthn = () => import('@simplewebauthn/server');
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import type { AuditEventInput, AuditPort } from './audit-port.ts';
import { chooseTenant, type LoginResult, noMembership, openSession, type PasskeySecondFactor } from './login.ts';
import { assertRecentReauth } from './reauth.ts';
import type { SessionService } from './sessions.ts';
import { userById } from './store.ts';

export const CHALLENGE_TTL_MS = 5 * 60_000;
/**
 * EdDSA, ES256 and RS256 (COSE ids), which every authenticator offers. The
 * library's default would add ML-DSA-44 where the runtime has it, and probing
 * for it makes Node print an experimental-feature warning.
 */
const SUPPORTED_ALGORITHMS = [-8, -7, -257];

export interface RelyingParty {
  /** The domain passkeys are bound to (the RP ID). */
  id: string;
  name: string;
  /** The one origin a browser may answer from. */
  origin: string;
}

/**
 * The relying party Haven's public URL stands for. Browsers refuse an IP
 * address as RP ID, so passkeys need Haven reached by a name (localhost works).
 */
export function relyingPartyFor(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: 'Haven', origin: url.origin };
}

export interface PasskeyView {
  id: string;
  name: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  transports: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface CredentialRow {
  id: string;
  user_id: string;
  public_key: Buffer;
  counter: number;
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

type Purpose = 'register' | 'second_factor' | 'login';

/** Why a sign-in was refused: the error for the client, and what the audit trail records. */
interface Refusal { reason: string; error: AppError; action?: string; details?: Record<string, number> }

const view = (c: CredentialRow): PasskeyView => ({
  id: c.id, name: c.name, deviceType: c.device_type, backedUp: c.backed_up, transports: c.transports, createdAt: c.created_at, lastUsedAt: c.last_used_at,
});

/** The WebAuthn user handle: the user's id as 16 bytes, which identifies the account without naming it. */
const userHandleOf = (userId: string) => Buffer.from(userId.replaceAll('-', ''), 'hex');

const clientDataSchema = z.object({ challenge: z.string().min(16).max(200) });
/** The challenge the browser says it answered; the verifier then checks it against the stored one. */
function answeredChallenge(clientDataJSON: string): string | undefined {
  try {
    return clientDataSchema.parse(JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'))).challenge;
  } catch {
    return undefined;
  }
}

const challengeRefused = (status: number) => new AppError('passkey_challenge_invalid', status, 'This passkey prompt has expired or was already answered; start again.');
const notVerified = (status: number) => new AppError('passkey_not_verified', status, 'The passkey could not be verified.');
const unknownPasskey = () => new AppError('passkey_unknown', 401, 'This passkey is not registered for your account.');
const counterRegressed = () => new AppError('passkey_counter_regressed', 401, 'This passkey\'s signature counter went backwards, a sign of a copied authenticator; the sign-in is refused. Use another method and review your passkeys.');
const accountDisabled = () => new AppError('account_disabled', 403, 'This account is disabled; contact your administrator.');
const notAMember = () => new AppError('not_a_member', 403, 'Your account is not a member of that organization.');
/**
 * Why the verifier refused, as a code for the audit trail (which masks free
 * text): a phishing page shows up as origin_mismatch or rp_id_mismatch.
 */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reasons: [RegExp, string][] = [
    [/origin/i, 'origin_mismatch'],
    [/RP ID/i, 'rp_id_mismatch'],
    [/challenge/i, 'challenge_mismatch'],
    [/user verification/i, 'user_not_verified'],
    [/user (was )?not present|user presence/i, 'user_not_present'],
    [/signature/i, 'bad_signature'],
    [/type/i, 'wrong_type'],
    [/alg/i, 'unsupported_algorithm'],
    [/credential id/i, 'credential_id_mismatch'],
  ];
  return reasons.find(([pattern]) => pattern.test(message))?.[1] ?? 'malformed_response';
}

export interface PasskeyDeps {
  platform: Platform;
  sessions: SessionService;
  audit: AuditPort;
  relyingParty: RelyingParty;
}

export function createPasskeyService(deps: PasskeyDeps) {
  const { platform, audit, relyingParty: rp } = deps;
  const { db, clock } = platform;

  function self(ctx: RequestContext) {
    if (ctx.actor.type !== 'user' || !ctx.actor.sessionId) throw new AppError('unauthenticated', 401, 'Sign in to manage your passkeys.');
    return { userId: ctx.actor.userId, sessionId: ctx.actor.sessionId };
  }

  /** Records a step in its own transaction, as the person when known (a failed sign-in has no session yet). */
  async function auditStep(ctx: RequestContext, event: AuditEventInput, userId?: string) {
    const as = userId && ctx.actor.type === 'anonymous' ? { ...ctx, actor: { type: 'user' as const, userId, platformRoles: [] } } : ctx;
    await db.withPlatform((tx) => audit.record(tx, as, event));
  }

  async function storeChallenge(tx: Tx, challenge: string, purpose: Purpose, userId: string | null) {
    const now = clock.now();
    // Expired challenges are useless; sweeping them where new ones are made keeps the table small without a job.
    await tx.deleteFrom('webauthn_challenges').where('expires_at', '<', now).execute();
    await tx.insertInto('webauthn_challenges').values({ id: randomUUID(), user_id: userId, challenge, purpose, created_at: now, expires_at: new Date(now.getTime() + CHALLENGE_TTL_MS) }).execute();
  }

  /**
   * Uses up the challenge a browser answered, before its answer is verified
   * and in a transaction of its own: a wrong answer burns it too, so each
   * challenge gets exactly one try.
   */
  async function consumeChallenge(clientDataJSON: string, purpose: Purpose, userId?: string): Promise<{ user_id: string | null; challenge: string } | undefined> {
    const challenge = answeredChallenge(clientDataJSON);
    if (!challenge) return undefined;
    const now = clock.now();
    return db.withPlatform((tx) =>
      tx.updateTable('webauthn_challenges')
        .set({ used_at: now })
        .where('challenge', '=', challenge)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .$if(userId !== undefined, (q) => q.where('user_id', '=', userId!))
        .returning(['user_id', 'challenge'])
        .executeTakeFirst(),
    );
  }

  const credentialsOf = (tx: Tx, userId: string) =>
    tx.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).orderBy('created_at').execute() as Promise<CredentialRow[]>;

  /**
   * Checks an assertion against a stored credential and moves its counter on.
   * The counter is judged only after the signature proved genuine, so nobody
   * without the key can raise a clone alarm; the conditional update settles
   * two concurrent answers carrying the same counter.
   */
  async function acceptAssertion(stored: CredentialRow, response: AuthenticationResponseJSON, expectedChallenge: string, requireUserVerification: boolean): Promise<Refusal | undefined> {
    let info;
    try {
      const result = await (await webauthn()).verifyAuthenticationResponse({
        response, expectedChallenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification,
        // Counter 0 turns the library's own check off; ours below runs after the signature.
        credential: { id: stored.id, publicKey: new Uint8Array(stored.public_key), counter: 0, transports: stored.transports },
      });
      if (!result.verified) throw new Error('the signature does not match the stored public key');
      info = result.authenticationInfo;
    } catch (err) {
      return { reason: reasonOf(err), error: notVerified(401) };
    }
    const counter = info.newCounter;
    // Authenticators that keep no counter always send 0 (synced passkeys); only a counter in use can go backwards.
    const regressed: Refusal = { reason: 'counter_not_increased', error: counterRegressed(), action: 'auth.passkey.counter_regressed', details: { counter, stored_counter: stored.counter } };
    if ((counter > 0 || stored.counter > 0) && counter <= stored.counter) return regressed;
    const moved = await db.withPlatform((tx) =>
      tx.updateTable('webauthn_credentials')
        .set({ counter, last_used_at: clock.now(), backed_up: info.credentialBackedUp })
        .where('id', '=', stored.id)
        .where((eb) => (counter === 0 ? eb('counter', '=', 0) : eb('counter', '<', counter)))
        .executeTakeFirst(),
    );
    return Number(moved.numUpdatedRows) === 1 ? undefined : regressed;
  }

  /** Passwordless sign-in and the passkey step of a password sign-in share everything but their rules on who may answer. */
  async function signIn(ctx: RequestContext, purpose: 'login' | 'second_factor', credential: AuthenticationResponseJSON, tenant?: string): Promise<LoginResult> {
    const action = purpose === 'login' ? 'auth.passkey.login' : 'auth.passkey.second_factor';
    const refuse = async ({ reason, error, action: own, details }: Refusal, userId?: string, passkeyId?: string) => {
      const target = passkeyId ? { type: 'passkey', id: passkeyId } : userId ? { type: 'user', id: userId } : undefined;
      await auditStep(ctx, { action: own ?? `${action}.failed`, outcome: error.status === 403 ? 'denied' : 'failed', target, details: { reason, ...details } }, userId);
      return error;
    };

    const pending = await consumeChallenge(credential.response.clientDataJSON, purpose);
    if (!pending) throw await refuse({ reason: 'challenge_expired_or_used', error: challengeRefused(401) });
    const pendingUser = pending.user_id ?? undefined;
    const stored = await db.withPlatform((tx) => tx.selectFrom('webauthn_credentials').selectAll().where('id', '=', credential.id).executeTakeFirst() as Promise<CredentialRow | undefined>);
    // A pending login accepts only passkeys of the person whose password was right.
    if (!stored || (pendingUser && stored.user_id !== pendingUser)) throw await refuse({ reason: 'unknown_credential', error: unknownPasskey() }, pendingUser);
    const handle = credential.response.userHandle;
    if (handle && !userHandleOf(stored.user_id).equals(Buffer.from(handle, 'base64url'))) throw await refuse({ reason: 'user_handle_mismatch', error: notVerified(401) }, stored.user_id, stored.id);

    // Alone, the passkey must have verified the person (PIN, biometrics); after a password, presence is enough.
    const refused = await acceptAssertion(stored, credential, pending.challenge, purpose === 'login');
    if (refused) throw await refuse(refused, stored.user_id, stored.id);

    // A passkey may sign in to an account locked against password guessing: it is no guess. A disabled account stays out.
    const user = await db.withPlatform((tx) => userById(tx, stored.user_id));
    if (!user || user.status !== 'active') throw await refuse({ reason: 'disabled', error: accountDisabled() }, stored.user_id);
    const { chosen, refused: notAllowed } = await db.withPlatform((tx) => chooseTenant(tx, user, tenant));
    if (notAllowed) throw await refuse({ reason: notAllowed, error: notAllowed === 'not_a_member' ? notAMember() : noMembership() }, user.id);
    return openSession(deps, user, chosen, ctx, {
      mfa: true,
      details: purpose === 'login' ? { method: 'passkey', second_factor: true } : { method: 'password', second_factor: true, second_factor_method: 'passkey' },
    });
  }

  const secondFactor: PasskeySecondFactor = {
    async beginSecondFactor(userId): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
      return db.withPlatform(async (tx) => {
        const credentials = await credentialsOf(tx, userId);
        if (credentials.length === 0) return undefined;
        const options = await (await webauthn()).generateAuthenticationOptions({
          rpID: rp.id,
          allowCredentials: credentials.map((c) => ({ id: c.id, transports: c.transports })),
          // After a password, a security key without a PIN is a fine second factor.
          userVerification: 'discouraged',
          timeout: CHALLENGE_TTL_MS,
        });
        await storeChallenge(tx, options.challenge, 'second_factor', userId);
        return options;
      });
    },
  };

  return {
    ...secondFactor,

    /** Starts registering a passkey: needs a recent re-authentication, like every new factor. */
    async registrationOptions(ctx: RequestContext): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const { userId, sessionId } = self(ctx);
      return db.withPlatform(async (tx) => {
        await assertRecentReauth(tx, sessionId, clock);
        const user = (await userById(tx, userId))!;
        const existing = await credentialsOf(tx, userId);
        const options = await (await webauthn()).generateRegistrationOptions({
          rpName: rp.name,
          rpID: rp.id,
          userName: user.email,
          userID: new Uint8Array(userHandleOf(userId)),
          userDisplayName: user.display_name || user.username,
          timeout: CHALLENGE_TTL_MS,
          attestationType: 'none',
          excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
          // Discoverable, so the same passkey also signs in without a password.
          authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
          supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
        });
        await storeChallenge(tx, options.challenge, 'register', userId);
        await audit.record(tx, ctx, { action: 'account.passkey.registration_started', target: { type: 'user', id: userId } });
        return options;
      });
    },

    /** Finishes registering with the browser's answer to registrationOptions. */
    async register(ctx: RequestContext, input: { name?: string; credential: RegistrationResponseJSON }): Promise<PasskeyView> {
      const { userId, sessionId } = self(ctx);
      await db.withPlatform((tx) => assertRecentReauth(tx, sessionId, clock));
      const pending = await consumeChallenge(input.credential.response.clientDataJSON, 'register', userId);
      if (!pending) {
        await auditStep(ctx, { action: 'account.passkey.register', outcome: 'failed', target: { type: 'user', id: userId }, details: { reason: 'challenge_expired_or_used' } });
        throw challengeRefused(400);
      }
      let info;
      try {
        const result = await (await webauthn()).verifyRegistrationResponse({
          response: input.credential, expectedChallenge: pending.challenge, expectedOrigin: rp.origin, expectedRPID: rp.id,
          // Checked at each sign-in instead: alone a passkey must verify the person, after a password it need not.
          requireUserVerification: false,
          supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
        });
        if (!result.verified) throw new Error('the attestation could not be verified');
        // The id kept is the one the authenticator signed, and the one the browser reported (and the route bounded).
        if (result.registrationInfo.credential.id !== input.credential.id) throw new Error('the credential id differs from the attested one');
        info = result.registrationInfo;
      } catch (err) {
        await auditStep(ctx, { action: 'account.passkey.register', outcome: 'failed', target: { type: 'user', id: userId }, details: { reason: reasonOf(err) } });
        throw notVerified(400);
      }
      const { credential } = info;
      return db.withPlatform(async (tx) => {
        const count = (await credentialsOf(tx, userId)).length;
        const row = await tx.insertInto('webauthn_credentials')
          .values({
            id: credential.id,
            user_id: userId,
            public_key: Buffer.from(credential.publicKey),
            counter: credential.counter,
            transports: credential.transports ?? [],
            device_type: info.credentialDeviceType,
            backed_up: info.credentialBackedUp,
            name: input.name ?? `Passkey ${count + 1}`,
            created_at: clock.now(),
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returningAll()
          .executeTakeFirst() as CredentialRow | undefined;
        if (!row) throw new AppError('passkey_already_registered', 409, 'This passkey is already registered.');
        // Proving possession of a new factor verifies this session's second factor, as enabling TOTP does.
        await tx.updateTable('sessions').set({ mfa_at: clock.now() }).where('id', '=', sessionId).execute();
        await audit.record(tx, ctx, { action: 'account.passkey.register', target: { type: 'passkey', id: row.id }, details: { device_type: row.device_type, backed_up: row.backed_up } });
        return view(row);
      });
    },

    async list(ctx: RequestContext): Promise<PasskeyView[]> {
      const { userId } = self(ctx);
      return (await db.withPlatform((tx) => credentialsOf(tx, userId))).map(view);
    },

    async rename(ctx: RequestContext, id: string, name: string): Promise<PasskeyView> {
      const { userId } = self(ctx);
      return db.withPlatform(async (tx) => {
        const before = await tx.selectFrom('webauthn_credentials').select('name').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
        if (!before) throw notFound('passkey');
        const row = await tx.updateTable('webauthn_credentials').set({ name }).where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirstOrThrow() as CredentialRow;
        await audit.record(tx, ctx, { action: 'account.passkey.rename', target: { type: 'passkey', id }, diff: { before: { name: before.name }, after: { name } } });
        return view(row);
      });
    },

    /** Removing a factor needs a recent re-authentication, like adding one. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      const { userId, sessionId } = self(ctx);
      await db.withPlatform(async (tx) => {
        await assertRecentReauth(tx, sessionId, clock);
        const res = await tx.deleteFrom('webauthn_credentials').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
        if (Number(res.numDeletedRows) === 0) throw notFound('passkey');
        await audit.record(tx, ctx, { action: 'account.passkey.delete', target: { type: 'passkey', id } });
      });
    },

    /** Starts a passwordless sign-in: a challenge for any passkey of this site. */
    async loginOptions(ctx: RequestContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const options = await (await webauthn()).generateAuthenticationOptions({ rpID: rp.id, userVerification: 'required', timeout: CHALLENGE_TTL_MS });
      await db.withPlatform(async (tx) => {
        await storeChallenge(tx, options.challenge, 'login', null);
        await audit.record(tx, ctx, { action: 'auth.passkey.login_started' });
      });
      return options;
    },

    /** Passwordless sign-in with the browser's answer to loginOptions. */
    login: (ctx: RequestContext, input: { credential: AuthenticationResponseJSON; tenant?: string }) => signIn(ctx, 'login', input.credential, input.tenant),

    /** Finishes a password sign-in that answered second_factor_required, with the passkeyOptions it carried. */
    completeSecondFactor: (ctx: RequestContext, input: { credential: AuthenticationResponseJSON; tenant?: string }) => signIn(ctx, 'second_factor', input.credential, input.tenant),
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
