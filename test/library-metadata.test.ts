// Video metadata over HTTP against a real Haven: reading a video, editing it
// with its audit diff, tag normalization and limits, typed custom fields,
// publish state with scheduled publishing, and the version history that
// replacing a source leaves.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { systemContext } from '../src/modules/identity/actor.ts';
import { createVideoViews, type VideoRow, videoViewColumns } from '../src/modules/library/view.ts';
import { expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

describe('video metadata', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Meta Org');
    other = await createOrg(haven, 'Other Org');
  });
  after(() => haven.stop());

  const auditEvents = async (action: string, targetId: string) => {
    await haven.modules.audit.seal(org.tenantId);
    const res = await org.owner.get(`/api/v1/audit/events?action=${action}&targetId=${targetId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as any[];
  };

  test('a video reads with its status and progress; unknown and other tenants\' ids are 404', async () => {
    const id = await insertVideo(haven, org, { title: 'Quarterly review', status: 'processing', durationMs: 90_000 });
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('videos').set({ progress_percent: 40, progress_step: 'transcode' }).where('id', '=', id).execute());
    const res = await org.owner.get(`/api/v1/videos/${id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.title, 'Quarterly review');
    assert.equal(res.body.status, 'processing');
    assert.deepEqual(res.body.progress, { percent: 40, step: 'transcode' });
    assert.equal(res.body.publishState, 'draft');
    assert.equal(res.body.version, 1);
    assert.deepEqual(res.body.tags, []);
    expectError(await other.owner.get(`/api/v1/videos/${id}`), 404, 'video_not_found');
    expectError(await org.owner.get('/api/v1/videos/00000000-0000-4000-8000-000000000000'), 404, 'video_not_found');
    expectError(await org.owner.get('/api/v1/videos/not-a-uuid'), 400, 'invalid_request');
  });

  test('an edit changes the fields given, normalizes tags and is audited with a diff', async () => {
    const id = await insertVideo(haven, org, { title: 'Draft title', description: 'old words' });
    const res = await org.owner.patch(`/api/v1/videos/${id}`, {
      title: '  Launch keynote  ', language: 'sv', tags: ['  Product Launch ', 'KEYNOTE', 'keynote', 'Tab\tSeparated'],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.title, 'Launch keynote');
    assert.equal(res.body.description, 'old words', 'fields not sent keep their value');
    assert.equal(res.body.language, 'sv');
    assert.deepEqual(res.body.tags, ['product launch', 'keynote', 'tab separated']);

    const [event] = await auditEvents('video.update', id);
    assert.ok(event, 'the edit is in the audit trail');
    assert.deepEqual(event.diff.tags.from, []);
    assert.equal(event.diff.tags.to.masked, true, 'tags with spaces count as free text in the trail');
    assert.equal(event.diff.language.to, 'sv');
    assert.equal(event.diff.title.to.masked, true, 'free text is masked in the trail');
    assert.equal(event.diff.description, undefined, 'unchanged fields are not in the diff');
  });

  test('bad input gets a clear 400: huge tags, too many tags, wrong types', async () => {
    const id = await insertVideo(haven, org, { title: 'Limits' });
    const huge = await org.owner.patch(`/api/v1/videos/${id}`, { tags: ['x'.repeat(10_000)] });
    expectError(huge, 400, 'invalid_request');
    assert.match(huge.body.error.message, /tags\.0.*at most 64 characters/);
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { tags: ['y'.repeat(65)] }), 400, 'invalid_request');
    assert.equal((await org.owner.patch(`/api/v1/videos/${id}`, { tags: [`  ${'z'.repeat(64)}  `] })).status, 200, '64 characters after trimming is fine');
    const many = await org.owner.patch(`/api/v1/videos/${id}`, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) });
    expectError(many, 400, 'invalid_request');
    assert.match(many.body.error.message, /at most 50 tags/);
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { tags: ['   '] }), 400, 'invalid_request');
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { title: '' }), 400, 'invalid_request');
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { language: 'english please' }), 400, 'invalid_request');
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { status: 'ready' }), 400, 'invalid_request');
    const still = await org.owner.get(`/api/v1/videos/${id}`);
    assert.equal(still.body.tags[0], 'z'.repeat(64));
  });

  test('custom fields: admins define typed fields, values are checked against them', async () => {
    const editor = await org.as('editor');
    expectError(await editor.post('/api/v1/custom-fields', { key: 'cost_center', label: 'Cost center', type: 'text' }), 403, 'forbidden');
    const define = async (body: unknown) => {
      const res = await org.owner.post('/api/v1/custom-fields', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };
    await define({ key: 'cost_center', label: 'Cost center', type: 'text' });
    await define({ key: 'budget', label: 'Budget', type: 'number' });
    await define({ key: 'recorded_on', label: 'Recorded on', type: 'date' });
    const audience = await define({ key: 'audience', label: 'Audience', type: 'choice', choices: ['internal', 'partners', 'public'] });
    expectError(await org.owner.post('/api/v1/custom-fields', { key: 'budget', label: 'Again', type: 'number' }), 409, 'custom_field_exists');
    expectError(await org.owner.post('/api/v1/custom-fields', { key: 'Bad Key', label: 'x', type: 'text' }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/custom-fields', { key: 'pick', label: 'x', type: 'choice' }), 400, 'invalid_custom_field');
    expectError(await org.owner.post('/api/v1/custom-fields', { key: 'words', label: 'x', type: 'text', choices: ['a'] }), 400, 'invalid_custom_field');
    const listed = await editor.get('/api/v1/custom-fields');
    assert.deepEqual(listed.body.items.map((f: any) => f.key), ['cost_center', 'budget', 'recorded_on', 'audience']);

    const id = await insertVideo(haven, org, { title: 'Fields' });
    const set = await editor.patch(`/api/v1/videos/${id}`, { customFields: { cost_center: 'R&D 42', budget: 1250.5, recorded_on: '2024-02-29', audience: 'partners' } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.customFields, { cost_center: 'R&D 42', budget: 1250.5, recorded_on: '2024-02-29', audience: 'partners' });

    const wrong = [
      [{ budget: '1250' }, 'budget'],
      [{ budget: true }, 'budget'],
      [{ recorded_on: '2023-02-29' }, 'recorded_on'],
      [{ recorded_on: 20240101 }, 'recorded_on'],
      [{ audience: 'everyone' }, 'audience'],
      [{ cost_center: 12 }, 'cost_center'],
      [{ cost_center: 'x'.repeat(2001) }, 'cost_center'],
    ] as const;
    for (const [customFields, field] of wrong) {
      const res = await editor.patch(`/api/v1/videos/${id}`, { customFields });
      expectError(res, 400, 'invalid_custom_field_value');
      assert.equal(res.body.error.details.field, field);
      assert.ok(res.body.error.message.includes(field), res.body.error.message);
    }
    const unknown = await editor.patch(`/api/v1/videos/${id}`, { customFields: { nonsense: 'x' } });
    expectError(unknown, 400, 'unknown_custom_field');
    assert.deepEqual((await editor.get(`/api/v1/videos/${id}`)).body.customFields.budget, 1250.5, 'a refused change changes nothing');

    const cleared = await editor.patch(`/api/v1/videos/${id}`, { customFields: { cost_center: null } });
    assert.equal(cleared.body.customFields.cost_center, undefined);
    assert.equal(cleared.body.customFields.budget, 1250.5, 'other values stay');

    expectError(await org.owner.patch(`/api/v1/custom-fields/${audience.id}`, { choices: ['internal', 'public'] }), 409, 'choice_in_use');
    const renamed = await org.owner.patch(`/api/v1/custom-fields/${audience.id}`, { label: 'Who may watch', choices: ['internal', 'partners', 'public', 'press'] });
    assert.equal(renamed.status, 200);
    assert.deepEqual(renamed.body.choices, ['internal', 'partners', 'public', 'press']);
    const removed = await org.owner.delete(`/api/v1/custom-fields/${audience.id}`);
    assert.deepEqual(removed.body, { valuesRemoved: 1 });
    assert.equal((await editor.get(`/api/v1/videos/${id}`)).body.customFields.audience, undefined, 'deleting a field removes its values');
    expectError(await other.owner.patch(`/api/v1/custom-fields/${renamed.body.id}`, { label: 'x' }), 404, 'custom_field_not_found');
  });

  test('other modules extend the video view with fields loaded per page', async () => {
    const views = createVideoViews();
    const loaded: string[][] = [];
    views.extend({
      name: 'test',
      fields: { renditionCount: z.number().optional() },
      async load(tx, tenantId, ids) {
        loaded.push(ids);
        const rows = await tx.selectFrom('videos').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
        return new Map(rows.map((r) => [r.id, { renditionCount: 3 }]));
      },
    });
    assert.throws(() => views.extend({ name: 'clash', fields: { title: z.string() }, load: async () => new Map() }), /redefines the field title/);
    assert.ok('renditionCount' in views.schema().shape, 'the field joins the schema (and so OpenAPI)');
    assert.throws(() => views.extend({ name: 'late', fields: { late: z.string() }, load: async () => new Map() }), /after the routes were registered/);
    const ids = [await insertVideo(haven, org, { title: 'One' }), await insertVideo(haven, org, { title: 'Two' })];
    const rendered = await haven.platform.db.withTenant(org.tenantId, async (tx) =>
      views.render(tx, org.tenantId, await Promise.all(ids.map((id) => tx.selectFrom('videos').select([...videoViewColumns]).where('id', '=', id).executeTakeFirstOrThrow() as Promise<VideoRow>))));
    assert.deepEqual(rendered.map((v) => [v.title, v.renditionCount]), [['One', 3], ['Two', 3]]);
    assert.deepEqual(loaded, [ids], 'one load for the whole page');
  });

  test('viewers read videos but cannot change them', async () => {
    const viewer = await org.as('viewer');
    const id = await insertVideo(haven, org, { title: 'Read only' });
    assert.equal((await viewer.get(`/api/v1/videos/${id}`)).status, 200);
    expectError(await viewer.patch(`/api/v1/videos/${id}`, { title: 'Mine now' }), 403, 'forbidden');
  });

  test('publish now, schedule, and the scheduled-publish job flips due videos as the system', async () => {
    const id = await insertVideo(haven, org, { title: 'Release' });
    const now = await org.owner.patch(`/api/v1/videos/${id}`, { publishState: 'published' });
    assert.equal(now.body.publishState, 'published');
    assert.ok(now.body.publishedAt);
    const draft = await org.owner.patch(`/api/v1/videos/${id}`, { publishState: 'draft' });
    assert.equal(draft.body.publishedAt, null);

    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { publishState: 'scheduled' }), 400, 'publish_at_required');
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { publishAt: '2001-01-01T00:00:00Z' }), 400, 'publish_at_in_past');
    expectError(await org.owner.patch(`/api/v1/videos/${id}`, { publishState: 'published', publishAt: '2099-01-01T00:00:00Z' }), 400, 'publish_at_not_allowed');
    const at = new Date(Date.now() + 3600_000);
    const scheduled = await org.owner.patch(`/api/v1/videos/${id}`, { publishAt: at.toISOString() });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    assert.equal(scheduled.body.publishState, 'scheduled');
    assert.equal(new Date(scheduled.body.publishAt).getTime(), at.getTime());

    assert.equal(await haven.modules.library.publishDue(new Date()), 0, 'not due yet');
    assert.equal(await haven.modules.library.publishDue(new Date(at.getTime() + 1000)), 1);
    const published = await org.owner.get(`/api/v1/videos/${id}`);
    assert.equal(published.body.publishState, 'published');
    assert.equal(published.body.publishAt, null);
    assert.equal(new Date(published.body.publishedAt).getTime(), at.getTime(), 'published at the scheduled time');
    assert.equal(await haven.modules.library.publishDue(new Date(at.getTime() + 2000)), 0, 'done once');

    const [event] = await auditEvents('video.publish', id);
    assert.equal(event.actor.type, 'system');
    assert.equal(event.actor.via, 'job:library.publish-scheduled');
    assert.deepEqual(event.diff.published_state, { from: 'scheduled', to: 'published' });
  });

  test('replacing a source keeps the old one as a version', async () => {
    const id = await insertVideo(haven, org, { title: 'Versioned', durationMs: 5000 });
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('videos').set({ source_sha256: 'a'.repeat(64), source_size_bytes: 1000, original_key: 'old/original' }).where('id', '=', id).execute());
    const result = await haven.platform.db.withTenant(org.tenantId, (tx) =>
      haven.modules.library.recordNewVersion(tx, systemContext('media.replace', org.tenantId), org.tenantId, id, { reason: 'fixed audio' }));
    assert.deepEqual(result, { version: 2, previous: 1, previousSource: { originalKey: 'old/original', dataKeyWrapped: null } });
    await haven.platform.db.withTenant(org.tenantId, (tx) => haven.modules.library.recordNewVersion(tx, systemContext('media.replace', org.tenantId), org.tenantId, id));

    const res = await org.owner.get(`/api/v1/videos/${id}/versions`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.current, 3);
    assert.deepEqual(res.body.items.map((v: any) => v.version), [2, 1]);
    assert.equal(res.body.items[1].sourceSha256, 'a'.repeat(64));
    assert.equal(res.body.items[1].reason, 'fixed audio');
    assert.equal(res.body.items[0].createdAt, res.body.items[1].replacedAt, 'a version starts when the one before it was replaced');
    assert.equal((await org.owner.get(`/api/v1/videos/${id}`)).body.version, 3);
    assert.equal((await auditEvents('video.version.create', id)).length, 2);

    await assert.rejects(
      haven.platform.db.withTenant(other.tenantId, (tx) => haven.modules.library.recordNewVersion(tx, systemContext('media.replace', other.tenantId), other.tenantId, id)),
      { code: 'video_not_found' },
    );
    expectError(await other.owner.get(`/api/v1/videos/${id}/versions`), 404, 'video_not_found');
  });
});
