// The trash: deleting hides at once and fires video.deleted; restore brings a
// real, transcoded video back playable; the purge removes rows, objects and
// keys, survives an interruption, and destroys a deleted tenant's key first.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { systemContext } from '../src/modules/identity/actor.ts';
import { seeTrash } from '../src/modules/privacy/trash/index.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org, PASSWORD } from './helpers/library.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { keysUnder, tusUpload, waitForStatus } from './fixtures/media-harness.ts';

describe('trash', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  let videoId: string;
  const past = (tenantId: string, table: string) => haven.platform.db.withTenant(tenantId, async (tx) => {
    await seeTrash(tx);
    await sql`update ${sql.table(table)} set purge_after = now() - interval '1 second' where deleted_at is not null`.execute(tx);
  });
  const actions = async (tenantId: string) => (await haven.platform.db.withTenant(tenantId, (tx) =>
    tx.selectFrom('audit_events').select(['action', 'target_id', 'details']).orderBy('id').execute()));

  before(async () => {
    haven = await startTestHaven({ config: { webhooksAllowPrivateTargets: true } });
    org = await createOrg(haven, 'Trash Org');
    other = await createOrg(haven, 'Other Org');
    await org.owner.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['video.deleted'] });
    const clip = readFileSync(makeClip(mkdtempSync(join(tmpdir(), 'trash-')), 'clip', { seconds: 2 }));
    videoId = (await tusUpload(haven.url, org.owner, clip, { title: 'Trashable clip' })).videoId;
    await waitForStatus(org.owner, videoId, 'ready');
  });
  after(async () => haven?.stop());

  test('a deleted video disappears at once, fires video.deleted, and comes back playable', async () => {
    const viewer = await org.as('viewer');
    expectError(await viewer.delete(`/api/v1/videos/${videoId}`), 403, 'forbidden');
    expectError(await other.owner.delete(`/api/v1/videos/${videoId}`), 404, 'video_not_found');
    const del = await org.owner.delete(`/api/v1/videos/${videoId}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.ok(new Date(del.body.purgeAfter).getTime() - Date.now() > 29 * 86_400_000, 'default window is 30 days');

    expectError(await org.owner.get(`/api/v1/videos/${videoId}`), 404, 'video_not_found');
    assert.equal((await org.owner.get('/api/v1/videos?q=Trashable')).body.items.length, 0);
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}/playback`)).status, 404);
    expectError(await org.owner.delete(`/api/v1/videos/${videoId}`), 404, 'video_not_found');

    const events = await haven.platform.db.withTenant(org.tenantId, (tx) => tx.selectFrom('webhook_events').select(['type', 'body']).execute());
    assert.ok(events.some((e) => e.type === 'video.deleted' && JSON.parse(e.body).data.videoId === videoId));
    assert.ok((await actions(org.tenantId)).some((a) => a.action === 'video.trash' && a.target_id === videoId));

    const listed = await org.owner.get('/api/v1/trash?type=video');
    assert.deepEqual(listed.body.items.map((i: any) => [i.type, i.id, i.name]), [['video', videoId, 'Trashable clip']]);
    expectError(await viewer.get('/api/v1/trash'), 403, 'forbidden');
    expectError(await other.owner.post(`/api/v1/trash/video/${videoId}/restore`), 404, 'video_not_found');
    expectError(await org.owner.post(`/api/v1/trash/film/${videoId}/restore`), 400, 'invalid_request');

    const restored = await org.owner.post(`/api/v1/trash/video/${videoId}/restore`);
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}`)).body.status, 'ready');
    const playback = await org.owner.get(`/api/v1/videos/${videoId}/playback`);
    assert.equal(playback.status, 200, JSON.stringify(playback.body));
    const master = await fetch(new URL(playback.body.url, haven.url));
    assert.equal(master.status, 200);
    assert.match(await master.text(), /#EXTM3U/);
    assert.ok((await actions(org.tenantId)).some((a) => a.action === 'video.restore' && a.target_id === videoId));
  });

  test('after the window the purge removes row, objects and keys, and finishes an interrupted purge', async () => {
    const store = haven.platform.storage.forRegion(org.region);
    const prefix = `t/${org.tenantId}/v/${videoId}/`;
    assert.ok((await keysUnder(store, prefix)).length > 3);
    assert.equal((await org.owner.delete(`/api/v1/videos/${videoId}`)).status, 200);
    await past(org.tenantId, 'videos');
    expectError(await org.owner.post(`/api/v1/trash/video/${videoId}/restore`), 410, 'trash_window_passed');

    // Interrupted: claimed and its objects half gone, the row still there.
    await haven.platform.db.withTenant(org.tenantId, async (tx) => {
      await seeTrash(tx);
      await tx.updateTable('videos').set({ purge_started_at: new Date() }).where('id', '=', videoId).execute();
    });
    await store.deletePrefix(`${prefix}hls/`);
    const report = await haven.modules.privacy.trash.purgeDue();
    assert.equal(report.videos, 1);
    assert.deepEqual(await keysUnder(store, prefix), []);
    const row = await haven.platform.db.withTenant(org.tenantId, async (tx) => {
      await seeTrash(tx);
      return tx.selectFrom('videos').select(['id', 'data_key_wrapped']).where('id', '=', videoId).executeTakeFirst();
    });
    assert.equal(row, undefined, 'the row and with it the wrapped keys are gone');
    assert.ok((await actions(org.tenantId)).some((a) => a.action === 'video.purge' && a.target_id === videoId));
    assert.deepEqual(await haven.modules.privacy.trash.purgeDue(), { videos: 0, collections: 0, users: 0, tenants: 0, objects: 0 }, 'idempotent');
  });

  test('collections go to the trash with their subfolders and come back together', async () => {
    const parent = (await org.owner.post('/api/v1/collections', { name: 'Parent' })).body.id;
    const child = (await org.owner.post('/api/v1/collections', { name: 'Child', parentId: parent })).body.id;
    const del = await org.owner.delete(`/api/v1/collections/${parent}`);
    assert.equal(del.body.collectionsDeleted, 2);
    assert.equal((await org.owner.get('/api/v1/collections')).body.items.length, 0);
    expectError(await org.owner.get(`/api/v1/collections/${child}`), 404, 'collection_not_found');
    const trashed = await org.owner.get('/api/v1/trash?type=collection');
    assert.equal(trashed.status, 200, JSON.stringify(trashed.body));
    assert.deepEqual(trashed.body.items.map((i: any) => i.id), [parent]);
    assert.equal((await org.owner.post(`/api/v1/trash/collection/${parent}/restore`)).status, 200);
    assert.equal((await org.owner.get(`/api/v1/collections/${child}`)).body.path[0].id, parent);
    await org.owner.delete(`/api/v1/collections/${parent}`);
    const purge = await org.owner.delete(`/api/v1/trash/collection/${parent}`);
    assert.equal(purge.status, 204);
    assert.equal((await org.owner.get('/api/v1/trash?type=collection')).body.items.length, 0);
    assert.ok((await actions(org.tenantId)).some((a) => a.action === 'collection.purge' && a.target_id === parent));
  });

  test('a removed person cannot sign in or be listed, and can be restored', async () => {
    const editor = await org.as('editor');
    const me = (await editor.get('/api/v1/account')).body;
    const userId = me.id ?? me.user?.id;
    assert.ok(userId, JSON.stringify(me));
    assert.equal((await org.owner.delete(`/api/v1/users/${userId}`)).status, 204);
    assert.ok(!(await org.owner.get('/api/v1/users')).body.items.some((u: any) => u.id === userId));
    assert.notEqual((await editor.get('/api/v1/videos')).status, 200, 'their session ended');
    const again = new ApiClient(haven.url);
    const login = await again.login(`editor@trash-org.test`, PASSWORD);
    assert.notEqual(login.status, 200);
    assert.equal((await org.owner.post(`/api/v1/trash/user/${userId}/restore`)).status, 200);
    await again.signIn(`editor@trash-org.test`, PASSWORD);
    assert.equal((await again.get('/api/v1/videos')).status, 200);
    assert.ok((await actions(org.tenantId)).some((a) => a.action === 'user.trash' && a.target_id === userId));
  });

  test('a deleted tenant refuses its members, comes back on restore, and its purge destroys the key first', async () => {
    const t = await createOrg(haven, 'Doomed Org');
    const vid = await insertVideo(haven, t, { title: 'Doomed video' });
    await haven.platform.storage.forRegion(t.region).put(`t/${t.tenantId}/v/${vid}/original.hvn`, Buffer.from('ciphertext'));
    const ctx = systemContext('operator');
    await haven.modules.tenants.trash(t.tenantId, ctx);
    expectError(await t.owner.get('/api/v1/videos'), 410, 'tenant_deleted');
    await haven.modules.tenants.restore(t.tenantId, ctx);
    assert.equal((await t.owner.get('/api/v1/videos')).status, 200);

    await haven.modules.tenants.trash(t.tenantId, ctx, 0);
    const report = await haven.modules.privacy.trash.purgeDue();
    assert.equal(report.tenants, 1);
    const keys = await haven.platform.db.withTenant(t.tenantId, (tx) => tx.selectFrom('tenant_keys').select(['wrapped_key', 'destroyed_at']).execute());
    assert.ok(keys.length > 0 && keys.every((k) => k.wrapped_key === null && k.destroyed_at));
    assert.deepEqual(await keysUnder(haven.platform.storage.forRegion(t.region), `t/${t.tenantId}/`), []);
    const left = await haven.platform.db.withTenant(t.tenantId, async (tx) => {
      await seeTrash(tx);
      return (await sql<{ n: number }>`select (select count(*) from videos) + (select count(*) from memberships) as n`.execute(tx)).rows[0]!.n;
    });
    assert.equal(Number(left), 0);
    const acts = (await actions(t.tenantId)).map((a) => a.action);
    assert.ok(acts.indexOf('key.tenant_key.destroy') >= 0 && acts.indexOf('key.tenant_key.destroy') < acts.indexOf('tenant.purge'));
    expectError(await t.owner.get('/api/v1/videos'), 401, 'unauthenticated'); // its sessions went with it
    assert.equal((await org.owner.get('/api/v1/videos')).status, 200, 'other tenants carry on');
  });
});
