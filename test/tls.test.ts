// Built-in TLS for single-machine installs: Haven serves HTTPS with the
// operator's certificate and key, sends HSTS, and does not answer in cleartext.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase } from './helpers/db.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { runHaven } from './helpers/process.ts';

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
function selfSignedCertificate(dir: string, name: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { certFile, keyFile };
}

interface HttpsAnswer { status: number; headers: IncomingMessage['headers']; body: string; socket: TLSSocket }

/** GET over HTTPS, trusting only the given certificate. */
function httpsGet(url: string, ca: Buffer): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, socket: res.socket as TLSSocket }));
    }).on('error', reject);
  });
}

describe('built-in TLS', () => {
  let dir: string;
  let cert: { certFile: string; keyFile: string };
  let haven: TestHaven;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-tls-'));
    cert = selfSignedCertificate(dir, 'haven');
    haven = await startTestHaven({ config: { tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile } });
  });
  after(async () => {
    try {
      await haven?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('serves HTTPS with the configured certificate', async () => {
    assert.match(haven.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${haven.url}/healthz`, readFileSync(cert.certFile));
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
    const served = res.socket.getPeerX509Certificate()!;
    assert.equal(served.fingerprint256, new X509Certificate(readFileSync(cert.certFile)).fingerprint256);
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(res.socket.getProtocol()!), res.socket.getProtocol()!);
  });

  test('sends HSTS and asks browsers to upgrade insecure requests', async () => {
    const res = await httpsGet(`${haven.url}/api/v1/openapi.json`, readFileSync(cert.certFile));
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    assert.match(String(res.headers['content-security-policy']), /(^|;)\s*upgrade-insecure-requests(;|$)/);
  });

  test('a client that does not trust the certificate is refused', async () => {
    const other = selfSignedCertificate(dir, 'other');
    await assert.rejects(httpsGet(`${haven.url}/healthz`, readFileSync(other.certFile)), /self[- ]signed|unable to verify|certificate/i);
  });

  test('does not answer plain HTTP on the TLS port', async () => {
    const plain = haven.url.replace('https://', 'http://');
    const outcome = await fetch(`${plain}/healthz`).then((r) => r.status, () => 'refused');
    assert.ok(outcome === 'refused' || outcome === 400, `cleartext request got ${outcome}`);
  });
});

describe('built-in TLS misconfigured', () => {
  test('a missing or mismatched certificate exits 2 naming the setting', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'haven-tls-'));
    try {
      const a = selfSignedCertificate(dir, 'a');
      const b = selfSignedCertificate(dir, 'b');
      const env = { HAVEN_DATA_DIR: join(dir, 'data'), DATABASE_URL: db.url, HAVEN_PORT: '0' };
      let r = runHaven(['serve'], { ...env, HAVEN_TLS_CERT_FILE: join(dir, 'missing.crt'), HAVEN_TLS_KEY_FILE: a.keyFile });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /HAVEN_TLS_CERT_FILE/);
      r = runHaven(['serve'], { ...env, HAVEN_TLS_CERT_FILE: a.certFile, HAVEN_TLS_KEY_FILE: b.keyFile });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /HAVEN_TLS_KEY_FILE.*does not match|key.*does not match/i);
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
