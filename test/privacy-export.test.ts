// The access archive: what the ZIP holds (the subject's rows, not another
// person's), the one-time download link, the 7-day sweep, and the CLI.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';
import { parseMail } from './helpers/mime.ts';
import { runHavenCommand } from './helpers/cli.ts';

let haven: TestHaven;
let org: Org;
let subject: ApiClient;
let subjectId: string;
let otherId: string;
let videoId: string;

const local = (url: string) => new URL(new URL(url).pathname, haven.url).toString();
const subjectEmail = () => `viewer@${org.slug}.test`;

function lastLink(addr: string): string {
  const dir = join(haven.dataDir, 'mail-outbox');
  const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
  for (const f of files.reverse()) {
    const m = parseMail(readFileSync(join(dir, f), 'utf8'));
    if (!(m.headers.get('to') ?? '').includes(addr)) continue;
    const text = (m.text ?? '').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const url = /(http\S+\/api\/v1\/privacy\/exports\/[A-Za-z0-9_-]+)/.exec(text)?.[1];
    // Links carry the configured public URL; the test server listens on a port of its own.
    if (url) return local(url);
  }
  throw new Error('no export link mailed');
}

async function waitComplete(id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const row = await haven.platform.db.withPlatform((tx) => tx.selectFrom('privacy_requests').selectAll().where('id', '=', id).executeTakeFirst());
    if (row && (row.state === 'complete' || row.state === 'error')) return row;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('request not processed');
}

async function sessionRow(viewer: string, playbackId = randomUUID()) {
  await haven.platform.db.withTenant(org.tenantId, (tx) => tx.insertInto('analytics_sessions').values({
    playback_id: playbackId, tenant_id: org.tenantId, video_id: videoId, day: '2025-05-01', started_at: new Date(), last_event_at: new Date(),
    watch_seconds: 42, device_class: 'desktop', browser: 'Firefox', viewer_user_id: viewer,
  }).execute());
}

before(async () => {
  haven = await startTestHaven();
  org = await createOrg(haven, 'Export Org');
  subject = await org.as('viewer');
  await org.as('editor');
  const ids = await haven.platform.db.withPlatform((tx) => tx.selectFrom('users').select(['id', 'email_normalized']).execute());
  subjectId = ids.find((u) => u.email_normalized === subjectEmail())!.id;
  otherId = ids.find((u) => u.email_normalized === `editor@${org.slug}.test`)!.id;
  videoId = await insertVideo(haven, org, { title: 'My own clip' });
  await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('videos').set({ owner_id: subjectId }).where('id', '=', videoId).execute());
  await sessionRow(subjectId);
  await sessionRow(subjectId);
  await sessionRow(otherId);
});
after(async () => haven?.stop());

