// Who a data subject is, in Haven's tables: every identity of one person in
// the tenants in scope. A person may have a platform-wide user account (with
// memberships in tenants), viewer accounts created by a tenant's SSO for
// audiences (no Haven account; found by the address the IdP vouched for),
// and invitations addressed to them. Everything else the data map names
// points at one of these ids (see rows.ts).
import { sql } from 'kysely';
import type { Database, Tx } from '../../../platform/db/database.ts';
import { AppError } from '../../../platform/errors.ts';
import { normalizeEmail } from '../../identity/users.ts';

export interface SubjectQuery {
  email?: string;
  userId?: string;
  /** Limits the search to one tenant (a tenant admin's request); absent = every tenant (an operator's). */
  tenantId?: string;
}

export interface SubjectIdentities {
  /** The normalized email the search started from (or the account's, when it started from a user id). */
  email: string | null;
  /** Tenants the search was limited to; null = every tenant. */
  scope: string[] | null;
  /** The user account (platform-wide; at most one per email) and the tenants it is a member of, in scope. */
  users: { id: string; memberships: { tenantId: string; role: string; status: string }[] }[];
  userIds: string[];
  /** Viewer accounts of audience SSO, per tenant. */
  audienceAccounts: { id: string; tenantId: string; providerId: string }[];
  audienceIds: string[];
  /** Invitations addressed to the email. */
  invitations: { id: string; tenantId: string; accepted: boolean }[];
  /** Every tenant in scope where one of the identities appears (memberships, audience accounts, invitations). */
  tenantIds: string[];
  /** True when nothing at all was found. */
  empty: boolean;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads with platform scope (a person's identities span tenants); the tenant limit is applied in SQL. */
export async function locateSubject(db: Database, query: SubjectQuery): Promise<SubjectIdentities> {
  return db.withPlatform((tx) => locateSubjectIn(tx, query));
}

/** As locateSubject, inside a transaction the caller holds (it must be able to see the tenants in scope). */
export async function locateSubjectIn(tx: Tx, query: SubjectQuery): Promise<SubjectIdentities> {
  if (!query.email && !query.userId) throw new AppError('subject_query_invalid', 400, 'Name the data subject by email or user id.');
  if (query.userId && !uuidPattern.test(query.userId)) throw new AppError('subject_query_invalid', 400, 'The user id is not a valid id.');
  if (query.tenantId && !uuidPattern.test(query.tenantId)) throw new AppError('subject_query_invalid', 400, 'The tenant id is not a valid id.');
  const scope = query.tenantId ? [query.tenantId] : null;

  let email = query.email ? normalizeEmail(query.email) : null;
  const userRows = await sql<{ id: string; email_normalized: string }>`
    select id, email_normalized from users
    where ${query.userId ? sql`id = ${query.userId}::uuid` : sql`email_normalized = ${email}`}`.execute(tx);
  if (!email && userRows.rows[0]) email = userRows.rows[0].email_normalized;
  const userIds = userRows.rows.map((r) => r.id);

  const inScope = (column: string) => (scope ? sql`and ${sql.ref(column)} = any(${scope}::uuid[])` : sql``);

  const members = userIds.length
    ? (await sql<{ user_id: string; tenant_id: string; role: string; status: string }>`
        select user_id, tenant_id, role, status from memberships
        where user_id = any(${userIds}::uuid[]) ${inScope('tenant_id')} order by created_at`.execute(tx)).rows
    : [];
  // Audience accounts carry the address as the IdP sent it; compared case-insensitively.
  const audience = email
    ? (await sql<{ id: string; tenant_id: string; provider_id: string }>`
        select id, tenant_id, provider_id from audience_accounts
        where lower(email) = ${email} ${inScope('tenant_id')} order by created_at`.execute(tx)).rows
    : [];
  const invites = email
    ? (await sql<{ id: string; tenant_id: string; accepted_at: Date | null }>`
        select id, tenant_id, accepted_at from invitations
        where email_normalized = ${email} ${inScope('tenant_id')} order by created_at`.execute(tx)).rows
    : [];

  // A tenant-limited search counts the account only when it is a member there:
  // a tenant must not learn of a person's account through another tenant.
  const users = userIds
    .map((id) => ({ id, memberships: members.filter((m) => m.user_id === id).map((m) => ({ tenantId: m.tenant_id, role: m.role, status: m.status })) }))
    .filter((u) => !scope || u.memberships.length > 0);
  const tenantIds = [...new Set([...members.map((m) => m.tenant_id), ...audience.map((a) => a.tenant_id), ...invites.map((i) => i.tenant_id)])];
  const audienceAccounts = audience.map((a) => ({ id: a.id, tenantId: a.tenant_id, providerId: a.provider_id }));
  const invitations = invites.map((i) => ({ id: i.id, tenantId: i.tenant_id, accepted: i.accepted_at !== null }));
  return {
    email,
    scope,
    users,
    userIds: users.map((u) => u.id),
    audienceAccounts,
    audienceIds: audienceAccounts.map((a) => a.id),
    invitations,
    tenantIds,
    empty: users.length === 0 && audienceAccounts.length === 0 && invitations.length === 0,
  };
}
