// Point-in-time recovery on a real embedded PostgreSQL 15 that archives its
// WAL through Haven's archive_command (encrypted into the backup location):
// a base backup, rows before and after a noted time, a WAL switch, then
// restore --at that time into a fresh data dir. The earlier rows are there,
// the later ones are not, and a person erased after the time stays erased.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type Config, loadConfig } from '../src/config.ts';
import { type Haven, startHaven } from '../src/main.ts';
import { systemContext } from '../src/modules/identity/actor.ts';
import { addMember } from '../src/modules/identity/users.ts';
import { createBackupEngine } from '../src/modules/privacy/backup/engine.ts';
import { createPitr, type Pitr, restoreAt } from '../src/modules/privacy/backup/pitr.ts';
import type { OpenedHaven } from '../src/modules/privacy/backup/restore.ts';
import { retentionOf } from '../src/modules/privacy/backup/tiers.ts';
import { installWalSettings, walSettingsOf } from '../src/modules/privacy/backup/wal.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/platform/db/embedded.ts';
import { sharedKeys } from './helpers/haven.ts';
import { unusedPort } from './helpers/process.ts';

const external = Boolean(process.env.DATABASE_URL);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { write: () => undefined };

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try { return (await client.query<T>(text, values)).rows; } finally { await client.end(); }
}

const openRestored = async (config: Config): Promise<OpenedHaven> => {
  const h = await startHaven(config, { workers: false, http: false, logDestination: quiet });
  return { audit: h.modules.audit, databaseUrl: h.platform.db.ownerUrl, reapplyErasureLedger: () => h.modules.privacy.erasure.reapplyLedger(), close: () => h.close() };
};

describe('point-in-time recovery of the embedded database', { skip: external ? 'DATABASE_URL names an external server: Haven cannot configure WAL archiving there (use pgBackRest/WAL-G, docs/operations.md)' : false }, () => {
  const dirs: string[] = [];
  const temp = (p: string) => { const d = mkdtempSync(join(tmpdir(), p)); dirs.push(d); return d; };
  let server: EmbeddedPostgres;
  let haven: Haven;
  let config: Config;
  let pitr: Pitr;
  let tenantId: string;
  let at: Date;

  before(async () => {
    const havenDir = temp('haven-pitr-');
    chmodSync(havenDir, 0o711); // the database user writes WAL into <dataDir>/backups/default/wal
    const pgDir = temp('haven-pitr-pg-');
    const keys = sharedKeys();
    const base = loadConfig({ HAVEN_ENV: 'test', HAVEN_CONFIG: '' }, { dataDir: havenDir, port: 0, backupSchedule: 'off', ...keys });
    const masterKey = Buffer.from(keys.masterKey!, 'base64');
    const archiveCommand = await installWalSettings(pgDir, walSettingsOf(base, masterKey), 'archive.json');
    server = await startEmbeddedPostgres(pgDir, await unusedPort(), () => undefined, { archiveCommand, archiveTimeoutSeconds: 10 });
    config = { ...base, databaseUrl: server.url };
    haven = await startHaven(config, { workers: false, http: false, logDestination: quiet });
    pitr = createPitr({
      config, storage: haven.platform.storage, masterKey, retention: retentionOf(config), databaseUrl: server.url,
      signingKey: Buffer.from(keys.signingKey!, 'base64'), pseudonymKey: Buffer.from(keys.pseudonymKey!, 'base64'), clock: () => new Date(),
    });
    const { tenant } = await haven.modules.setup({ tenantName: 'Recovery', adminEmail: 'owner@pitr.test', adminPassword: 'correct horse battery staple' });
    tenantId = tenant.id;
    const member = (email: string) => haven.platform.db.withTenant(tenantId, (tx) => addMember(tx, tenantId, { email, password: 'correct horse battery staple', role: 'viewer', emailVerified: true }));
    await member('gone@pitr.test');

    await pitr.createBase('weekly');
    await member('before@pitr.test');
    await sleep(1100);
    at = new Date();
    await sleep(1100);
    await member('after@pitr.test');
    await haven.modules.privacy.erasure.eraseSubject({ email: 'gone@pitr.test' }, systemContext('privacy.test'));

    const seg = (await query<{ seg: string }>(server.url, 'select pg_walfile_name(pg_switch_wal()) as seg'))[0]!.seg;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [row] = await query<{ last: string | null; failed: string | null }>(server.url, 'select last_archived_wal as last, last_failed_wal as failed from pg_stat_archiver');
      if (row!.last && row!.last >= seg) break;
      assert.ok(Date.now() < deadline, `segment ${seg} was not archived (last ${row!.last}, failed ${row!.failed}; see ${join(pgDir, 'postgres', 'server.log')})`);
      await sleep(200);
    }
  });

  after(async () => {
    await haven?.close();
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('archived WAL is encrypted in the backup location', async () => {
    const walDir = join(config.dataDir, 'backups', 'default', 'wal');
    const files = readdirSync(walDir).filter((f) => /^[0-9A-F]{24}\.hvn$/.test(f)).sort();
    assert.ok(files.length >= 2, `segments archived: ${files.join(', ')}`);
    const sealed = readFileSync(join(walDir, files.at(-1)!));
    assert.equal(sealed.subarray(0, 4).toString('latin1'), 'HVN1');
    assert.ok(!sealed.includes(Buffer.from('before@pitr.test')), 'no plaintext email in archived WAL');
    const status = await pitr.walStatus();
    assert.equal(status.segments, files.length);
    const { bases } = await pitr.list();
    assert.equal(bases.length, 1);
  });

  test('restore --at TIME: rows before the time are back, later ones are not, an erased person stays erased', async () => {
    const targetDir = temp('haven-pitr-target-');
    const target: Config = { ...config, databaseUrl: undefined, dataDir: targetDir, embeddedDatabasePort: await unusedPort() };
    const engine = createBackupEngine({ config, storage: haven.platform.storage, secrets: { masterKey: Buffer.from(config.masterKey!, 'base64') }, retention: retentionOf(config) });
    const report = await restoreAt({ source: config, storage: haven.platform.storage, target, at, open: openRestored, loadLedger: () => engine.loadLedger(), retention: retentionOf(config) });
    assert.equal(report.ledger.reErased, 1, 'the person erased after the time was erased again');

    const restored = await startEmbeddedPostgres(targetDir, target.embeddedDatabasePort, () => undefined);
    try {
      const emails = (await query<{ email: string }>(restored.url, 'select email_normalized as email from users order by 1')).map((r) => r.email);
      assert.ok(emails.includes('before@pitr.test'), `before the time: ${emails.join(', ')}`);
      assert.ok(!emails.includes('after@pitr.test'), 'written after the time: not restored');
      assert.ok(!emails.includes('gone@pitr.test'), 'erased after the time: erased again before serving');
      const audit = await query(restored.url, `select 1 from audit_events where action = 'backup.restore' and target_id = $1`, [`pitr-${report.base.id}`]);
      assert.equal(audit.length, 1);
      const c = (await query<{ c: string | null }>(restored.url, `select shobj_description(oid, 'pg_database') as c from pg_database where datname = current_database()`))[0]!.c;
      assert.equal(c, null, 'the restore mark is cleared');
    } finally {
      await restored.stop();
    }
  });

  test('a time before the first base backup is refused clearly', async () => {
    await assert.rejects(pitr.baseFor(new Date(Date.now() - 86400_000)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'pitr_no_base_backup');
      assert.match(err.message, /earliest point a restore can reach/);
      return true;
    });
  });
});
