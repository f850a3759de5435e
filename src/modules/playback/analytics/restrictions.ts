// Restriction of processing (GDPR Art. 18): a person whose data-subject
// request restricted processing is not tracked. The privacy module records
// restrictions in privacy_restrictions (migrations/0014); analytics reads the
// open ones of the viewers in a batch, in the batch's own transaction, and
// keeps no session for them.
import { sql } from 'kysely';
import type { Tx } from '../../../platform/db/database.ts';

interface Viewer { viewerUserId: string | null; viewerAudienceId: string | null }

/** The sessions of viewers whose processing is not restricted. */
export async function withoutRestricted<T extends Viewer>(tx: Tx, tenantId: string, sessions: T[]): Promise<T[]> {
  const users = [...new Set(sessions.flatMap((s) => (s.viewerUserId ? [s.viewerUserId] : [])))];
  const audiences = [...new Set(sessions.flatMap((s) => (s.viewerAudienceId ? [s.viewerAudienceId] : [])))];
  if (users.length === 0 && audiences.length === 0) return sessions;
  const { rows } = await sql<{ subject_kind: 'user' | 'audience'; subject_id: string }>`
    select subject_kind, subject_id from privacy_restrictions
    where tenant_id = ${tenantId} and lifted_at is null
      and ((subject_kind = 'user' and subject_id = any(${users}::text[])) or (subject_kind = 'audience' and subject_id = any(${audiences}::text[])))`.execute(tx);
  if (rows.length === 0) return sessions;
  const restricted = new Set(rows.map((r) => `${r.subject_kind}:${r.subject_id}`));
  return sessions.filter((s) => !(s.viewerUserId && restricted.has(`user:${s.viewerUserId}`)) && !(s.viewerAudienceId && restricted.has(`audience:${s.viewerAudienceId}`)));
}
