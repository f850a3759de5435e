// Data-subject requests: every intake channel, the emailed code of the
// unauthenticated channel (expiry, throttling, no disclosure of whether the
// person exists), duplicates, the approval flow, the deadline reminders, and
// the audit trail of every transition.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemContext } from '../src/modules/identity/actor.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { dueDate } from '../src/modules/privacy/dsar/index.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, type Org, PASSWORD } from './helpers/library.ts';
import { parseMail } from './helpers/mime.ts';

let haven: TestHaven;
let org: Org;

function mails(): { to: string; subject: string; text: string }[] {
  const dir = join(haven.dataDir, 'mail-outbox');
  let files: string[] = [];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort(); } catch { return []; }
  return files.map((f) => {
    const m = parseMail(readFileSync(join(dir, f), 'utf8'));
    return { to: m.headers.get('to') ?? '', subject: m.headers.get('subject') ?? '', text: (m.text ?? '').replace(/=\r?\n/g, '').replace(/=3D/g, '=') };
  });
}
const mailsTo = (addr: string) => mails().filter((m) => m.to.includes(addr));
const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1];

async function waitState(id: string, states: string[]): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const row = await haven.platform.db.withPlatform((tx) => tx.selectFrom('privacy_requests').selectAll().where('id', '=', id).executeTakeFirst());
    if (row && states.includes(row.state)) return row;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`request ${id} never reached ${states.join('/')}`);
}

async function actions(tenantId: string, id: string): Promise<string[]> {
  const rows = await haven.platform.db.withTenant(tenantId, (tx) => tx.selectFrom('audit_events').select('action').where('target_id', '=', id).orderBy('id').execute());
  return rows.map((r) => r.action);
}

before(async () => {
  haven = await startTestHaven();
  org = await createOrg(haven, 'Dsar Org');
});
after(async () => haven?.stop());

