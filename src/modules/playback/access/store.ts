// SQL for the access tables (video_access_policies, video_links,
// audience_accounts); nothing else touches them. grantFacts also reads the
// viewer's membership and groups, inside a database function of playback's
// own (migrations/0024_identity_groups.ts), because it runs on key fetches.
import { sql } from 'kysely';
import type pg from 'pg';
import type { Tx } from '../../../platform/db/database.ts';
import type { TenantRole } from '../../identity/actor.ts';
import type { GrantFacts } from './grant-cache.ts';
import { type MembersRule, storedPolicy } from './policy.ts';

export interface VideoAccessRow {
  id: string;
  tenant_id: string;
  region: string;
  status: string;
  published_state: string;
  playable: boolean;
  policy: unknown | null;
  version: number | null;
  password_version: number | null;
}

/** The video and its policy, in whichever tenant it lives (platform scope). */
export async function videoWithPolicy(tx: Tx, videoId: string): Promise<VideoAccessRow | undefined> {
  return (await tx
    .selectFrom('videos as v')
    .leftJoin('video_access_policies as p', 'p.video_id', 'v.id')
    .select(['v.id', 'v.tenant_id', 'v.region', 'v.status', 'v.published_state', 'p.policy', 'p.version', 'p.password_version'])
    .select(sql<boolean>`v.status = 'ready' or exists (select 1 from renditions r where r.video_id = v.id and r.status in ('streaming', 'ready'))`.as('playable'))
    .where('v.id', '=', videoId)
    .executeTakeFirst()) as VideoAccessRow | undefined;
}

export const videoExists = async (tx: Tx, tenantId: string, videoId: string, lock = false): Promise<boolean> =>
  Boolean(await tx.selectFrom('videos').select('id').where('tenant_id', '=', tenantId).where('id', '=', videoId)
    .$if(lock, (q) => q.forUpdate()).executeTakeFirst());

export interface PolicyRow {
  video_id: string;
  tenant_id: string;
  policy: unknown;
  version: number;
  password_hash: string | null;
  password_version: number;
  updated_by: string | null;
  updated_at: Date;
}

export const policyRow = (tx: Tx, tenantId: string, videoId: string) =>
  tx.selectFrom('video_access_policies').selectAll().where('tenant_id', '=', tenantId).where('video_id', '=', videoId)
    .executeTakeFirst() as Promise<PolicyRow | undefined>;

export async function upsertPolicy(tx: Tx, row: Omit<PolicyRow, 'updated_at'> & { available_from: string | null; available_until: string | null }, now: Date): Promise<PolicyRow> {
  const values = { ...row, policy: JSON.stringify(row.policy), updated_at: now };
  return (await tx.insertInto('video_access_policies').values(values)
    .onConflict((oc) => oc.column('video_id').doUpdateSet({
      policy: values.policy, version: values.version, password_hash: values.password_hash, password_version: values.password_version,
      available_from: values.available_from, available_until: values.available_until, updated_by: values.updated_by, updated_at: now,
    }))
    .returningAll().executeTakeFirstOrThrow()) as PolicyRow;
}

