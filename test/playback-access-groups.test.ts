// The members rule by group over HTTP: a member of the group gets a playback
// token and a non-member the policy's denial; taking someone out of the
// group (or deleting the group) stops their playback at the next key fetch,
// announced by the trigger of migrations/0024 to the node's grant cache.
// The video is a row marked ready with one ready rendition and its keys: the
// key endpoint does not look at media bytes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureVideoKeys } from '../src/modules/media/keys.ts';
import { grantHolds, type GrantFacts } from '../src/modules/playback/access/grant-cache.ts';
import type { GrantBasis } from '../src/modules/playback/contracts.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

const SALES = '33333333-3333-4333-8333-333333333333';

describe('grantHolds for a grant admitted by a members rule', () => {
  const basis: GrantBasis = { tenantId: SALES, videoId: SALES, region: 'eu', policyVersion: 1, viewer: { kind: 'member', id: SALES }, bindIp: false, membersRule: true };
  const facts: GrantFacts = {
    policyVersion: 1, availableFrom: null, availableUntil: null, linkOk: true, linkExpiresAt: null, staff: false,
    member: { role: 'viewer', groupIds: [SALES] }, membersRule: { type: 'members', groups: [SALES] },
  };
  const now = Date.now();
  const cases: [string, Partial<GrantFacts>, Partial<GrantBasis>, boolean][] = [
    ['still in the group', {}, {}, true],
    ['out of the group', { member: { role: 'viewer', groupIds: [] } }, {}, false],
    ['no longer an active member', { member: null }, {}, false],
    ['promoted to staff meanwhile', { member: { role: 'editor', groupIds: [] }, staff: true }, {}, true],
    ['the rule no longer exists (same version cannot say so; defensive)', { membersRule: null }, {}, false],
    ['a grant admitted otherwise (public, password) does not depend on the group', { member: { role: 'viewer', groupIds: [] } }, { membersRule: undefined }, true],
    ['role dropped out of the rule', { member: { role: 'viewer', groupIds: [SALES] }, membersRule: { type: 'members', roles: ['admin'], groups: [SALES] } }, {}, false],
  ];
  for (const [name, f, b, expected] of cases) {
    test(name, () => assert.equal(grantHolds({ ...facts, ...f }, { ...basis, ...b }, now), expected));
  }
});

