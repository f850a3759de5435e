// Records of processing: the data map is sound and printable, the Art. 30
// record says what the data map and the configuration say, transfer bases are
// managed and audited, and the transfer rule refuses an SSO provider or a
// storage region abroad without a basis.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { privacyDocPath, renderPrivacyDoc } from '../scripts/generate-docs.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { combinedDataMap } from '../src/modules/datamaps.ts';
import { dataMapProblems, nullabilityProblems, subjectKindsOf } from '../src/modules/privacy/records/subjects.ts';
import type { DataMap } from '../src/platform/datamap.ts';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, type Org, PASSWORD } from './helpers/library.ts';
import { runHavenCommand } from './helpers/cli.ts';
import { runHaven } from './helpers/process.ts';

const controller = { name: 'Example Hosting GmbH', contact: 'privacy@example.net' };
const subprocessors = [
  { name: 'Mailrelay', purpose: 'delivering outgoing mail', dataCategories: ['user.contact.email', 'user.name'], location: 'DE', jurisdiction: 'EU', features: ['email'], hosts: ['mailrelay.example'] },
  { name: 'Postal US', purpose: 'delivering bulk notifications', dataCategories: ['user.contact.email'], location: 'US', jurisdiction: 'US', features: ['email'] },
  { name: 'Microsoft Entra ID', purpose: 'signing members in through their directory', dataCategories: ['user.contact.email', 'user.unique_id'], location: 'US', jurisdiction: 'US', features: ['sso'], hosts: ['login.microsoftonline.com'] },
  { name: 'Vault Backup', purpose: 'off-site backups', dataCategories: ['user.contact.email'], location: 'US', jurisdiction: 'US', features: ['backup'], transferBasis: 'scc' },
];
const DIRECTORY = '6f2a8e1c-4b7d-4e59-9a3c-2d1e0f9b8a7c';

const personal = (subject: string, erasure: 'delete' | 'null' | 'crypto_shred' | 'retain' = 'delete', category = 'user.unique_id') =>
  ({ personal: true as const, category, subject, purpose: 'p', legalBasis: 'GDPR Art. 6(1)(b)', retention: 'r', erasure });

