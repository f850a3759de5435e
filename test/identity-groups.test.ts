// Groups of people against a real Haven: the admin routes and who may call
// them, clear errors for bad input and other tenants' ids, the audit events
// written with each change, and what happens to memberships when a person
// leaves the organization or is erased.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemContext } from '../src/modules/identity/actor.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { eraseSubject } from '../src/modules/privacy/erasure/index.ts';
import { type ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, type Org } from './helpers/library.ts';

const NO_ID = '00000000-0000-4000-8000-000000000000';

describe('groups', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  let people: Record<string, string>;
  let editor: ApiClient;
  let viewer: ApiClient;

  const q = async (text: string, values: unknown[] = []) => (await haven.platform.db.ownerPool.query(text, values)).rows;
  const events = (tenantId: string, action: string) =>
    q('select target_type, target_id, details, diff from audit_events where tenant_id = $1 and action = $2 order by id', [tenantId, action]);
  const idsByEmail = async (o: Org) => Object.fromEntries(((await o.owner.get('/api/v1/users')).body.items as { id: string; email: string }[]).map((u) => [u.email.split('@')[0]!, u.id]));
  const createGroup = async (name: string, description?: string) => {
    const res = await org.owner.post('/api/v1/groups', { name, ...(description === undefined ? {} : { description }) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; name: string; description: string; memberCount: number };
  };

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Groups Org');
    other = await createOrg(haven, 'Groups Other');
    editor = await org.as('editor');
    viewer = await org.as('viewer');
    await org.as('admin');
    await other.as('viewer');
    people = await idsByEmail(org);
  });
  after(() => haven.stop());

  test('admins create, rename, describe, list and delete groups; each change is audited', async () => {
    const sales = await createGroup('  Sales\u00a0 EMEA ', 'Field sales in Europe');
    assert.equal(sales.name, 'Sales EMEA', 'white space normalized');
    assert.equal(sales.description, 'Field sales in Europe');
    assert.equal(sales.memberCount, 0);
    const [created] = await events(org.tenantId, 'group.create');
    assert.equal(created.target_type, 'group');
    assert.equal(created.target_id, sales.id);

    const renamed = await org.owner.patch(`/api/v1/groups/${sales.id}`, { name: 'Sales Europe', description: '' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.name, 'Sales Europe');
    assert.equal(renamed.body.description, '');
    assert.equal((await events(org.tenantId, 'group.update')).length, 1);
    // No change, no event.
    assert.equal((await org.owner.patch(`/api/v1/groups/${sales.id}`, { name: 'Sales Europe' })).status, 200);
    assert.equal((await events(org.tenantId, 'group.update')).length, 1);

    const admin = await org.as('admin');
    const board = await admin.post('/api/v1/groups', { name: 'Board' });
    assert.equal(board.status, 201, 'admins manage groups too');
    const listed = await org.owner.get('/api/v1/groups');
    assert.deepEqual(listed.body.items.map((g: any) => g.name), ['Board', 'Sales Europe']);
    assert.deepEqual((await org.owner.get(`/api/v1/groups/${sales.id}`)).body.name, 'Sales Europe');

    assert.equal((await org.owner.delete(`/api/v1/groups/${board.body.id}`)).status, 204);
    expectError(await org.owner.get(`/api/v1/groups/${board.body.id}`), 404, 'group_not_found');
    const [deleted] = await events(org.tenantId, 'group.delete');
    assert.equal(deleted.target_id, board.body.id);
  });

  test('names are unique in the organization whatever their case; bad input is refused with a code', async () => {
    const first = await createGroup('Engineering');
    expectError(await org.owner.post('/api/v1/groups', { name: 'ENGINEERING' }), 409, 'group_name_taken');
    expectError(await org.owner.post('/api/v1/groups', { name: 'Ｅｎｇｉｎｅｅｒｉｎｇ' }), 409, 'group_name_taken');
    const second = await createGroup('Design');
    expectError(await org.owner.patch(`/api/v1/groups/${second.id}`, { name: 'engineering' }), 409, 'group_name_taken');
    // Another organization may use the same name.
    assert.equal((await other.owner.post('/api/v1/groups', { name: 'Engineering' })).status, 201);
    // Changing only the case of one's own name is fine.
    assert.equal((await org.owner.patch(`/api/v1/groups/${first.id}`, { name: 'engineering' })).body.name, 'engineering');

    expectError(await org.owner.post('/api/v1/groups', { name: '   ' }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/groups', { name: 'x'.repeat(101) }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/groups', { name: 'Zero\u200bwidth' }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/groups', { name: 'Bell\u0007' }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/groups', { name: 'Ok', description: 'd'.repeat(1001) }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/groups', { name: 'Ok', extra: true }), 400, 'invalid_request');
    expectError(await org.owner.post(`/api/v1/groups/${first.id}/members`, { userIds: ['not-an-id'] }), 400, 'invalid_request');
    expectError(await org.owner.post(`/api/v1/groups/${first.id}/members`, { userIds: [] }), 400, 'invalid_request');
    expectError(await org.owner.get('/api/v1/groups/not-an-id'), 400, 'invalid_request');
  });

  test('editors see group names (to choose a video\'s audience) but change nothing; viewers see none', async () => {
    const g = await createGroup('Visible to editors');
    const listed = await editor.get('/api/v1/groups');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.ok(listed.body.items.some((x: any) => x.id === g.id));
    expectError(await editor.post('/api/v1/groups', { name: 'Editors cannot' }), 403, 'forbidden');
    expectError(await editor.get(`/api/v1/groups/${g.id}/members`), 403, 'forbidden');
    expectError(await editor.post(`/api/v1/groups/${g.id}/members`, { userIds: [people.viewer] }), 403, 'forbidden');
    expectError(await editor.delete(`/api/v1/groups/${g.id}`), 403, 'forbidden');
    expectError(await viewer.get('/api/v1/groups'), 403, 'forbidden');
  });

  test('members: add (idempotent), list, remove; unknown people and other tenants\' ids are not found', async () => {
    const g = await createGroup('Support');
    const added = await org.owner.post(`/api/v1/groups/${g.id}/members`, { userIds: [people.viewer, people.editor, people.viewer] });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(added.body.added.sort(), [people.viewer, people.editor].sort());
    assert.deepEqual(added.body.items.map((m: any) => m.id).sort(), [people.viewer, people.editor].sort());
    const again = await org.owner.post(`/api/v1/groups/${g.id}/members`, { userIds: [people.viewer] });
    assert.deepEqual(again.body.added, [], 'already in the group');
    assert.equal((await org.owner.get(`/api/v1/groups/${g.id}`)).body.memberCount, 2);

    const listed = await org.owner.get(`/api/v1/groups/${g.id}/members`);
    const member = listed.body.items.find((m: any) => m.id === people.viewer);
    assert.equal(member.role, 'viewer');
    assert.equal(member.email, 'viewer@groups-org.test');
    const adds = await events(org.tenantId, 'group.member.add');
    assert.equal(adds.length, 2, 'one event per person added, none for the repeat');
    assert.ok(adds.every((e) => e.target_type === 'user' && e.details.group_id === g.id));

    const theirs = await idsByEmail(other);
    const theirGroup = (await other.owner.post('/api/v1/groups', { name: 'Theirs' })).body.id;
    expectError(await org.owner.post(`/api/v1/groups/${g.id}/members`, { userIds: [theirs.viewer] }), 404, 'user_not_found');
    expectError(await org.owner.post(`/api/v1/groups/${g.id}/members`, { userIds: [people.admin, NO_ID] }), 404, 'user_not_found');
    assert.equal((await org.owner.get(`/api/v1/groups/${g.id}`)).body.memberCount, 2, 'nothing added when one id is unknown');
    expectError(await org.owner.post(`/api/v1/groups/${theirGroup}/members`, { userIds: [people.viewer] }), 404, 'group_not_found');
    expectError(await org.owner.get(`/api/v1/groups/${theirGroup}/members`), 404, 'group_not_found');
    expectError(await org.owner.patch(`/api/v1/groups/${theirGroup}`, { name: 'Mine now' }), 404, 'group_not_found');
    expectError(await org.owner.delete(`/api/v1/groups/${theirGroup}`), 404, 'group_not_found');
    expectError(await org.owner.delete(`/api/v1/groups/${theirGroup}/members/${theirs.viewer}`), 404, 'group_not_found');
    assert.equal((await other.owner.get(`/api/v1/groups/${theirGroup}`)).body.name, 'Theirs', 'untouched');

    assert.equal((await org.owner.delete(`/api/v1/groups/${g.id}/members/${people.editor}`)).status, 204);
    expectError(await org.owner.delete(`/api/v1/groups/${g.id}/members/${people.editor}`), 404, 'group_member_not_found');
    const [removed] = await events(org.tenantId, 'group.member.remove');
    assert.equal(removed.target_id, people.editor);
    assert.equal(removed.details.group_id, g.id);
    assert.deepEqual((await org.owner.get(`/api/v1/groups/${g.id}/members`)).body.items.map((m: any) => m.id), [people.viewer]);

    // Deleting the group takes its memberships, not the people.
    assert.equal((await org.owner.delete(`/api/v1/groups/${g.id}`)).status, 204);
    assert.equal((await q('select count(*)::int as n from group_members where group_id = $1', [g.id]))[0].n, 0);
    assert.ok((await org.owner.get('/api/v1/users')).body.items.some((u: any) => u.id === people.viewer));
  });

  test('a person in the trash drops out of groups and is back when restored; erasing the person removes their rows', async () => {
    const g = await createGroup('Leavers');
    const leaver = await haven.platform.db.withTenant(org.tenantId, async (tx) =>
      (await addMember(tx, org.tenantId, { email: 'leaver@groups-org.test', role: 'viewer' })).userId);
    await org.owner.post(`/api/v1/groups/${g.id}/members`, { userIds: [leaver, people.viewer] });
    assert.equal((await org.owner.delete(`/api/v1/users/${leaver}`)).status, 204);
    assert.deepEqual((await org.owner.get(`/api/v1/groups/${g.id}/members`)).body.items.map((m: any) => m.id), [people.viewer], 'hidden while in the trash');
    assert.equal((await org.owner.get(`/api/v1/groups/${g.id}`)).body.memberCount, 1);
    expectError(await org.owner.post(`/api/v1/groups/${g.id}/members`, { userIds: [leaver] }), 404, 'user_not_found');
    // Restored: back in the group.
    assert.equal((await org.owner.post(`/api/v1/trash/user/${leaver}/restore`, {})).status, 200);
    assert.equal((await org.owner.get(`/api/v1/groups/${g.id}`)).body.memberCount, 2);

    // Erasure: the data map says the membership row goes, and who added it is forgotten.
    await q('update groups set created_by = $1 where id = $2', [leaver, g.id]);
    const report = await eraseSubject({ platform: haven.platform, audit: haven.modules.audit, staging: haven.modules.media.staging }, { email: 'leaver@groups-org.test' }, systemContext('test.erasure'));
    assert.equal(report.state, 'done', 'the erasure verified that no copy of the person is left');
    assert.equal((await q('select count(*)::int as n from group_members where user_id = $1', [leaver]))[0].n, 0);
    assert.equal((await q('select created_by from groups where id = $1', [g.id]))[0].created_by, null);
    assert.deepEqual((await org.owner.get(`/api/v1/groups/${g.id}/members`)).body.items.map((m: any) => m.id), [people.viewer]);
  });
});
