// Erasure of a data subject end to end on a real Haven: a person with an
// account, sessions, consents, an uploaded clip (through the real pipeline),
// analytics, audit entries and an invitation; a second person whose data must
// stay. Also: resumption after SIGKILL, the verification step catching a
// planted copy, and the erasure ledger (no raw ids, tamper-evident, re-applied
// after a simulated restore).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemContext } from '../src/modules/identity/actor.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { videoPrefix } from '../src/modules/media/objects.ts';
import { defaultLedger, eraseSubject, type ErasureDeps, reapplyErasureLedger } from '../src/modules/privacy/erasure/index.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { keysUnder, PASSWORD, signedInOwner, storeOf, tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { insertVideo } from './helpers/library.ts';
import { ApiClient } from './helpers/client.ts';

const ctx = systemContext('test.erasure');

describe('erasure of a data subject', () => {
  let haven: TestHaven;
  let deps: ErasureDeps;
  const q = async (text: string, values: unknown[] = []) => (await haven.platform.db.ownerPool.query(text, values)).rows;

  before(async () => {
    haven = await startTestHaven();
    deps = { platform: haven.platform, audit: haven.modules.audit, staging: haven.modules.media.staging };
  });
  after(() => haven.stop());

  test('erases every row of the person, shreds their own media, keeps the second person and the audit chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'erasure-clip-'));
    const alice = await signedInOwner(haven, 'Alice Solo', 'alice@solo.test');
    const bob = await signedInOwner(haven, 'Acme', 'bob@acme.test');
    const aliceId = (await q(`select id from users where email_normalized = 'alice@solo.test'`))[0].id as string;
    const bobId = (await q(`select id from users where email_normalized = 'bob@acme.test'`))[0].id as string;
    // Alice also works at Acme, and was invited to a third tenant.
    await haven.platform.db.withTenant(bob.tenantId, (tx) => addMember(tx, bob.tenantId, { email: 'alice@solo.test', password: PASSWORD, role: 'editor' }));
    const third = await haven.modules.setup({ tenantName: 'Third', adminEmail: 'carl@third.test', adminPassword: PASSWORD });
    await q(`insert into invitations (id, tenant_id, email, email_normalized, role, language, token_hash, expires_at)
             values ($1, $2, 'Alice@Solo.test', 'alice@solo.test', 'viewer', 'en', $3, now() + interval '7 days')`, [randomUUID(), third.tenant.id, Buffer.from(randomUUID())]);

    // Her own clip, through the real pipeline; an Acme video she uploaded; analytics of both people.
    const clip = readFileSync(makeClip(dir, 'alice', { seconds: 2 }));
    const { videoId: ownVideo } = await tusUpload(haven.url, alice.api, clip, { title: 'Holiday' });
    await waitForStatus(alice.api, ownVideo, 'ready');
    assert.ok((await keysUnder(storeOf(haven, alice.region), videoPrefix(alice.tenantId, ownVideo))).length > 3);
    const acmeVideo = await insertVideo(haven, bob, { title: 'Quarterly results' });
    const bobVideo = await insertVideo(haven, bob, { title: 'Bob talks' });
    await q('update videos set owner_id = $1 where id = $2', [aliceId, acmeVideo]);
    await q('update videos set owner_id = $1 where id = $2', [bobId, bobVideo]);
    for (const [viewer, video] of [[aliceId, bobVideo], [aliceId, acmeVideo], [bobId, acmeVideo]] as const) {
      await q(`insert into analytics_sessions (playback_id, tenant_id, video_id, day, started_at, last_event_at, viewer_user_id, user_agent)
               values ($1, $2, $3, current_date, now(), now(), $4, 'Mozilla/5.0')`, [randomUUID(), bob.tenantId, video, viewer]);
    }
    const aliceAcme = new ApiClient(haven.url);
    await aliceAcme.signIn('alice@solo.test', PASSWORD);
    const sessionsBefore = Number((await q('select count(*) from sessions where user_id = $1', [aliceId]))[0].count);
    assert.ok(sessionsBefore >= 2);
    assert.ok(Number((await q('select count(*) from consent_records where user_id = $1', [aliceId]))[0].count) > 0);
    assert.ok(Number((await q('select count(*) from audit_events where actor_id = $1', [aliceId]))[0].count) > 0);

    const report = await eraseSubject(deps, { email: 'alice@solo.test' }, ctx);
    assert.equal(report.state, 'done', JSON.stringify(report.verification?.findings));
    assert.equal(report.verification!.ok, true);
    assert.equal(report.accountEnded, true);

    // Her rows are gone; the report's counts are what was there.
    const rowsOf = (table: string, action: string) => report.tables.filter((t) => t.table === table && t.action === action).reduce((n, t) => n + t.rows, 0);
    assert.equal(rowsOf('sessions', 'delete'), sessionsBefore);
    assert.equal(rowsOf('analytics_sessions', 'delete'), 2);
    assert.equal(rowsOf('invitations', 'delete'), 1);
    assert.equal(rowsOf('memberships', 'delete'), 2);
    assert.equal(rowsOf('videos', 'crypto_shred'), 1);
    assert.equal(rowsOf('videos', 'null'), 1);
    for (const [table, column] of [['sessions', 'user_id'], ['memberships', 'user_id'], ['analytics_sessions', 'viewer_user_id'], ['videos', 'owner_id']]) {
      assert.equal(Number((await q(`select count(*) from ${table} where ${column} = $1`, [aliceId]))[0].count), 0, table);
    }
    assert.equal((await q(`select 1 from users where email_normalized = 'alice@solo.test' or username ilike 'alice%'`)).length, 0);
    assert.equal((await q(`select 1 from invitations where email_normalized = 'alice@solo.test'`)).length, 0);
    // Consent evidence is retained (append-only), linked to a tombstone that holds nothing but its id.
    const tomb = (await q('select email, display_name, password_hash, status from users where id = $1', [aliceId]))[0];
    assert.match(tomb.email, /@erased\.invalid$/);
    assert.equal(tomb.password_hash, null);
    assert.ok(report.retained.some((r) => r.table === 'consent_records' && r.basis));
    assert.ok(report.retained.some((r) => r.table === 'videos' && r.columns.includes('title')));
    // Her own media: row gone (keys destroyed), objects gone. The Acme video stays, unlinked.
    assert.equal((await q('select 1 from videos where id = $1', [ownVideo])).length, 0);
    assert.deepEqual(await keysUnder(storeOf(haven, alice.region), videoPrefix(alice.tenantId, ownVideo)), []);
    assert.ok(report.objects.reduce((n, o) => n + o.deleted, 0) > 3);
    assert.deepEqual((await q('select title, owner_id from videos where id = $1', [acmeVideo]))[0], { title: 'Quarterly results', owner_id: null });

    // Bob is untouched.
    assert.equal((await q('select owner_id from videos where id = $1', [bobVideo]))[0].owner_id, bobId);
    assert.equal(Number((await q('select count(*) from analytics_sessions where viewer_user_id = $1', [bobId]))[0].count), 1);
    assert.equal((await bob.api.get(`/api/v1/videos/${bobVideo}`)).status, 200);
    assert.equal((await new ApiClient(haven.url).login('bob@acme.test', PASSWORD)).status, 200);
    assert.equal((await new ApiClient(haven.url).login('alice@solo.test', PASSWORD)).status, 401);

    // The audit trail still verifies, her entries relabelled.
    for (const t of [alice.tenantId, bob.tenantId]) assert.equal((await haven.modules.audit.verify(t)).ok, true, `audit chain of ${t}`);
    assert.equal(Number((await q('select count(*) from audit_events where actor_id = $1', [aliceId]))[0].count), 0);
    assert.ok(report.audit.reduce((n, a) => n + a.entries, 0) > 0);
    assert.ok((await q(`select 1 from audit_events where action = 'privacy.subject.erase'`)).length >= 2);

    // The ledger holds keyed hashes only.
    const ledgerText = readFileSync(defaultLedger(haven.platform).path, 'utf8');
    assert.equal(ledgerText.trim().split('\n').length, 1);
    assert.ok(!ledgerText.toLowerCase().includes('alice') && !ledgerText.includes(aliceId));
    assert.equal(defaultLedger(haven.platform).read()[0]!.erasure, report.erasureId);

    // Nothing left to erase.
    await assert.rejects(eraseSubject(deps, { email: 'alice@solo.test' }, ctx), { code: 'subject_not_found' });

    // A restore brings her back: the ledger erases her again, without a new line.
    const restored = randomUUID();
    await q(`insert into users (id, username, username_normalized, email, email_normalized) values ($1, 'alice', 'alice', 'alice@solo.test', 'alice@solo.test')`, [restored]);
    await q(`insert into memberships (tenant_id, user_id, role) values ($1, $2, 'owner')`, [alice.tenantId, restored]);
    const again = await reapplyErasureLedger(deps);
    assert.equal(again.entries, 1);
    assert.equal(again.reErased.length, 1);
    assert.equal(again.reErased[0]!.state, 'done');
    assert.equal((await q(`select 1 from users where email_normalized = 'alice@solo.test'`)).length, 0);
    assert.equal(readFileSync(defaultLedger(haven.platform).path, 'utf8').trim().split('\n').length, 1, readFileSync(defaultLedger(haven.platform).path, 'utf8') + JSON.stringify(again));
  });

  test('the verification step fails the erasure when a copy of the email is left in an undeclared place', async () => {
    const org = await signedInOwner(haven, 'Planted', 'dana@planted.test');
    await q(`insert into collections (id, tenant_id, name, description) values ($1, $2, 'Contacts', 'write to DANA@planted.test')`, [randomUUID(), org.tenantId]);
    const report = await eraseSubject(deps, { email: 'dana@planted.test' }, ctx);
    assert.equal(report.state, 'error');
    assert.deepEqual(report.verification!.findings.map((f) => f.where), ['public.collections.description']);
    assert.equal((await q(`select state from privacy_erasures where id = $1`, [report.erasureId]))[0].state, 'error');
    assert.ok((await q(`select 1 from audit_events where action = 'privacy.subject.erase.verification_failed'`)).length > 0);
  });

  test('the verification scan searches uuid arrays, json, whole names and enums, and skips only columns that cannot hold the identifiers', async () => {
    const org = await signedInOwner(haven, 'Probe', 'fay@probe.test');
    const fayId = (await q(`select id from users where email_normalized = 'fay@probe.test'`))[0].id as string;
    await q(`update users set display_name = 'Fay Probe-Person', username = 'fay-probe-long-name', username_normalized = 'fay-probe-long-name' where id = $1`, [fayId]);
    // A scratch schema (read as the owner, like the job queue's) with one planted copy per column kind, and columns that cannot hold them.
    await q(`create schema erasure_probe`);
    try {
      await q(`create type erasure_probe.mood as enum ('calm', 'busy')`);
      await q(`create table erasure_probe.things (
        id int primary key, watchers uuid[], doc jsonb, label text, short varchar(8), mood erasure_probe.mood,
        kind text check (kind in ('a', 'b')), code text check (length(code) <= 5), token bytea, n bigint)`);
      await q(`insert into erasure_probe.things values
        (1, array[gen_random_uuid(), $1::uuid], '{"who": "x"}', 'fay probe-person', 'abc', 'calm', 'a', 'ab', 'x', 1),
        (2, '{}', jsonb_build_object('contact', 'FAY@probe.test'), 'Fay Probe-Person and more', 'fay', 'busy', 'b', 'fay', '\\x00', 2)`, [fayId]);
      const report = await eraseSubject(deps, { email: 'fay@probe.test' }, ctx);
      assert.equal(report.state, 'error');
      const where = (f: { where: string; identifier: string; rows?: number }) => `${f.where}:${f.identifier}:${f.rows}`;
      assert.deepEqual(report.verification!.findings.map(where).sort(), [
        'erasure_probe.things.doc:email_or_id:1',
        'erasure_probe.things.label:name:1',
        'erasure_probe.things.watchers:id:1',
      ]);
      const skipped = report.verification!.database.skipped;
      assert.ok(skipped['type bytea']! >= 1 && skipped['type int8']! >= 1 && skipped['type int4']! >= 1, JSON.stringify(skipped));
      assert.ok(skipped['enum whose labels cannot hold them']! >= 1, JSON.stringify(skipped));
      assert.ok(skipped['CHECK (col in (…)) whose values cannot hold them']! >= 1, JSON.stringify(skipped));
      assert.ok(skipped['length bound shorter than every identifier']! >= 2, JSON.stringify(skipped));
      assert.ok(report.verification!.database.slowest.length > 0);
      void org;
    } finally {
      await q(`drop schema erasure_probe cascade`);
    }
  });

  test('a tampered ledger is detected', async () => {
    const ledger = defaultLedger(haven.platform);
    const lines = readFileSync(ledger.path, 'utf8').trim().split('\n');
    assert.ok(lines.length >= 1);
    const original = readFileSync(ledger.path, 'utf8');
    const entry = JSON.parse(lines[0]!);
    entry.at = '2000-01-01T00:00:00.000Z';
    writeFileSync(ledger.path, [JSON.stringify(entry), ...lines.slice(1)].join('\n') + '\n');
    assert.throws(() => ledger.read(), { code: 'erasure_ledger_tampered' });
    await assert.rejects(reapplyErasureLedger(deps), { code: 'erasure_ledger_tampered' });
    writeFileSync(ledger.path, lines.slice(1).join('\n') + '\n'); // a removed line breaks the chain too
    if (lines.length > 1) assert.throws(() => ledger.read(), { code: 'erasure_ledger_tampered' });
    writeFileSync(ledger.path, original);
    assert.equal(ledger.read().length, lines.length);
  });

  test('SIGKILL after the database step: a rerun resumes and finishes, once', async () => {
    const { tenant } = await haven.modules.setup({ tenantName: 'Killed', adminEmail: 'erik@killed.test', adminPassword: PASSWORD });
    const video = await insertVideo(haven, { tenantId: tenant.id, region: tenant.region }, { title: 'Erik' });
    const erikId = (await q(`select id from users where email_normalized = 'erik@killed.test'`))[0].id;
    await q('update videos set owner_id = $1 where id = $2', [erikId, video]);
    const store = storeOf(haven, tenant.region);
    await store.put(`${videoPrefix(tenant.id, video)}original.hvn`, Buffer.from('ciphertext'));

    const script = `
      import { loadConfig } from './src/config.ts';
      import { startHaven } from './src/main.ts';
      import { systemContext } from './src/modules/identity/actor.ts';
      import { eraseSubject } from './src/modules/privacy/erasure/index.ts';
      const config = loadConfig({ HAVEN_CONFIG: '', HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'silent' }, { dataDir: process.env.DATA_DIR, databaseUrl: process.env.DB_URL, port: 0 });
      const h = await startHaven(config, { workers: false, http: false, logDestination: { write() {} } });
      await eraseSubject({ platform: h.platform, audit: h.modules.audit, afterStep: async (step) => {
        if (step === 'database') { process.stdout.write('STEP database\\n'); await new Promise(() => {}); }
      } }, { email: 'erik@killed.test' }, systemContext('test.erasure'));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../', import.meta.url).pathname, env: { ...process.env, DATA_DIR: haven.dataDir, DB_URL: haven.database.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!out.includes('STEP database')) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `child did not reach the database step: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;

    const [row] = await q(`select state, steps_done from privacy_erasures where state = 'running'`);
    assert.deepEqual(row.steps_done, ['plan', 'database']);
    assert.equal((await q(`select 1 from users where email_normalized = 'erik@killed.test'`)).length, 0, 'the database step committed');
    assert.ok(await store.head(`${videoPrefix(tenant.id, video)}original.hvn`), 'objects not yet deleted');

    const report = await eraseSubject(deps, { email: 'erik@killed.test' }, ctx);
    assert.equal(report.resumed, true);
    assert.equal(report.state, 'done', JSON.stringify(report.verification?.findings));
    assert.deepEqual(report.steps, ['plan', 'database', 'ledger', `storage:${tenant.region}`, 'mail-outbox', 'verify']);
    assert.equal(await store.head(`${videoPrefix(tenant.id, video)}original.hvn`), undefined);
    assert.equal(report.objects[0]!.deleted, 1);
    assert.equal((await q(`select plan from privacy_erasures where id = $1`, [report.erasureId]))[0].plan, null);
    assert.equal(defaultLedger(haven.platform).read().filter((e) => e.erasure === report.erasureId).length, 1);
    assert.equal((await haven.modules.audit.verify(tenant.id)).ok, true);
    assert.ok(existsSync(defaultLedger(haven.platform).path));
  });
});