describe('data map soundness', () => {
  test('every declaration is usable by erasure and the record (subjects, categories, erasure actions)', () => {
    assert.deepEqual(dataMapProblems(combinedDataMap()), []);
  });

  test('the checks catch the mistakes they are for', () => {
    const bad: DataMap = {
      users: { id: personal('id') },
      things: {
        id: { personal: false },
        owner: personal('id'), // the thing's id is not a person
        author_id: personal('author_id'), // linking column with no known kind of person
        body_key: personal('owner', 'crypto_shred'), // not a wrapped key
        data_key_wrapped: personal('owner', 'delete'), // a key must be shredded
        note: personal('owner', 'retain'), // retained without a reason
        odd: { ...personal('owner'), category: 'user.favourite_colour' },
        via: personal('videos.owner_id (through video_id)'),
        audit: personal('actor'),
      },
    };
    const problems = dataMapProblems(bad).join('\n');
    for (const expected of [
      'things.owner: subject names things.id, which is declared not personal',
      'things.author_id: subject "author_id" names no kind of person',
      'things.body_key: crypto_shred applies to wrapped key columns only',
      'things.data_key_wrapped: a wrapped key of personal data is erased by crypto_shred, not delete',
      'things.note: erasure retain needs a retainBasis',
      'things.odd: category user.favourite_colour is not in the vocabulary',
      'things.via: subject names videos.owner_id, which is not in the data map',
      'things.via: subject goes through video_id, but things has no column video_id',
      'things.audit: subject role actor is documented for audit_events only',
    ]) assert.ok(problems.includes(expected), `missing: ${expected}\n${problems}`);
    assert.deepEqual(subjectKindsOf('analytics_sessions', 'viewer_user_id / viewer_audience_id').sort(), ['audience', 'member', 'viewer']);
    assert.deepEqual(subjectKindsOf('video_versions', 'videos.owner_id (through video_id)'), ['member']);
  });

  test('haven privacy datamap prints every personal column, as text and JSON', async () => {
    const text = await runHavenCommand(['privacy', 'datamap']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^table\s+column\s+category\s+subject\s+purpose/);
    assert.match(text.stdout, /\nusers\s+email\s+user\.contact\.email\s+id\s+the person's account/);
    const json = await runHavenCommand(['privacy', 'datamap', '--json']);
    const rows = JSON.parse(json.stdout) as { table: string; column: string; erasure: string; legalBasis: string }[];
    const declared = Object.values(combinedDataMap()).flatMap((cols) => Object.values(cols)).filter((d) => d.personal).length;
    assert.equal(rows.length, declared);
    assert.equal(rows.find((r) => r.table === 'videos' && r.column === 'data_key_wrapped')?.erasure, 'crypto_shred');
    const bad = await runHavenCommand(['privacy', 'nothing']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /expected "datamap" or "records"/);
  });

  test('docs/privacy.md is up to date', () => {
    assert.ok(readFileSync(privacyDocPath, 'utf8') === renderPrivacyDoc(), 'docs/privacy.md is out of date: run `npm run docs`');
  });
});

describe('records of processing and transfers', () => {
  let haven: TestHaven;
  let org: Org;
  let operator: ApiClient;

  before(async () => {
    haven = await startTestHaven({ config: { subprocessors, controller } as never, haven: { workers: false } });
    org = await createOrg(haven, 'Records Org');
    await createOrg(haven, 'Operators');
    await haven.platform.db.ownerPool.query(`update users set platform_roles = '{operator}' where email_normalized = 'owner@operators.test'`);
    operator = new ApiClient(haven.url);
    await operator.signIn('owner@operators.test', PASSWORD);
  });
  after(() => haven.stop());

  test('erasure by null only touches nullable columns of the live schema', async () => {
    const { rows } = await haven.platform.db.ownerPool.query<{ table: string; column: string; nullable: boolean }>(
      `select table_name as table, column_name as column, is_nullable = 'YES' as nullable from information_schema.columns where table_schema = 'public'`,
    );
    assert.deepEqual(nullabilityProblems(combinedDataMap(), rows), []);
  });

  test('a tenant\'s record says what the data map and configuration say', async () => {
    const res = await org.owner.get('/api/v1/privacy/records');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const r = res.body;
    assert.equal(r.scope, 'tenant');
    assert.deepEqual(r.tenant, { id: org.tenantId, slug: org.slug, name: 'Records Org', region: 'default', jurisdiction: 'EU' });
    assert.deepEqual(r.controller, { name: 'Records Org' });
    assert.deepEqual(r.processor, controller);
    const categories = r.dataCategories.map((c: any) => c.category);
    for (const c of ['user.contact.email', 'user.behavior.media_consumption', 'user.device.ip_address', 'user.consent']) assert.ok(categories.includes(c), c);
    assert.equal(r.dataCategories.find((c: any) => c.category === 'user.contact.email').description, 'email addresses');
    assert.deepEqual(r.dataSubjects.map((s: any) => s.kind).sort(), ['audience', 'client', 'invitee', 'member', 'platform staff', 'viewer']);
    const auth = r.activities.find((a: any) => a.purpose === 'authentication');
    assert.ok(auth.tables.includes('users') && auth.tables.includes('webauthn_credentials'));
    assert.ok(auth.legalBases.some((b: string) => b.includes('Art. 32')));
    const viewing = r.activities.find((a: any) => a.purpose.startsWith('viewing statistics'));
    assert.deepEqual(viewing.dataSubjects, ['audience', 'member', 'viewer']);
    // Mail and backups reach every tenant; no SSO provider yet, so no Entra.
    assert.deepEqual(r.recipients.map((s: any) => s.name).sort(), ['Mailrelay', 'Postal US', 'Vault Backup']);
    assert.deepEqual(r.transfers.map((t: any) => [t.subprocessor, t.from, t.to, t.status, t.basisSource]), [
      ['Postal US', 'EU', 'US', 'basis_required', null],
      ['Vault Backup', 'EU', 'US', 'covered', 'platform'],
    ]);
    assert.equal(r.retention.settings.auditRetentionDays, 365);
    assert.equal(r.retention.settings.trashRetentionDays, 30);
    assert.ok(r.retention.rules.some((x: any) => x.table === 'audit_events' && x.rule.startsWith('auditRetentionDays')));
    assert.ok(r.securityMeasures.some((m: string) => /row-level security is enforced \(FORCE\) on (\d+) of \1 tenant-owned tables/.test(m)), r.securityMeasures.join('\n'));
    assert.ok(r.securityMeasures.some((m: string) => m.includes('kept 365 days')));
    expectError(await (await org.as('editor')).get('/api/v1/privacy/records'), 403, 'forbidden');
    expectError(await new ApiClient(haven.url).get('/api/v1/privacy/records'), 401, 'unauthenticated');
  });

  test('the platform record is for operators and lists every subprocessor', async () => {
    expectError(await org.owner.get('/api/v1/privacy/records?scope=platform'), 403, 'forbidden');
    const res = await operator.get('/api/v1/privacy/records?scope=platform');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'platform');
    assert.equal(res.body.tenant, undefined);
    assert.deepEqual(res.body.processor, controller);
    assert.deepEqual(res.body.recipients.map((s: any) => s.name), subprocessors.map((s) => s.name));
    assert.deepEqual(res.body.transfers.map((t: any) => `${t.subprocessor}:${t.status}`), ['Postal US:basis_required', 'Microsoft Entra ID:basis_required', 'Vault Backup:covered']);
  });

  test('transfer bases: add, list, refuse duplicates and unknown names, delete — each change audited', async () => {
    expectError(await org.owner.post('/api/v1/privacy/transfers', { subprocessor: 'Nobody Inc', basis: 'scc' }), 400, 'unknown_subprocessor');
    expectError(await org.owner.post('/api/v1/privacy/transfers', { subprocessor: 'Postal US', basis: 'handshake' }), 400, 'invalid_request');
    expectError(await (await org.as('editor')).post('/api/v1/privacy/transfers', { subprocessor: 'Postal US', basis: 'scc' }), 403, 'forbidden');
    const created = await org.owner.post('/api/v1/privacy/transfers', { subprocessor: 'postal us', basis: 'scc', note: 'SCC module 3, signed 2025-03-01' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.subprocessor, 'Postal US');
    expectError(await org.owner.post('/api/v1/privacy/transfers', { subprocessor: 'Postal US', basis: 'bcr' }), 409, 'transfer_basis_exists');
    const list = await org.owner.get('/api/v1/privacy/transfers');
    assert.deepEqual(list.body.items.map((b: any) => [b.subprocessor, b.basis, b.note]), [['Postal US', 'scc', 'SCC module 3, signed 2025-03-01']]);
    assert.deepEqual(list.body.abroad.map((a: any) => [a.subprocessor, a.basis, a.basisSource]), [
      ['Postal US', 'scc', 'tenant'], ['Microsoft Entra ID', null, null], ['Vault Backup', 'scc', 'platform'],
    ]);
    const record = await org.owner.get('/api/v1/privacy/records');
    assert.equal(record.body.transfers.find((t: any) => t.subprocessor === 'Postal US').status, 'covered');

    expectError(await org.owner.delete(`/api/v1/privacy/transfers/${crypto.randomUUID()}`), 404, 'transfer_basis_not_found');
    expectError(await operator.delete(`/api/v1/privacy/transfers/${created.body.id}`), 404, 'transfer_basis_not_found'); // another organization's owner
    assert.equal((await org.owner.delete(`/api/v1/privacy/transfers/${created.body.id}`)).status, 204);
    assert.deepEqual((await org.owner.get('/api/v1/privacy/transfers')).body.items, []);
    const { rows } = await haven.platform.db.ownerPool.query<{ action: string; target_id: string; details: any }>(
      `select action, target_id, details from audit_events where tenant_id = $1 and action like 'privacy.transfer_basis.%' order by chain_seq`, [org.tenantId],
    );
    // Details are free text to the audit trail, so they are stored as masked refs.
    assert.deepEqual(rows.map((e) => [e.action, e.target_id, Object.keys(e.details).sort()]), [
      ['privacy.transfer_basis.create', created.body.id, ['basis', 'jurisdiction', 'subprocessor']],
      ['privacy.transfer_basis.delete', created.body.id, ['basis', 'subprocessor']],
    ]);
    assert.ok(!JSON.stringify(rows).includes('SCC module 3'), 'the free-text note is masked in the audit trail');
  });

  test('an SSO provider at a subprocessor abroad needs a transfer basis', async () => {
    const entra = { name: 'Entra', preset: 'entra', directoryId: DIRECTORY, clientId: 'c', clientSecret: 's' };
    const refused = await org.owner.post('/api/v1/sso/providers', entra);
    expectError(refused, 409, 'transfer_basis_required');
    assert.match(refused.body.error.message, /Microsoft Entra ID in US .*outside this organization's jurisdiction EU/);
    assert.deepEqual(refused.body.error.details, { feature: 'sso', subprocessor: 'Microsoft Entra ID', subprocessorJurisdiction: 'US', tenantJurisdiction: 'EU' });
    assert.equal((await org.owner.get('/api/v1/sso/providers')).body.items.length, 0);
    // A disabled provider transfers nothing; enabling it is the moment of the check.
    const disabled = await org.owner.post('/api/v1/sso/providers', { ...entra, name: 'Entra off', enabled: false });
    assert.equal(disabled.status, 201, JSON.stringify(disabled.body));
    expectError(await org.owner.patch(`/api/v1/sso/providers/${disabled.body.id}`, { enabled: true }), 409, 'transfer_basis_required');
    // The organization's own IdP is not a subprocessor: no transfer by Haven.
    assert.equal((await org.owner.post('/api/v1/sso/providers', { name: 'Google', preset: 'google', clientId: 'g', clientSecret: 'g' })).status, 201);

    assert.equal((await org.owner.post('/api/v1/privacy/transfers', { subprocessor: 'Microsoft Entra ID', basis: 'adequacy', note: 'EU-US Data Privacy Framework' })).status, 201);
    const created = await org.owner.post('/api/v1/sso/providers', entra);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await org.owner.patch(`/api/v1/sso/providers/${disabled.body.id}`, { enabled: true })).status, 200);
    const record = (await org.owner.get('/api/v1/privacy/records')).body;
    assert.ok(record.recipients.some((s: any) => s.name === 'Microsoft Entra ID'));
    const transfer = record.transfers.find((t: any) => t.subprocessor === 'Microsoft Entra ID');
    assert.deepEqual([transfer.status, transfer.basisSource, transfer.basis.startsWith('adequacy')], ['covered', 'tenant', true]);
  });

  test('haven privacy records prints a tenant\'s record', async () => {
    const env = {
      HAVEN_CONFIG: '', HAVEN_ENV: 'test', HAVEN_DATA_DIR: haven.dataDir, DATABASE_URL: haven.database.url,
      HAVEN_SUBPROCESSORS: JSON.stringify(subprocessors), HAVEN_CONTROLLER: JSON.stringify(controller),
    };
    const json = await runHavenCommand(['privacy', 'records', '--tenant', org.slug, '--json'], env);
    assert.equal(json.status, 0, json.stderr);
    const r = JSON.parse(json.stdout);
    assert.equal(r.tenant.id, org.tenantId);
    assert.ok(r.recipients.some((s: any) => s.name === 'Microsoft Entra ID'));
    const text = await runHavenCommand(['privacy', 'records', '--tenant', org.slug], env);
    assert.match(text.stdout, /Processor \(platform operator\): Example Hosting GmbH, privacy@example\.net/);
    assert.match(text.stdout, /Postal US: EU → US \(US\), NO BASIS/);
    const missing = await runHavenCommand(['privacy', 'records', '--tenant', 'no-such-org'], env);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no tenant with slug or id "no-such-org"/);
  });
});