describe('playback by group', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  let videoId: string;
  let sales: string;
  let inGroup: ApiClient;
  let outside: ApiClient;
  let inGroupId: string;
  let outsideId: string;

  const q = async (text: string, values: unknown[] = []) => (await haven.platform.db.ownerPool.query(text, values)).rows;
  const setPolicy = (body: unknown) => org.owner.call('PUT', `/api/v1/videos/${videoId}/access`, body);
  const playback = async (api: ApiClient) => {
    const res = await api.get(`/api/v1/videos/${videoId}/playback`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { token: string };
  };
  const key = (token: string) => fetch(new URL(`/play/${token}/key`, haven.url));
  const keyStatus = async (token: string) => {
    const res = await key(token);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status === 403) assert.equal(JSON.parse(body.toString()).error.code, 'playback_grant_revoked');
    if (res.status === 200) assert.equal(body.length, 16, 'the AES-128 key');
    return res.status;
  };
  /** The node's grant cache listens (its barrier answers), so key fetches are answered from memory. */
  const cacheLive = async () => {
    const grants = haven.modules.playback.grants;
    for (const deadline = Date.now() + 10_000; !grants.live; await new Promise((r) => setTimeout(r, 20))) {
      assert.ok(Date.now() < deadline, 'the playback grant listener came up');
    }
    return grants;
  };

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Group Playback');
    other = await createOrg(haven, 'Group Playback Other');
    inGroup = await org.as('viewer');
    // A second viewer of the same organization, outside the group.
    outside = await org.as('editor');
    const ids = Object.fromEntries(((await org.owner.get('/api/v1/users')).body.items as { id: string; email: string }[]).map((u) => [u.email.split('@')[0]!, u.id]));
    inGroupId = ids.viewer!;
    outsideId = ids.editor!;
    // The "outside" person is a viewer too (editors are staff and always preview).
    assert.equal((await org.owner.patch(`/api/v1/users/${outsideId}`, { role: 'viewer' })).status, 200);
    outside = new ApiClient(haven.url);
    await outside.signIn('editor@group-playback.test', 'correct horse battery staple');

    videoId = await insertVideo(haven, org, { title: 'Sales kickoff', publishedState: 'published' });
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.insertInto('renditions').values({
      video_id: videoId, tenant_id: org.tenantId, name: '240p', kind: 'video', width: 426, height: 240, bandwidth: 400_000,
      codecs: 'avc1.42c015', playlist_key: 'unused', segment_count: 1, status: 'ready', ready_at: new Date(),
    }).execute());
    await ensureVideoKeys(haven.platform.db, haven.platform.keyring, org.tenantId, videoId);

    const created = await org.owner.post('/api/v1/groups', { name: 'Sales' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    sales = created.body.id;
    assert.equal((await org.owner.post(`/api/v1/groups/${sales}/members`, { userIds: [inGroupId] })).status, 200);
  });
  after(() => haven.stop());

  test('the policy names groups of the organization only', async () => {
    const saved = await setPolicy({ audiences: [{ type: 'members', groups: [sales] }] });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body.audiences, [{ type: 'members', groups: [sales] }]);
    const theirs = (await other.owner.post('/api/v1/groups', { name: 'Sales' })).body.id;
    const refused = await setPolicy({ audiences: [{ type: 'members', groups: [sales, theirs] }] });
    expectError(refused, 404, 'group_not_found');
    assert.deepEqual(refused.body.error.details, { groups: [theirs] });
    expectError(await setPolicy({ audiences: [{ type: 'members', groups: ['00000000-0000-4000-8000-000000000000'] }] }), 404, 'group_not_found');
    expectError(await setPolicy({ audiences: [{ type: 'members', groups: ['Sales'] }] }), 400, 'invalid_request');
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}/access`)).body.version, 1, 'nothing stored');
  });

  test('a member of the group gets a token; a member outside it, someone anonymous and someone of another organization do not', async () => {
    await setPolicy({ audiences: [{ type: 'members', groups: [sales] }] });
    const p = await playback(inGroup);
    assert.ok(p.token);
    expectError(await outside.get(`/api/v1/videos/${videoId}/playback`), 403, 'group_not_allowed');
    const anon = await new ApiClient(haven.url).get(`/api/v1/videos/${videoId}/playback`);
    expectError(anon, 401, 'signin_required');
    expectError(await other.owner.get(`/api/v1/videos/${videoId}/playback`), 404, 'video_not_found');
    const denied = await q(`select details from audit_events where tenant_id = $1 and action = 'playback.denied' and target_id = $2`, [org.tenantId, videoId]);
    assert.ok(denied.some((d) => d.details.code === 'group_not_allowed'), 'the denial is audited with its reason');
    // Staff preview whatever their groups.
    assert.ok((await playback(org.owner)).token);
  });

  test('removing the person from the group stops their key at the next fetch; adding them back lets them start again', async () => {
    await setPolicy({ audiences: [{ type: 'members', groups: [sales] }] });
    const grants = await cacheLive();
    const p = await playback(inGroup);
    assert.equal(await keyStatus(p.token), 200);
    assert.equal(await keyStatus(p.token), 200);
    assert.ok(grants.size > 0, 'the grant is kept in memory');

    assert.equal((await org.owner.delete(`/api/v1/groups/${sales}/members/${inGroupId}`)).status, 204);
    assert.equal(await keyStatus(p.token), 403, 'the next key fetch after the removal is refused');
    const [event] = await q(`select details from audit_events where tenant_id = $1 and action = 'playback.key.denied' order by id desc limit 1`, [org.tenantId]);
    assert.equal(event.details.reason, 'grant_no_longer_valid');
    expectError(await inGroup.get(`/api/v1/videos/${videoId}/playback`), 403, 'group_not_allowed');

    assert.equal((await org.owner.post(`/api/v1/groups/${sales}/members`, { userIds: [inGroupId] })).status, 200);
    const again = await playback(inGroup);
    assert.equal(await keyStatus(again.token), 200, 'a new playback after being added back');
  });

  test('the trigger, not the writer, tells the cache: a removal written unannounced is seen once it is announced', async () => {
    await setPolicy({ audiences: [{ type: 'members', groups: [sales] }] });
    await cacheLive();
    const p = await playback(inGroup);
    assert.equal(await keyStatus(p.token), 200);
    const owner = await haven.platform.db.ownerPool.connect();
    try {
      await owner.query('begin');
      await owner.query('set local session_replication_role = replica');
      await owner.query('delete from group_members where group_id = $1 and user_id = $2', [sales, inGroupId]);
      await owner.query('commit');
    } finally {
      owner.release();
    }
    assert.equal(await keyStatus(p.token), 200, 'served from the cache: nothing announced the change');
    // The announcement the trigger makes, for this person only.
    await q(`select pg_notify('haven_playback_changed', $1)`, [`m:${org.tenantId}:${inGroupId}`]);
    assert.equal(await keyStatus(p.token), 403, 'the announcement drops the person\'s entries');
    await org.owner.post(`/api/v1/groups/${sales}/members`, { userIds: [inGroupId] });
  });

  test('deleting the group ends playback through it; a policy naming the deleted group can still be saved, and admits nobody through it', async () => {
    const temp = (await org.owner.post('/api/v1/groups', { name: 'Temporary' })).body.id;
    await org.owner.post(`/api/v1/groups/${temp}/members`, { userIds: [outsideId] });
    assert.equal((await setPolicy({ audiences: [{ type: 'members', groups: [temp] }] })).status, 200);
    await cacheLive();
    const p = await playback(outside);
    assert.equal(await keyStatus(p.token), 200);
    assert.equal((await org.owner.delete(`/api/v1/groups/${temp}`)).status, 204);
    assert.equal(await keyStatus(p.token), 403);
    expectError(await outside.get(`/api/v1/videos/${videoId}/playback`), 403, 'group_not_allowed');
    const resaved = await setPolicy({ audiences: [{ type: 'members', groups: [temp] }], conditions: { bindToIp: false } });
    assert.equal(resaved.status, 200, 'an id the stored policy had may stay');
  });

  test('a grant admitted otherwise (as anyone, by a public audience) does not depend on the group', async () => {
    await setPolicy({ audiences: [{ type: 'members', groups: [sales] }, { type: 'public' }] });
    await cacheLive();
    const p = await playback(inGroup);
    assert.equal((await org.owner.delete(`/api/v1/groups/${sales}/members/${inGroupId}`)).status, 204);
    assert.equal(await keyStatus(p.token), 200, 'admitted as anyone, not as a member of the group');
    await org.owner.post(`/api/v1/groups/${sales}/members`, { userIds: [inGroupId] });
  });

  test('removing the person from the organization ends playback the group granted', async () => {
    await setPolicy({ audiences: [{ type: 'members', groups: [sales] }] });
    await cacheLive();
    const p = await playback(inGroup);
    assert.equal(await keyStatus(p.token), 200);
    assert.equal((await org.owner.delete(`/api/v1/users/${inGroupId}`)).status, 204);
    assert.equal(await keyStatus(p.token), 403);
  });
});