describe('access archive', () => {
  let url: string;

  it('holds the subject\'s rows per category, consents, uploads and a summary, and no other person\'s rows', async () => {
    const made = await subject.post('/api/v1/privacy/requests', { type: 'access' });
    assert.equal(made.status, 201);
    const done = await waitComplete(made.body.id);
    assert.equal(done.state, 'complete', done.error);
    assert.equal(done.result.rowsPerTable.analytics_sessions, 2);
    url = lastLink(subjectEmail());

    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const json = (name: string) => JSON.parse(strFromU8(files[name]!));
    const manifest = json('manifest.json');
    assert.equal(manifest.subject.email, subjectEmail());
    assert.deepEqual(manifest.subject.users, [subjectId]);
    const consumption = manifest.categories.find((c: any) => c.category === 'user.behavior.media_consumption');
    assert.ok(consumption, 'media consumption category listed');
    assert.ok(consumption.purposes[0].includes('viewing statistics'));
    assert.ok(consumption.legalBases.length && consumption.retention.length);
    assert.ok(consumption.sources.some((s: string) => s.startsWith('playback: analytics_sessions.')));
    assert.ok(Array.isArray(manifest.recipients));
    for (const f of manifest.files) assert.ok(files[f], `${f} is in the archive`);

    const ids = json('data/user.unique_id.json').items.filter((i: any) => i.source === 'playback.analytics_sessions');
    assert.equal(ids.length, 2);
    for (const i of ids) assert.equal(i.values.viewer_user_id, subjectId);
    const everything = Object.entries(files).filter(([n]) => n.startsWith('data/')).map(([, b]) => strFromU8(b)).join('\n');
    assert.ok(!everything.includes(otherId), 'another person\'s id appears nowhere');
    assert.ok(!everything.includes(`editor@${org.slug}.test`));
    const emails = json('data/user.contact.email.json').items.map((i: any) => i.values.email ?? i.values.email_normalized ?? i.values.subject_email);
    assert.ok(emails.includes(subjectEmail()));
    const creds = json('data/user.authorization.credentials.json').items.find((i: any) => i.source === 'identity.users');
    assert.match(creds.values.password_hash, /withheld/);

    const consents = json('consents.json');
    assert.ok(consents.length >= 1 && consents.every((c: any) => c.decision === 'accepted'));
    const uploads = json('uploads.json');
    assert.equal(uploads.length, 1);
    assert.equal(uploads[0].id, videoId);
    assert.match(uploads[0].downloadUrl, new RegExp(`/watch/${videoId}$`));
    const html = strFromU8(files['summary.html']!);
    assert.match(html, /<h1>Your data in Haven<\/h1>/);
    assert.ok(!/<(script|link|img)\b|https?:\/\/(?!127)/.test(html.replace(/<a [^>]*>/g, '')), 'no external resources');

    const stored = await haven.platform.db.withTenant(org.tenantId, (tx) => tx.selectFrom('privacy_exports').selectAll().executeTakeFirstOrThrow());
    const raw = await haven.platform.storage.forRegion(stored.region).get(stored.object_key);
    const head: Buffer[] = [];
    for await (const c of raw) head.push(c as Buffer);
    const bytes = Buffer.concat(head);
    assert.equal(bytes.subarray(0, 4).toString(), 'HVN1', 'encrypted at rest');
    assert.ok(!bytes.includes(Buffer.from('manifest.json')), 'no plaintext ZIP entries in storage');
    assert.ok(stored.object_key.startsWith(`t/${org.tenantId}/`));
  });

  it('a link downloads once; a new link works; every download is audited', async () => {
    expectError({ status: (await fetch(url)).status, body: await (await fetch(url)).json(), headers: new Headers() }, 410, 'export_link_used');
    const own = await subject.get('/api/v1/privacy/requests');
    const id = own.body.items.find((r: any) => r.type === 'access').id;
    const fresh = await subject.post(`/api/v1/privacy/requests/${id}/export-link`);
    assert.equal(fresh.status, 200);
    assert.equal((await fetch(local(fresh.body.url))).status, 200);
    assert.equal((await fetch(local(fresh.body.url))).status, 410);
    expectError({ status: 404, body: await (await fetch(`${haven.url}/api/v1/privacy/exports/${'x'.repeat(43)}`)).json(), headers: new Headers() }, 404, 'export_not_found');
    const other = await createOrg(haven, 'Export Other');
    expectError(await other.owner.post(`/api/v1/privacy/tenant-requests/${id}/export-link`), 404, 'request_not_found');
    const downloads = await haven.platform.db.withTenant(org.tenantId, (tx) => tx.selectFrom('audit_events').select('action').where('action', '=', 'dsar.export.download').execute());
    assert.equal(downloads.length, 2);
  });

  it('the sweep deletes archives after 7 days', async () => {
    const stored = await haven.platform.db.withTenant(org.tenantId, (tx) => tx.updateTable('privacy_exports').set({ expires_at: new Date(Date.now() - 1000) }).returningAll().executeTakeFirstOrThrow());
    assert.equal(await haven.modules.privacy.dsar.sweepExports(), 1);
    assert.equal(await haven.platform.storage.forRegion(stored.region).head(stored.object_key), undefined);
    const own = await subject.get('/api/v1/privacy/requests');
    const id = own.body.items.find((r: any) => r.type === 'access').id;
    expectError(await subject.post(`/api/v1/privacy/requests/${id}/export-link`), 404, 'export_not_available');
  });

  it('haven dsar export writes a valid ZIP and prints the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsar-cli-'));
    try {
      const file = join(dir, 'out.zip');
      const env = { HAVEN_ENV: 'test', HAVEN_DATA_DIR: haven.dataDir, DATABASE_URL: haven.database.url };
      const r = await runHavenCommand(['dsar', 'export', '--email', subjectEmail(), '--tenant', org.slug, '--out', file], env);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /1 user account\(s\)/);
      assert.match(r.stdout, /user\.behavior\.media_consumption: 2 row\(s\)/);
      const files = unzipSync(new Uint8Array(readFileSync(file)));
      assert.ok(files['manifest.json'] && files['summary.html'] && files['uploads.json']);
      const bad = await runHavenCommand(['dsar', 'export', '--email', subjectEmail()], env);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--out FILE is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
