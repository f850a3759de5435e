// Groups of people in an organization: admins name them and say who is in
// them; editors may see their names (to pick them in a video's members rule,
// src/modules/playback/access/policy.ts). Every change is audited in its
// transaction. Playback learns of membership changes from a trigger
// (migrations/0024_identity_groups.ts), so removing someone from a group
// ends their playback at the next key fetch.
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { Tx } from '../../../platform/db/database.ts';
import { actorUserId, type RequestContext, type TenantRole } from '../actor.ts';
import { authorize, can } from '../access.ts';
import type { AccessService } from '../access-service.ts';
import type { AuditPort } from '../audit-port.ts';
import * as store from './store.ts';

export const GROUP_NAME_MAX = 100;
export const GROUP_DESCRIPTION_MAX = 1000;
/** People added in one request. */
export const GROUP_ADD_MAX = 500;

export interface GroupView { id: string; name: string; description: string; memberCount: number; createdAt: Date; updatedAt: Date }
export interface GroupMemberView { id: string; username: string; email: string; displayName: string; role: TenantRole; status: string; addedAt: Date }

const view = (g: store.GroupRow): GroupView => ({
  id: g.id, name: g.name, description: g.description, memberCount: g.member_count, createdAt: g.created_at, updatedAt: g.updated_at,
});
const memberView = (m: store.GroupMemberRow): GroupMemberView => ({
  id: m.id, username: m.username, email: m.email, displayName: m.display_name, role: m.role, status: m.status, addedAt: m.added_at,
});

/** "  Sales\u00a0 EMEA " → "Sales EMEA": compatibility forms folded, runs of white space made one space. */
export const normalizeGroupName = (name: string) => name.normalize('NFKC').trim().replace(/\s+/gu, ' ');

const nameTaken = (name: string) => new AppError('group_name_taken', 409, `A group named "${name}" already exists in this organization.`);
const groupNotFound = () => notFound('group');

function checkName(raw: string): string {
  const name = normalizeGroupName(raw);
  if (!name) throw new AppError('invalid_request', 400, 'A group needs a name.', [{ path: 'name', message: 'must not be empty' }]);
  if (name.length > GROUP_NAME_MAX) throw new AppError('invalid_request', 400, `A group name has at most ${GROUP_NAME_MAX} characters.`, [{ path: 'name', message: `at most ${GROUP_NAME_MAX} characters` }]);
  if (/\p{C}/u.test(name)) throw new AppError('invalid_request', 400, 'A group name cannot contain control or invisible characters.', [{ path: 'name', message: 'contains control or invisible characters' }]);
  return name;
}

