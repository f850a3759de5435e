// Server-side sessions: the cookie carries a 256-bit random value, the
// database its hash. Idle and absolute lifetimes come from tenant settings; a
// new session (new value) is issued on login and on privilege change.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database, Tx } from '../../platform/db/database.ts';
import type { Clock } from '../../platform/platform.ts';
import type { Pseudonymize } from '../../platform/crypto/pseudonym.ts';
import { type PlatformRole, type TenantRole, type TenantState, tenantStateOf } from './actor.ts';
import { hashSecret, newSecret } from './secrets.ts';
import { lookupSession, revokeSessions } from './store.ts';
import { effectiveSettings } from './settings.ts';
import { roleAtLeast } from './access.ts';

export function requiresSecondFactor(settings: unknown, level: 'standard' | 'high' | null, role: TenantRole | null): boolean {
  const policy = effectiveSettings(settings, level ?? 'standard').twoFactor;
  return policy === 'all' || (policy === 'admins' && roleAtLeast(role ?? undefined, 'admin'));
}

export const SESSION_COOKIE = 'haven_session';
/** How stale last_seen_at may get before a request refreshes it (one write per minute at most). */
const TOUCH_AFTER_MS = 60_000;

export interface ActiveSession {
  id: string;
  userId: string;
  tenantId: string | null;
  /** The session's tenant's state (null without a tenant). */
  tenantState: TenantState | null;
  role: TenantRole | null;
  platformRoles: PlatformRole[];
  language: string;
  mfaAt: Date | null;
  reauthAt: Date | null;
  pendingConsents: number;
  expiresAt: Date;
  /** The tenant requires a second factor of this user and they have none yet. */
  mustEnrollSecondFactor: boolean;
}

export interface NewSession {
  userId: string;
  tenantId: string | null;
  idleMinutes: number;
  absoluteHours: number;
  mfa: boolean;
  ip?: string;
  userAgent?: string;
}

export interface SessionService {
  create(tx: Tx, input: NewSession): Promise<{ token: string; id: string; expiresAt: Date }>;
  resolve(token: string): Promise<ActiveSession | undefined>;
  revoke(tx: Tx, userId: string, sessionId: string, reason: string): Promise<boolean>;
  revokeAll(tx: Tx, userId: string, reason: string, exceptId?: string): Promise<number>;
  markReauthenticated(tx: Tx, sessionId: string): Promise<void>;
  list(tx: Tx, userId: string): Promise<{ id: string; createdAt: Date; lastSeenAt: Date; expiresAt: Date; userAgent: string | null; tenantId: string | null }[]>;
}

/** A coarse browser/OS label, never the raw user agent. */
export function summarizeUserAgent(ua: string | undefined): string | null {
  if (!ua) return null;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : /curl\//.test(ua) ? 'curl' : 'Other';
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad|iOS/.test(ua) ? 'iOS' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : 'Other';
  return `${browser} on ${os}`;
}

export function createSessionService(db: Database, clock: Clock, pseudonymize: Pseudonymize): SessionService {
  return {
    async create(tx, input) {
      const token = newSecret();
      const id = randomUUID();
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + input.absoluteHours * 3600_000);
      await tx
        .insertInto('sessions')
        .values({
          id,
          token_hash: hashSecret(token),
          user_id: input.userId,
          tenant_id: input.tenantId,
          created_at: now,
          last_seen_at: now,
          expires_at: expiresAt,
          idle_timeout_seconds: input.idleMinutes * 60,
          mfa_at: input.mfa ? now : null,
          reauth_at: now,
          ip_pseudonym: input.ip ? pseudonymize(input.ip) : null,
          user_agent_summary: summarizeUserAgent(input.userAgent),
        })
        .execute();
      return { token, id, expiresAt };
    },

    async resolve(token) {
      if (!token || token.length > 100) return undefined;
      const row = await lookupSession(db.appPool, hashSecret(token));
      if (!row) return undefined;
      const now = clock.now().getTime();
      const idleDeadline = row.last_seen_at.getTime() + row.idle_timeout_seconds * 1000;
      if (now >= row.expires_at.getTime() || now >= idleDeadline || row.user_status !== 'active' || (row.tenant_id && !row.role)) {
        // Expired, disabled, or no longer a member: the session ends for good.
        await db.withPlatform((tx) => tx.updateTable('sessions').set({ revoked_at: sql`now()`, revoked_reason: 'expired' }).where('id', '=', row.id).where('revoked_at', 'is', null).execute());
        return undefined;
      }
      if (now - row.last_seen_at.getTime() > TOUCH_AFTER_MS) {
        await db.withPlatform((tx) => tx.updateTable('sessions').set({ last_seen_at: new Date(now) }).where('id', '=', row.id).execute());
      }
      return {
        id: row.id,
        userId: row.user_id,
        tenantId: row.tenant_id,
        tenantState: row.tenant_id ? tenantStateOf(row.tenant_status, Boolean(row.tenant_deleted)) : null,
        role: row.role,
        platformRoles: row.platform_roles,
        language: row.preferred_language,
        mfaAt: row.mfa_at,
        reauthAt: row.reauth_at,
        pendingConsents: row.pending_consents,
        expiresAt: row.expires_at,
        mustEnrollSecondFactor: !row.second_factor && requiresSecondFactor(row.tenant_settings, row.tenant_security_level, row.role),
      };
    },

    async revoke(tx, userId, sessionId, reason) {
      return (await revokeSessions(tx, { userId, sessionId }, reason)) > 0;
    },
    revokeAll: (tx, userId, reason, exceptId) => revokeSessions(tx, { userId, exceptId }, reason),

    async markReauthenticated(tx, sessionId) {
      await tx.updateTable('sessions').set({ reauth_at: clock.now() }).where('id', '=', sessionId).execute();
    },

    async list(tx, userId) {
      const rows = await tx
        .selectFrom('sessions')
        .select(['id', 'created_at', 'last_seen_at', 'expires_at', 'user_agent_summary', 'tenant_id'])
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', clock.now())
        .orderBy('last_seen_at', 'desc')
        .execute();
      return rows.map((r) => ({ id: r.id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at, userAgent: r.user_agent_summary, tenantId: r.tenant_id }));
    },
  };
}
