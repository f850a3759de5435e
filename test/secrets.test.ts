// Root secrets: generated on first start into <dataDir>/secrets (0600 files in
// a 0700 dir), reused afterwards, never written when configured.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createPseudonymizer } from '../src/platform/crypto/pseudonym.ts';
import { loadRootSecrets } from '../src/platform/crypto/secrets.ts';
import { StartupError } from '../src/platform/datadir.ts';
import { sharedKeys, startTestHaven } from './helpers/haven.ts';
import { root } from './helpers/process.ts';

const keyFiles = ['masterKey.key', 'signingKey.key', 'pseudonymKey.key'];
const mode = (path: string) => statSync(path).mode & 0o777;
const tmp = () => mkdtempSync(join(tmpdir(), 'haven-secrets-'));

describe('root secrets', () => {
  test('are generated on first start with tight permissions and reused on the next', async () => {
    const dataDir = tmp();
    const secrets = join(dataDir, 'secrets');
    let first: Awaited<ReturnType<typeof startTestHaven>> | undefined;
    let second: typeof first;
    try {
      first = await startTestHaven({ config: { dataDir } });
      assert.equal(mode(secrets), 0o700);
      const written = Object.fromEntries(keyFiles.map((f) => [f, readFileSync(join(secrets, f), 'utf8')]));
      for (const f of keyFiles) {
        assert.equal(mode(join(secrets, f)), 0o600, f);
        assert.equal(Buffer.from(written[f]!, 'base64').length, 32, f);
      }
      assert.equal(new Set(Object.values(written)).size, 3, 'three independent keys');
      assert.deepEqual(readdirSync(secrets).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
      await first.close();

      // Same data dir, same database: the master key must match the one it was set up with.
      second = await startTestHaven({ config: { dataDir }, database: first.database });
      for (const f of keyFiles) assert.equal(readFileSync(join(secrets, f), 'utf8'), written[f], `${f} unchanged`);
      assert.deepEqual(second.platform.signingKey, Buffer.from(written['signingKey.key']!, 'base64'));
      const fromFile = createPseudonymizer(Buffer.from(written['pseudonymKey.key']!, 'base64'));
      assert.equal(second.platform.pseudonymize('someone@example.org'), fromFile('someone@example.org'));
    } finally {
      await second?.stop();
      await first?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('given in configuration are not written to disk', async () => {
    const dataDir = tmp();
    let haven: Awaited<ReturnType<typeof startTestHaven>> | undefined;
    try {
      haven = await startTestHaven({ config: { dataDir, ...sharedKeys() } });
      const secrets = join(dataDir, 'secrets');
      const files = existsSync(secrets) ? readdirSync(secrets) : [];
      assert.deepEqual(files.filter((f) => f.endsWith('.key')), []);
    } finally {
      await haven?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    const partly = tmp();
    try {
      const pseudonymKey = sharedKeys().pseudonymKey!;
      const loaded = loadRootSecrets(partly, { pseudonymKey });
      assert.deepEqual(loaded.generated, ['masterKey', 'signingKey']);
      assert.deepEqual(loaded.pseudonymKey, Buffer.from(pseudonymKey, 'base64'));
      assert.deepEqual(readdirSync(join(partly, 'secrets')).sort(), ['masterKey.key', 'signingKey.key']);
    } finally {
      rmSync(partly, { recursive: true, force: true });
    }
  });

  test('a key file restored with loose permissions is tightened; a damaged one stops the start', () => {
    const dataDir = tmp();
    try {
      const before = loadRootSecrets(dataDir, {});
      const master = join(dataDir, 'secrets', 'masterKey.key');
      chmodSync(master, 0o644);
      chmodSync(join(dataDir, 'secrets'), 0o755);
      assert.deepEqual(loadRootSecrets(dataDir, {}).masterKey, before.masterKey);
      assert.equal(mode(master), 0o600);
      assert.equal(mode(join(dataDir, 'secrets')), 0o700);

      writeFileSync(master, '');
      assert.throws(() => loadRootSecrets(dataDir, {}), (err) => err instanceof StartupError && /masterKey\.key.*empty/.test(err.message));
      writeFileSync(master, Buffer.alloc(16).toString('base64'));
      assert.throws(() => loadRootSecrets(dataDir, {}), (err) => err instanceof StartupError && /masterKey\.key.*32-byte/.test(err.message));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('processes starting together on a fresh data dir agree on one set of keys', async () => {
    const dataDir = tmp();
    const go = join(dataDir, 'go');
    // Each process waits for the same moment, then loads the secrets at once.
    const script = `
      import { existsSync } from 'node:fs';
      import { loadRootSecrets } from ${JSON.stringify(join(root, 'src/platform/crypto/secrets.ts'))};
      while (!existsSync(${JSON.stringify(go)})) {}
      const s = loadRootSecrets(${JSON.stringify(dataDir)}, {});
      process.stdout.write([s.masterKey, s.signingKey, s.pseudonymKey].map((k) => k.toString('base64')).join(' '));`;
    try {
      const runs = Array.from({ length: 6 }, () => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        child.on('exit', (code) => resolve({ code, out, err }));
      }));
      await new Promise((r) => setTimeout(r, 1500));
      writeFileSync(go, '');
      const results = await Promise.all(runs);
      for (const r of results) assert.equal(r.code, 0, r.err);
      const sets = new Set(results.map((r) => r.out));
      assert.equal(sets.size, 1, 'every process read the same keys');
      for (const key of [...sets][0]!.split(' ')) assert.equal(Buffer.from(key, 'base64').length, 32);
      assert.deepEqual(readdirSync(join(dataDir, 'secrets')).sort(), [...keyFiles].sort(), 'the three keys, no temp files');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
