// SQL for the identity tables; nothing else touches them.
import { sql } from 'kysely';
import type pg from 'pg';
import type { Tx } from '../../platform/db/database.ts';
import type { PlatformRole, TenantRole } from './actor.ts';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  email_verified_at: Date | null;
  display_name: string;
  preferred_language: 'en' | 'sv' | 'fi' | 'de';
  password_hash: string | null;
  status: 'active' | 'disabled';
  platform_roles: PlatformRole[];
  locked_until: Date | null;
  totp_secret_sealed: string | null;
  totp_enabled_at: Date | null;
  totp_last_step: number | null;
  created_at: Date;
}

export interface SessionLookup {
  id: string;
  user_id: string;
  tenant_id: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  idle_timeout_seconds: number;
  mfa_at: Date | null;
  reauth_at: Date | null;
  user_status: 'active' | 'disabled';
  platform_roles: PlatformRole[];
  preferred_language: string;
  role: TenantRole | null;
  tenant_status: string | null;
  tenant_deleted: boolean | null;
  tenant_settings: unknown;
  tenant_security_level: 'standard' | 'high' | null;
  second_factor: boolean;
  pending_consents: number;
}

export const userByEmail = (tx: Tx, normalized: string) =>
  tx.selectFrom('users').selectAll().where('email_normalized', '=', normalized).executeTakeFirst() as Promise<UserRow | undefined>;

export const userById = (tx: Tx, id: string) =>
  tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst() as Promise<UserRow | undefined>;

/** Members of the current tenant (RLS scopes memberships; users join through them). */
export function listMembers(tx: Tx, tenantId: string) {
  return tx
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.email', 'u.display_name', 'm.status', 'u.status as account_status', 'u.preferred_language', 'u.email_verified_at', 'u.totp_enabled_at', 'm.role', 'm.created_at'])
    .where('m.tenant_id', '=', tenantId)
    .orderBy('m.created_at')
    .execute();
}

export function memberById(tx: Tx, tenantId: string, userId: string) {
  return tx
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.email', 'u.display_name', 'm.status', 'u.status as account_status', 'u.preferred_language', 'u.email_verified_at', 'u.totp_enabled_at', 'm.role', 'm.created_at'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst();
}

export const membershipsOf = (tx: Tx, userId: string) =>
  tx
    .selectFrom('memberships as m')
    .innerJoin('tenants as t', 't.id', 'm.tenant_id')
    .select(['m.tenant_id', 'm.role', 't.slug', 't.name', 't.status', 't.settings', 't.security_level'])
    .where('m.user_id', '=', userId)
    .where('m.status', '=', 'active')
    .orderBy('m.created_at')
    .execute();

/**
 * One round trip resolves a session cookie: the session, its user, their role
 * in the session's tenant, and how many current consent documents they have
 * not accepted, and whether the tenant is in the trash (migrations/0006_session_lookup.ts,
 * 0025_session_tenant_state.ts).
 */
export async function lookupSession(pool: pg.Pool, tokenHash: Buffer): Promise<SessionLookup | undefined> {
  const { rows } = await pool.query<SessionLookup>({ name: 'haven_session_lookup', text: 'select * from haven_session_lookup($1)', values: [tokenHash] });
  return rows[0];
}

export async function revokeSessions(tx: Tx, where: { userId: string; exceptId?: string; sessionId?: string }, reason: string): Promise<number> {
  const res = await tx
    .updateTable('sessions')
    .set({ revoked_at: sql`now()`, revoked_reason: reason })
    .where('user_id', '=', where.userId)
    .where('revoked_at', 'is', null)
    .$if(Boolean(where.exceptId), (q) => q.where('id', '<>', where.exceptId!))
    .$if(Boolean(where.sessionId), (q) => q.where('id', '=', where.sessionId!))
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Ends a person's sessions in one tenant; returns how many were active. */
export async function endTenantSessions(tx: Tx, tenantId: string, userId: string, reason: string): Promise<number> {
  const res = await tx
    .updateTable('sessions')
    .set({ revoked_at: sql`now()`, revoked_reason: reason })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