/** The unique index on lower(name): another writer took the name between our check and our write. */
const isNameClash = (err: unknown) => (err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'groups_name';

export function createGroupService(platform: Platform, audit: AuditPort, access: AccessService) {
  const { db, clock } = platform;

  /** Names are for admins and, so they can pick them in a members rule, for editors. */
  function authorizeList(ctx: RequestContext): asserts ctx is RequestContext & { tenantId: string } {
    if (can(ctx, 'users:read')) return;
    authorize(ctx, 'videos:write');
  }

  async function withGroup<T>(ctx: RequestContext & { tenantId: string }, groupId: string, fn: (tx: Tx, group: store.GroupRow) => Promise<T>): Promise<T> {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const group = await store.groupById(tx, ctx.tenantId, groupId);
      if (!group) throw groupNotFound();
      return fn(tx, group);
    });
  }

  return {
    async list(ctx: RequestContext): Promise<GroupView[]> {
      authorizeList(ctx);
      return (await db.withTenant(ctx.tenantId, (tx) => store.listGroups(tx, ctx.tenantId))).map(view);
    },

    async get(ctx: RequestContext, groupId: string): Promise<GroupView> {
      authorize(ctx, 'users:read');
      return withGroup(ctx, groupId, async (_tx, g) => view(g));
    },

    async create(ctx: RequestContext, input: { name: string; description?: string }): Promise<GroupView> {
      authorize(ctx, 'users:write');
      const name = checkName(input.name);
      const description = (input.description ?? '').trim();
      const id = randomUUID();
      const tenantId = ctx.tenantId;
      try {
        return await db.withTenant(tenantId, async (tx) => {
          const clash = await store.groupByName(tx, tenantId, name);
          if (clash) throw nameTaken(clash.name);
          await store.insertGroup(tx, { id, tenant_id: tenantId, name, description, created_by: actorUserId(ctx.actor) ?? null }, clock.now());
          await audit.record(tx, ctx, { action: 'group.create', target: { type: 'group', id }, diff: { before: null, after: { name, description } } });
          return view((await store.groupById(tx, tenantId, id))!);
        });
      } catch (err) {
        if (isNameClash(err)) throw nameTaken(name);
        throw err;
      }
    },

    async update(ctx: RequestContext, groupId: string, change: { name?: string; description?: string }): Promise<GroupView> {
      authorize(ctx, 'users:write');
      const name = change.name === undefined ? undefined : checkName(change.name);
      const description = change.description?.trim();
      try {
        return await withGroup(ctx, groupId, async (tx, before) => {
          if (name !== undefined && name.toLowerCase() !== before.name.toLowerCase()) {
            const clash = await store.groupByName(tx, ctx.tenantId, name);
            if (clash) throw nameTaken(clash.name);
          }
          const set = { ...(name !== undefined && name !== before.name ? { name } : {}), ...(description !== undefined && description !== before.description ? { description } : {}) };
          if (!Object.keys(set).length) return view(before);
          await store.updateGroup(tx, ctx.tenantId, groupId, set, clock.now());
          await audit.record(tx, ctx, {
            action: 'group.update', target: { type: 'group', id: groupId },
            diff: { before: { name: before.name, description: before.description }, after: { name: name ?? before.name, description: description ?? before.description } },
          });
          return view((await store.groupById(tx, ctx.tenantId, groupId))!);
        });
      } catch (err) {
        if (isNameClash(err)) throw nameTaken(name!);
        throw err;
      }
    },

    /** Deletes the group and its memberships. A video's members rule that named it admits no one through it any more. */
    async remove(ctx: RequestContext, groupId: string): Promise<void> {
      authorize(ctx, 'users:write');
      await withGroup(ctx, groupId, async (tx, group) => {
        await store.deleteGroup(tx, ctx.tenantId, groupId);
        await audit.record(tx, ctx, { action: 'group.delete', target: { type: 'group', id: groupId }, details: { members: group.member_count }, diff: { before: { name: group.name }, after: null } });
      });
    },

    async members(ctx: RequestContext, groupId: string): Promise<GroupMemberView[]> {
      authorize(ctx, 'users:read');
      return withGroup(ctx, groupId, async (tx) => (await store.membersOf(tx, ctx.tenantId, groupId)).map(memberView));
    },

    /** Adds people of the organization; those already in the group are left as they are. Unknown ids: 404, nothing added. */
    async addMembers(ctx: RequestContext, groupId: string, userIds: readonly string[]): Promise<{ added: string[]; members: GroupMemberView[] }> {
      authorize(ctx, 'users:write');
      const wanted = [...new Set(userIds)];
      if (wanted.length > GROUP_ADD_MAX) throw new AppError('invalid_request', 400, `Add at most ${GROUP_ADD_MAX} people at a time.`);
      await access.assertAll(ctx, 'users:write', 'group', [groupId]);
      // Someone not in this organization (another tenant's person, someone in the trash) is not found, never forbidden.
      await access.assertAll(ctx, 'users:write', 'user', wanted);
      return withGroup(ctx, groupId, async (tx) => {
        const added = await store.addMembers(tx, ctx.tenantId, groupId, wanted, actorUserId(ctx.actor) ?? null, clock.now());
        for (const userId of added) {
          await audit.record(tx, ctx, { action: 'group.member.add', target: { type: 'user', id: userId }, details: { group_id: groupId } });
        }
        return { added, members: (await store.membersOf(tx, ctx.tenantId, groupId)).map(memberView) };
      });
    },

    async removeMember(ctx: RequestContext, groupId: string, userId: string): Promise<void> {
      authorize(ctx, 'users:write');
      await withGroup(ctx, groupId, async (tx) => {
        if (!(await store.removeMember(tx, ctx.tenantId, groupId, userId))) {
          throw new AppError('group_member_not_found', 404, 'That person is not in this group.');
        }
        await audit.record(tx, ctx, { action: 'group.member.remove', target: { type: 'user', id: userId }, details: { group_id: groupId } });
      });
    },

    // --- for other modules, inside their transaction in the tenant's scope (no permission check: they decide who asks) ---

    /** The groups a person is in (playback's members rule). */
    memberGroupIds: (tx: Tx, tenantId: string, userId: string) => store.groupIdsOf(tx, tenantId, userId),
    /** Which of these ids are groups of the tenant (checking a policy before it is saved). */
    existingGroupIds: (tx: Tx, tenantId: string, ids: readonly string[]) => store.existingGroupIds(tx, tenantId, ids),
  };
}

/** The identity module's group resource for the bulk access check. */
export function registerGroupResource(access: AccessService): void {
  access.register('group', (tx, tenantId, ids) => store.existingGroupIds(tx, tenantId, ids));
}

export type GroupService = ReturnType<typeof createGroupService>;
