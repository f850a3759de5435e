// Collections: nested folders with moves that cannot make cycles or nest too
// deep, videos in many collections, bulk add and move, deletion of a subtree
// that leaves the videos alone, and the other tenant kept out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideos, type Org } from './helpers/library.ts';

describe('collections', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Folder Org');
    other = await createOrg(haven, 'Folder Other');
  });
  after(() => haven.stop());

  const create = async (name: string, parentId?: string) => {
    const res = await org.owner.post('/api/v1/collections', { name, ...(parentId ? { parentId } : {}) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };

  test('folders nest, move, refuse cycles and stay within the depth limit', async () => {
    const a = await create('Marketing');
    const b = await create('Campaigns', a);
    const c = await create('2024', b);
    const got = await org.owner.get(`/api/v1/collections/${c}`);
    assert.deepEqual(got.body.path.map((p: any) => p.name), ['Marketing', 'Campaigns']);
    assert.equal(got.body.parentId, b);

    expectError(await org.owner.patch(`/api/v1/collections/${a}`, { parentId: c }), 409, 'collection_cycle');
    expectError(await org.owner.patch(`/api/v1/collections/${a}`, { parentId: a }), 409, 'collection_cycle');
    const moved = await org.owner.patch(`/api/v1/collections/${b}`, { parentId: null, name: 'All campaigns' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.parentId, null);
    assert.deepEqual((await org.owner.get(`/api/v1/collections/${c}`)).body.path.map((p: any) => p.name), ['All campaigns']);

    let parent = await create('Deep 1');
    for (let depth = 2; depth <= 20; depth++) parent = await create(`Deep ${depth}`, parent);
    expectError(await org.owner.post('/api/v1/collections', { name: 'Deep 21', parentId: parent }), 409, 'collection_too_deep');
    expectError(await org.owner.patch(`/api/v1/collections/${b}`, { parentId: parent }), 409, 'collection_too_deep');

    expectError(await org.owner.post('/api/v1/collections', { name: '' }), 400, 'invalid_request');
    const theirs = (await other.owner.post('/api/v1/collections', { name: 'Theirs' })).body.id;
    expectError(await org.owner.post('/api/v1/collections', { name: 'Inside theirs', parentId: theirs }), 404, 'collection_not_found');
    expectError(await org.owner.patch(`/api/v1/collections/${a}`, { parentId: theirs }), 404, 'collection_not_found');
    assert.ok(!(await org.owner.get('/api/v1/collections')).body.items.some((x: any) => x.id === theirs));
  });

  test('a video can be in many folders; bulk add ignores repeats; move takes it out of the source', async () => {
    const [v1, v2, v3] = await insertVideos(haven, org, [{ title: 'One' }, { title: 'Two' }, { title: 'Three' }]);
    const inbox = await create('Inbox');
    const archive = await create('Archive');
    const add = await org.owner.post(`/api/v1/collections/${inbox}/videos`, { videoIds: [v1, v2, v3, v1] });
    assert.deepEqual(add.body, { added: 3, removedFromSource: 0 });
    assert.deepEqual((await org.owner.post(`/api/v1/collections/${inbox}/videos`, { videoIds: [v1] })).body, { added: 0, removedFromSource: 0 });
    await org.owner.post(`/api/v1/collections/${archive}/videos`, { videoIds: [v1] });
    assert.deepEqual(new Set((await org.owner.get(`/api/v1/videos/${v1}`)).body.collectionIds), new Set([inbox, archive]));

    const move = await org.owner.post(`/api/v1/collections/${archive}/videos`, { videoIds: [v2, v3], fromCollectionId: inbox });
    assert.deepEqual(move.body, { added: 2, removedFromSource: 2 });
    const list = (await org.owner.get('/api/v1/collections')).body.items;
    assert.equal(list.find((x: any) => x.id === inbox).videoCount, 1);
    assert.equal(list.find((x: any) => x.id === archive).videoCount, 3);

    assert.equal((await org.owner.delete(`/api/v1/collections/${archive}/videos/${v3}`)).status, 204);
    expectError(await org.owner.delete(`/api/v1/collections/${archive}/videos/${v3}`), 404, 'video_not_found');

    const [theirVideo] = await insertVideos(haven, other, [{ title: 'Not yours' }]);
    const refused = await org.owner.post(`/api/v1/collections/${inbox}/videos`, { videoIds: [v1, theirVideo] });
    expectError(refused, 404, 'video_not_found');
    assert.deepEqual(refused.body.error.details.missing, [theirVideo]);
    expectError(await org.owner.post(`/api/v1/collections/${inbox}/videos`, { videoIds: [] }), 400, 'invalid_request');
    expectError(await org.owner.post(`/api/v1/collections/${inbox}/videos`, { videoIds: Array.from({ length: 501 }, () => v1) }), 400, 'invalid_request');

    const editor = await org.as('editor');
    assert.equal((await editor.post(`/api/v1/collections/${inbox}/videos`, { videoIds: [v3] })).status, 200);
    const viewer = await org.as('viewer');
    assert.equal((await viewer.get('/api/v1/collections')).status, 200);
    expectError(await viewer.post('/api/v1/collections', { name: 'Mine' }), 403, 'forbidden');
    expectError(await viewer.post(`/api/v1/collections/${inbox}/videos`, { videoIds: [v3] }), 403, 'forbidden');
  });

  test('deleting a folder deletes its subfolders and keeps the videos; changes are audited', async () => {
    const top = await create('Projects');
    const sub = await create('Alpha', top);
    await create('Specs', sub);
    const [video] = await insertVideos(haven, org, [{ title: 'Kept' }]);
    await org.owner.post(`/api/v1/collections/${sub}/videos`, { videoIds: [video] });
    const removed = await org.owner.delete(`/api/v1/collections/${top}`);
    assert.equal(removed.body.collectionsDeleted, 3);
    assert.ok(Date.parse(removed.body.purgeAfter) > Date.now(), 'the collections wait in the trash');
    expectError(await org.owner.get(`/api/v1/collections/${sub}`), 404, 'collection_not_found');
    const still = await org.owner.get(`/api/v1/videos/${video}`);
    assert.equal(still.status, 200);
    assert.deepEqual(still.body.collectionIds, []);

    await haven.modules.audit.seal(org.tenantId);
    const events = (await org.owner.get(`/api/v1/audit/events?action=collection&targetId=${top}`)).body.items;
    assert.deepEqual(events.map((e: any) => e.action).sort(), ['collection.create', 'collection.trash']);
    assert.equal(events.find((e: any) => e.action === 'collection.trash').details.collectionsDeleted, 3);
  });
});
