// SQL for groups and group_members (migrations/0024_identity_groups.ts);
// nothing else touches them. Every read runs in the tenant's scope, so
// row-level security hides other tenants' groups and people in the trash.
import { sql } from 'kysely';
import type { Tx } from '../../../platform/db/database.ts';
import type { TenantRole } from '../actor.ts';

export interface GroupRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
  member_count: number;
}

const groupColumns = ['g.id', 'g.tenant_id', 'g.name', 'g.description', 'g.created_at', 'g.updated_at'] as const;

// Counted through memberships so a person in the trash is not counted (RLS hides their membership).
const memberCount = sql<number>`(select count(*)::int from group_members gm join memberships m on m.tenant_id = gm.tenant_id and m.user_id = gm.user_id where gm.group_id = g.id)`;

export const listGroups = (tx: Tx, tenantId: string) =>
  tx.selectFrom('groups as g').select([...groupColumns]).select(memberCount.as('member_count'))
    .where('g.tenant_id', '=', tenantId).orderBy(sql`lower(g.name)`).orderBy('g.id').execute() as Promise<GroupRow[]>;

export const groupById = (tx: Tx, tenantId: string, id: string) =>
  tx.selectFrom('groups as g').select([...groupColumns]).select(memberCount.as('member_count'))
    .where('g.tenant_id', '=', tenantId).where('g.id', '=', id).executeTakeFirst() as Promise<GroupRow | undefined>;

/** The group with this name whatever its case, if any (the unique index is on lower(name)). */
export const groupByName = (tx: Tx, tenantId: string, name: string) =>
  tx.selectFrom('groups').select(['id', 'name']).where('tenant_id', '=', tenantId).where(sql`lower(name)`, '=', name.toLowerCase())
    .executeTakeFirst() as Promise<{ id: string; name: string } | undefined>;

export async function insertGroup(tx: Tx, row: { id: string; tenant_id: string; name: string; description: string; created_by: string | null }, now: Date): Promise<void> {
  await tx.insertInto('groups').values({ ...row, created_at: now, updated_at: now }).execute();
}

export async function updateGroup(tx: Tx, tenantId: string, id: string, change: { name?: string; description?: string }, now: Date): Promise<void> {
  await tx.updateTable('groups').set({ ...change, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Deletes the group; its member rows go with it (cascade). */
export async function deleteGroup(tx: Tx, tenantId: string, id: string): Promise<void> {
  await tx.deleteFrom('groups').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

export interface GroupMemberRow {
  id: string;
  username: string;
  email: string;
  display_name: string;
  role: TenantRole;
  status: string;
  added_at: Date;
}

export const membersOf = (tx: Tx, tenantId: string, groupId: string) =>
  tx.selectFrom('group_members as gm')
    .innerJoin('memberships as m', (j) => j.onRef('m.tenant_id', '=', 'gm.tenant_id').onRef('m.user_id', '=', 'gm.user_id'))
    .innerJoin('users as u', 'u.id', 'gm.user_id')
    .select(['u.id', 'u.username', 'u.email', 'u.display_name', 'm.role', 'm.status', 'gm.added_at'])
    .where('gm.tenant_id', '=', tenantId).where('gm.group_id', '=', groupId)
    .orderBy(sql`lower(coalesce(nullif(u.display_name, ''), u.username))`).orderBy('u.id')
    .execute() as Promise<GroupMemberRow[]>;

/** Adds the people not yet in the group; returns the ids that were added. */
export async function addMembers(tx: Tx, tenantId: string, groupId: string, userIds: readonly string[], addedBy: string | null, now: Date): Promise<string[]> {
  if (!userIds.length) return [];
  const rows = await tx.insertInto('group_members')
    .values(userIds.map((user_id) => ({ tenant_id: tenantId, group_id: groupId, user_id, added_by: addedBy, added_at: now })))
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .returning('user_id').execute();
  return rows.map((r) => r.user_id as string);
}

export async function removeMember(tx: Tx, tenantId: string, groupId: string, userId: string): Promise<boolean> {
  const r = await tx.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The groups a person is in, in this tenant (empty when they are in none, or not a visible member). */
export const groupIdsOf = async (tx: Tx, tenantId: string, userId: string): Promise<string[]> =>
  (await tx.selectFrom('group_members as gm')
    .innerJoin('memberships as m', (j) => j.onRef('m.tenant_id', '=', 'gm.tenant_id').onRef('m.user_id', '=', 'gm.user_id'))
    .select('gm.group_id').where('gm.tenant_id', '=', tenantId).where('gm.user_id', '=', userId).orderBy('gm.group_id').execute())
    .map((r) => r.group_id as string);

/** Which of these ids are groups of the tenant. */
export const existingGroupIds = async (tx: Tx, tenantId: string, ids: readonly string[]): Promise<string[]> =>
  ids.length ? (await tx.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()).map((r) => r.id as string) : [];
