// The haven command as an operator meets it: help everywhere, exit code 2 and
// one clear line for bad arguments or configuration. The binary runs in a
// child process at least once per kind of case; the rest of each table runs
// the same commands in this process (test/helpers/cli.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createTestDatabase } from './helpers/db.ts';
import { runHavenCommand } from './helpers/cli.ts';
import { runHaven } from './helpers/process.ts';

const oneLine = (s: string) => s.trim().split('\n').length === 1;
const tmp = () => mkdtempSync(join(tmpdir(), 'haven-cli-'));

describe('haven CLI', () => {
  test('--help lists every command, and every command has --help', async () => {
    const r = runHaven(['--help']);
    assert.equal(r.status, 0);
    assert.equal(runHaven(['serve', '--help']).status, 0);
    for (const c of ['serve', 'worker', 'migrate', 'setup', 'tenant', 'jobs', 'user', 'audit', 'backup', 'dsar', 'privacy', 'residency']) {
      assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
      const h = await runHavenCommand([c, '--help']);
      assert.equal(h.status, 0, `${c} --help`);
      assert.match(h.stdout, /^Usage: haven/);
    }
  });

  test('bad arguments exit 2 with one line', () => {
    for (const args of [['bogus'], ['serve', '--frobnicate'], ['setup', '--tenant', 'x'], ['tenant', 'explode']]) {
      const r = runHaven(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.ok(oneLine(r.stderr), `one line for ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^haven: /);
    }
  });

  test('invalid configuration exits 2 naming the key', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ HAVEN_PORT: 'abc' }, /HAVEN_PORT.*must be a number/],
      [{ HAVEN_PORT: '70000' }, /HAVEN_PORT.*at most 65535/],
      [{ HAVEN_ENV: 'staging' }, /HAVEN_ENV/],
      [{ HAVEN_MASTER_KEY: 'c2hvcnQ=' }, /HAVEN_MASTER_KEY.*32 bytes/],
      [{ HAVEN_REGIONS: '{not json' }, /HAVEN_REGIONS.*JSON/],
      [{ HAVEN_REGIONS: '{"eu":{"jurisdiction":"EU","storage":{"driver":"ftp"}}}' }, /regions\.eu\.storage/],
      [{ HAVEN_DEFAULT_REGION: 'mars' }, /defaultRegion.*mars|names no configured region/],
    ];
    for (const [i, [env, pattern]] of cases.entries()) {
      const args = ['serve'];
      const given = { ...env, HAVEN_DATA_DIR: tmp() };
      const r = i === 0 ? runHaven(args, given) : await runHavenCommand(args, given);
      assert.equal(r.status, 2, JSON.stringify(env));
      assert.ok(oneLine(r.stderr), r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  test('a config file with a bad value is named', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'haven.json'), JSON.stringify({ bodyLimitBytes: 'huge' }));
    const r = runHaven(['serve'], { HAVEN_CONFIG: join(dir, 'haven.json'), HAVEN_DATA_DIR: dir });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bodyLimitBytes.*must be a number/);
  });

  test('production refuses generated secrets, plain HTTP, no mail and the embedded database', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const keys = { HAVEN_MASTER_KEY: key, HAVEN_SIGNING_KEY: key, HAVEN_PSEUDONYM_KEY: key };
    let r = runHaven(['serve'], { HAVEN_ENV: 'production', HAVEN_DATA_DIR: tmp() });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /generated secrets/);
    r = runHaven(['serve'], { HAVEN_ENV: 'production', HAVEN_DATA_DIR: tmp(), ...keys });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /plain HTTP/);
    r = runHaven(['serve'], { HAVEN_ENV: 'production', HAVEN_DATA_DIR: tmp(), HAVEN_TRUST_PROXY: '127.0.0.1', ...keys });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /without mail/);
    r = runHaven(['serve'], { HAVEN_ENV: 'production', HAVEN_DATA_DIR: tmp(), HAVEN_TRUST_PROXY: '127.0.0.1', HAVEN_SMTP_URL: 'smtp://127.0.0.1:2525', ...keys });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /embedded database/);
  });

  test('a data dir that cannot be written exits 2', () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    const r = runHaven(['serve'], { HAVEN_DATA_DIR: join(file, 'data') });
    assert.equal(r.status, 2);
    assert.ok(oneLine(r.stderr));
    assert.match(r.stderr, /not writable/);
  });

  test('a port already in use exits 2 with a clear message', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const db = await createTestDatabase();
    try {
      const r = runHaven(['serve'], { HAVEN_DATA_DIR: tmp(), HAVEN_PORT: String(port), DATABASE_URL: db.url });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} .*already in use`));
    } finally {
      blocker.close();
      await db.drop();
    }
  });

  test('setup creates a tenant and its owner; bad input exits 2', async () => {
    const db = await createTestDatabase();
    const env = { HAVEN_DATA_DIR: tmp(), DATABASE_URL: db.url };
    try {
      let r = runHaven(['setup', '--tenant', 'Acme Corp', '--admin-email', 'owner@acme.test', '--admin-password', 'a long enough passphrase'], env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /created tenant acme-corp/);
      r = await runHavenCommand(['tenant', 'list'], env);
      assert.match(r.stdout, /acme-corp\s+default\s+active\b.*Acme Corp/);
      r = await runHavenCommand(['setup', '--tenant', 'Acme Corp', '--admin-email', 'x@acme.test', '--admin-password', 'a long enough passphrase'], env);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /already exists/);
      r = await runHavenCommand(['setup', '--tenant', 'Other', '--admin-email', 'not-an-email', '--admin-password', 'a long enough passphrase'], env);
      assert.equal(r.status, 2);
      assert.ok(oneLine(r.stderr));
      r = await runHavenCommand(['setup', '--tenant', 'Other', '--admin-email', 'o@o.test', '--admin-password', 'a long enough passphrase', '--region', 'mars'], env);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /Region "mars" is not configured/);
    } finally {
      await db.drop();
    }
  });
});