describe('data-subject requests', () => {
  it('due date is received plus one month', () => {
    assert.equal(dueDate(new Date('2025-01-31T10:00:00Z')).toISOString(), '2025-02-28T10:00:00.000Z');
    assert.equal(dueDate(new Date('2025-03-15T00:00:00Z')).toISOString(), '2025-04-15T00:00:00.000Z');
  });

  it('self-service: a signed-in person files about themself, and it is processed', async () => {
    const viewer = await org.as('viewer');
    const created = await viewer.post('/api/v1/privacy/requests', { type: 'restriction' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.subjectEmail, `viewer@${org.slug}.test`);
    assert.equal(created.body.channel, 'self');
    assert.ok(new Date(created.body.dueAt).getTime() > Date.now() + 27 * 86_400_000);

    const done = await waitState(created.body.id, ['complete', 'error']);
    assert.equal(done.state, 'complete', done.error);
    assert.equal(done.result.restricted, 1);
    const flag = await haven.platform.db.withTenant(org.tenantId, (tx) => tx.selectFrom('privacy_restrictions').selectAll().execute());
    assert.equal(flag.length, 1);
    assert.equal(flag[0]!.subject_kind, 'user');
    assert.deepEqual(await actions(org.tenantId, created.body.id), ['privacy.request.create', 'privacy.request.approve', 'privacy.request.process', 'privacy.request.complete']);
    const own = await viewer.get('/api/v1/privacy/requests');
    assert.deepEqual(own.body.items.map((r: any) => r.id), [created.body.id]);
  });

  it('public channel: code by mail, wrong codes throttled, expiry, unknown subject indistinguishable and completes empty', async () => {
    const anon = new ApiClient(haven.url);
    const known = await anon.post('/api/v1/privacy/public-requests', { email: `owner@${org.slug}.test`, type: 'access', tenant: org.slug });
    const unknown = await anon.post('/api/v1/privacy/public-requests', { email: 'nobody@nowhere.test', type: 'access', tenant: org.slug });
    assert.equal(known.status, 202);
    assert.equal(unknown.status, 202);
    assert.deepEqual(Object.keys(known.body).sort(), Object.keys(unknown.body).sort());
    assert.equal(known.body.state, 'identity_unverified');
    assert.equal(unknown.body.state, 'identity_unverified');
    expectError(await anon.post('/api/v1/privacy/public-requests', { email: 'x@y.test', type: 'access', tenant: 'no-such-org' }), 404, 'tenant_not_found');
    expectError(await anon.post('/api/v1/privacy/public-requests', { email: 'not an email', type: 'access', tenant: org.slug }), 400, 'invalid_request');

    const codeKnown = codeIn(mailsTo(`owner@${org.slug}.test`).at(-1)!.text)!;
    const codeUnknown = codeIn(mailsTo('nobody@nowhere.test').at(-1)!.text)!;
    assert.match(codeKnown, /^\d{6}$/);

    // Wrong codes: 400 four times, then 429 and the code is dead (even the right one).
    const wrong = codeKnown === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) expectError(await anon.post(`/api/v1/privacy/public-requests/${known.body.id}/verify`, { code: wrong }), 400, 'code_invalid');
    expectError(await anon.post(`/api/v1/privacy/public-requests/${known.body.id}/verify`, { code: wrong }), 429, 'code_attempts_exceeded');
    expectError(await anon.post(`/api/v1/privacy/public-requests/${known.body.id}/verify`, { code: codeKnown }), 429, 'code_attempts_exceeded');

    // Filing again reuses the open request with a fresh code; then let it expire honestly.
    const again = await anon.post('/api/v1/privacy/public-requests', { email: `owner@${org.slug}.test`, type: 'access', tenant: org.slug });
    assert.equal(again.body.id, known.body.id);
    const fresh = codeIn(mailsTo(`owner@${org.slug}.test`).at(-1)!.text)!;
    await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('privacy_requests').set({ code_expires_at: new Date(Date.now() - 1000) }).where('id', '=', known.body.id).execute());
    expectError(await anon.post(`/api/v1/privacy/public-requests/${known.body.id}/verify`, { code: fresh }), 410, 'code_expired');

    // The unknown subject verifies and the request completes with an empty result.
    const verified = await anon.post(`/api/v1/privacy/public-requests/${unknown.body.id}/verify`, { code: codeUnknown });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(verified.body.state, 'approved');
    const done = await waitState(unknown.body.id, ['complete', 'error']);
    assert.equal(done.state, 'complete', done.error);
    // Nothing but the request itself (which is the subject's own data) is found.
    assert.deepEqual(Object.keys(done.result.rowsPerTable), ['privacy_requests']);
    assert.equal(done.result.identities.users, 0);
    assert.ok(mailsTo('nobody@nowhere.test').some((m) => m.text.includes('/api/v1/privacy/exports/')), 'the archive link is mailed');
    const trail = await actions(org.tenantId, unknown.body.id);
    for (const a of ['privacy.request.create', 'privacy.request.verify', 'privacy.request.approve', 'privacy.request.process', 'privacy.request.complete']) assert.ok(trail.includes(a), `${a} in ${trail}`);
    assert.ok((await actions(org.tenantId, known.body.id)).filter((a) => a === 'privacy.request.verify').length >= 5, 'failed verifications are audited');
    expectError(await anon.post('/api/v1/privacy/public-requests/00000000-0000-4000-8000-000000000000/verify', { code: '123456' }), 404, 'request_not_found');
  });

  it('approval: with requireApproval on, requests wait for the admin, who approves or denies; a duplicate of an open one is 409', async () => {
    const viewer = await org.as('viewer');
    expectError(await viewer.patch('/api/v1/privacy/dsar-settings', { requireApproval: true }), 403, 'forbidden');
    const set = await org.owner.patch('/api/v1/privacy/dsar-settings', { requireApproval: true });
    assert.equal(set.status, 200);
    assert.equal(set.body.requireApproval, true);

    const editor = await org.as('editor');
    const mine = await editor.post('/api/v1/privacy/requests', { type: 'access' });
    assert.equal(mine.body.state, 'pending');
    // Open until decided (without approval it may be processed before a second request arrives).
    const dup = await editor.post('/api/v1/privacy/requests', { type: 'access' });
    expectError(dup, 409, 'request_exists');
    assert.equal(dup.body.error.details.id, mine.body.id);
    assert.ok(mailsTo(`owner@${org.slug}.test`).some((m) => m.subject.includes('approval')), 'admins are told');
    const listed = await org.owner.get('/api/v1/privacy/tenant-requests?state=pending');
    assert.ok(listed.body.items.some((r: any) => r.id === mine.body.id));
    expectError(await viewer.get('/api/v1/privacy/tenant-requests'), 403, 'forbidden');
    expectError(await viewer.post(`/api/v1/privacy/tenant-requests/${mine.body.id}/approve`, {}), 403, 'forbidden');

    const approved = await org.owner.post(`/api/v1/privacy/tenant-requests/${mine.body.id}/approve`, {});
    assert.equal(approved.body.state, 'approved');
    expectError(await org.owner.post(`/api/v1/privacy/tenant-requests/${mine.body.id}/approve`, {}), 409, 'request_not_pending');
    assert.equal((await waitState(mine.body.id, ['complete', 'error'])).state, 'complete');

    const other = await editor.post('/api/v1/privacy/requests', { type: 'rectification', note: 'My display name is misspelled' });
    assert.equal(other.body.state, 'pending');
    const denied = await org.owner.post(`/api/v1/privacy/tenant-requests/${other.body.id}/deny`, { reason: 'Already corrected.' });
    assert.equal(denied.body.state, 'denied');
    assert.deepEqual(await actions(org.tenantId, other.body.id), ['privacy.request.create', 'privacy.request.deny']);
    await org.owner.patch('/api/v1/privacy/dsar-settings', { requireApproval: false });
  });

  it('tenant admin files on behalf of a viewer; rectification goes to the admins and completes on approval', async () => {
    const made = await org.owner.post('/api/v1/privacy/tenant-requests', { email: 'Registrant@Example.test', type: 'rectification', note: 'Wrong company name' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.subjectEmail, 'registrant@example.test');
    assert.equal(made.body.state, 'pending');
    expectError(await org.owner.post('/api/v1/privacy/tenant-requests', { email: 'registrant@example.test', type: 'rectification' }), 409, 'request_exists');
    const ok = await org.owner.post(`/api/v1/privacy/tenant-requests/${made.body.id}/approve`, { reason: 'fixed in CRM' });
    assert.equal(ok.body.state, 'complete');
    // Another tenant sees none of it.
    const other = await createOrg(haven, 'Other Dsar Org');
    expectError(await other.owner.post(`/api/v1/privacy/tenant-requests/${made.body.id}/approve`, {}), 404, 'request_not_found');
    assert.equal((await other.owner.get('/api/v1/privacy/tenant-requests')).body.items.length, 0);
  });

  it('operator channel: a platform-wide request (no tenant) is processed in platform scope', async () => {
    const op = await haven.platform.db.withTenant(org.tenantId, (tx) => addMember(tx, org.tenantId, { email: 'op@platform.test', password: PASSWORD, role: 'viewer', emailVerified: true }));
    await haven.platform.db.withPlatform((tx) => tx.updateTable('users').set({ platform_roles: ['operator'] }).where('id', '=', op.userId).execute());
    const ctx = { actor: { type: 'user' as const, userId: op.userId, platformRoles: ['operator' as const] } };
    const r = await haven.modules.privacy.dsar.createAsOperator(ctx, { email: `owner@${org.slug}.test`, type: 'access' });
    assert.equal(r.tenantId, null);
    assert.equal(r.channel, 'operator');
    const done = await waitState(r.id, ['complete', 'error']);
    assert.equal(done.state, 'complete', done.error);
    assert.equal(done.result.identities.users, 1);
    await assert.rejects(haven.modules.privacy.dsar.createAsOperator({ actor: { type: 'user', userId: op.userId, platformRoles: [] } }, { email: 'a@b.test', type: 'access' }), { code: 'forbidden' });
  });

  it('deadline: the daily job reminds admins of requests due within 7 days and flags overdue ones', async () => {
    const made = await org.owner.post('/api/v1/privacy/tenant-requests', { email: 'late@example.test', type: 'rectification' });
    const soon = await org.owner.post('/api/v1/privacy/tenant-requests', { email: 'soon@example.test', type: 'rectification' });
    await haven.platform.db.withTenant(org.tenantId, async (tx) => {
      await tx.updateTable('privacy_requests').set({ due_at: new Date(Date.now() - 86_400_000) }).where('id', '=', made.body.id).execute();
      await tx.updateTable('privacy_requests').set({ due_at: new Date(Date.now() + 3 * 86_400_000) }).where('id', '=', soon.body.id).execute();
    });
    const before = mailsTo(`owner@${org.slug}.test`).length;
    const result = await haven.modules.privacy.dsar.remindDue();
    assert.ok(result.reminded >= 2);
    assert.ok(result.overdue >= 1);
    const fresh = mailsTo(`owner@${org.slug}.test`).slice(before);
    assert.ok(fresh.some((m) => m.subject.includes('OVERDUE')));
    assert.ok(fresh.some((m) => m.subject.includes('due within 7 days')));
    const listed = (await org.owner.get('/api/v1/privacy/tenant-requests')).body.items;
    assert.equal(listed.find((r: any) => r.id === made.body.id).overdue, true);
    assert.equal(listed.find((r: any) => r.id === soon.body.id).remindersSent, 1);
    assert.ok((await actions(org.tenantId, made.body.id)).includes('privacy.request.overdue'));
    // Reminded today: the next run the same day sends nothing for them.
    const second = await haven.modules.privacy.dsar.remindDue();
    assert.equal(second.reminded, 0);
    void systemContext;
  });
});