describe('storage regions and the transfer rule', () => {
  const usStorage = { name: 'Bucketeer', purpose: 'object storage', dataCategories: ['user.content.self_image'], location: 'US', jurisdiction: 'US', features: ['storage'], hosts: ['s3.bucketeer.example'] };
  const regions = { eu: { jurisdiction: 'EU', storage: { driver: 's3', bucket: 'media-eu', endpoint: 'https://eu-1.s3.bucketeer.example' } } };

  test('a region storing at a subprocessor of another jurisdiction is refused unless a basis is declared', () => {
    const env = (sub: object) => ({ HAVEN_CONFIG: '', HAVEN_DEFAULT_REGION: 'eu', HAVEN_REGIONS: JSON.stringify(regions), HAVEN_SUBPROCESSORS: JSON.stringify([sub]) });
    assert.throws(() => loadConfig(env(usStorage)), (err: Error) => err instanceof ConfigError &&
      err.message === 'invalid configuration: regions.eu.storage (HAVEN_REGIONS): stores in Bucketeer (US), outside the region\'s jurisdiction EU; declare the subprocessor\'s transferBasis (scc, adequacy, bcr) or store in EU');
    assert.equal(loadConfig(env({ ...usStorage, transferBasis: 'scc' })).regions.eu!.jurisdiction, 'EU');
    assert.ok(loadConfig(env({ ...usStorage, jurisdiction: 'eu' })), 'a provider in the region\'s own jurisdiction needs no basis');
    assert.ok(loadConfig(env({ ...usStorage, hosts: ['other.example'] })), 'a provider that is not this region\'s needs no basis');
  });

  test('haven refuses to start with such a region (exit code 2, one line)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'haven-records-'));
    try {
      const file = join(dir, 'haven.config.json');
      writeFileSync(file, JSON.stringify({ defaultRegion: 'eu', regions, subprocessors: [usStorage], dataDir: dir }));
      const r = runHaven(['migrate'], { HAVEN_CONFIG: file });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim(), 'haven: invalid configuration: regions.eu.storage (HAVEN_REGIONS): stores in Bucketeer (US), outside the region\'s jurisdiction EU; declare the subprocessor\'s transferBasis (scc, adequacy, bcr) or store in EU');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