export interface LinkRow {
  id: string;
  tenant_id: string;
  video_id: string;
  label: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

const linkColumns = ['id', 'tenant_id', 'video_id', 'label', 'expires_at', 'revoked_at', 'created_by', 'created_at'] as const;

export const insertLink = async (tx: Tx, row: Omit<LinkRow, 'revoked_at' | 'created_at'> & { secret_hash: Buffer }): Promise<LinkRow> =>
  (await tx.insertInto('video_links').values(row).returning([...linkColumns]).executeTakeFirstOrThrow()) as LinkRow;

export const linksOf = (tx: Tx, tenantId: string, videoId: string) =>
  tx.selectFrom('video_links').select([...linkColumns]).where('tenant_id', '=', tenantId).where('video_id', '=', videoId)
    .orderBy('created_at').orderBy('id').execute() as Promise<LinkRow[]>;

export const linkById = (tx: Tx, tenantId: string, videoId: string, linkId: string, lock = false) =>
  tx.selectFrom('video_links').select([...linkColumns]).where('tenant_id', '=', tenantId).where('video_id', '=', videoId).where('id', '=', linkId)
    .$if(lock, (q) => q.forUpdate()).executeTakeFirst() as Promise<LinkRow | undefined>;

export const linkBySecret = (tx: Tx, videoId: string, secretHash: Buffer) =>
  tx.selectFrom('video_links').select([...linkColumns]).where('video_id', '=', videoId).where('secret_hash', '=', secretHash)
    .executeTakeFirst() as Promise<LinkRow | undefined>;

export async function revokeLink(tx: Tx, linkId: string, by: string | null, now: Date): Promise<void> {
  await tx.updateTable('video_links').set({ revoked_at: now, revoked_by: by }).where('id', '=', linkId).execute();
}

export interface AudienceAccountRow { id: string; tenant_id: string; provider_id: string; subject: string; email: string | null; created_at: Date; last_seen_at: Date }

export const audienceAccount = (tx: Tx, tenantId: string, id: string) =>
  tx.selectFrom('audience_accounts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst() as Promise<AudienceAccountRow | undefined>;

/** Creates the account on first sign-in, else refreshes its address and last-seen time. */
export async function upsertAudienceAccount(tx: Tx, row: { id: string; tenant_id: string; provider_id: string; subject: string; email: string | null }, now: Date): Promise<AudienceAccountRow & { created: boolean }> {
  const saved = await tx.insertInto('audience_accounts').values({ ...row, created_at: now, last_seen_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'provider_id', 'subject']).doUpdateSet({ email: row.email, last_seen_at: now }))
    .returningAll().returning(sql<boolean>`xmax = 0`.as('created')).executeTakeFirstOrThrow();
  return saved as AudienceAccountRow & { created: boolean };
}

/**
 * The tenant's enabled single sign-on providers, names and ids only (the
 * buttons of the sso_required prompt). Read from identity's table because
 * the prompt is shown to anonymous viewers, whom identity's admin service
 * rightly refuses.
 */
export const enabledProviders = (tx: Tx, tenantId: string) =>
  tx.selectFrom('sso_providers').select(['id', 'name']).where('tenant_id', '=', tenantId).where('enabled', '=', true).orderBy('name').execute() as Promise<{ id: string; name: string }[]>;

/**
 * What a grant rests on, in one round trip (migrations/0019_playback_changes.ts):
 * undefined when the video or its tenant is gone or in the trash. Times come
 * back as times; grant-cache.ts's grantHolds checks them against the clock.
 */
export async function grantFacts(pool: pg.Pool, args: { tenantId: string; videoId: string; linkId?: string; memberId?: string }): Promise<GrantFacts | undefined> {
  const { rows } = await pool.query<{
    policy_version: number; available_from: Date | null; available_until: Date | null; link_ok: boolean; link_expires_at: Date | null; staff: boolean;
    member_role: TenantRole | null; member_groups: string[] | null; policy: unknown;
  }>({
    name: 'haven_playback_grant_facts',
    text: 'select * from haven_playback_grant_facts($1, $2, $3, $4)',
    values: [args.tenantId, args.videoId, args.linkId ?? null, args.memberId ?? null],
  });
  const r = rows[0];
  if (!r) return undefined;
  return {
    policyVersion: r.policy_version,
    availableFrom: r.available_from?.getTime() ?? null,
    availableUntil: r.available_until?.getTime() ?? null,
    linkOk: r.link_ok,
    linkExpiresAt: r.link_expires_at?.getTime() ?? null,
    staff: r.staff,
    member: r.member_role ? { role: r.member_role, groupIds: r.member_groups ?? [] } : null,
    membersRule: storedPolicy(r.policy).audiences.find((a): a is MembersRule => a.type === 'members') ?? null,
  };
}
