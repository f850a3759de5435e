// What Haven's logs may hold: JSON lines where secrets are redacted and email
// and IP addresses appear only as keyed pseudonyms. Known values are sent in
// every place a request carries them, and the whole log output is searched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createPseudonymizer, scrubText } from '../src/platform/crypto/pseudonym.ts';
import { lazyChildLogger } from '../src/platform/http/request-log.ts';
import { createLogger, type Logger } from '../src/platform/log.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const pseudonymKey = randomBytes(32).toString('base64');
const pseudonym = createPseudonymizer(Buffer.from(pseudonymKey, 'base64'));

const emails = {
  path: 'Alice.Path@example.org',
  query: 'bob.query@example.org',
  encodedQuery: 'carol+tag@example.org',
  body: 'dave.body@example.org',
  nested: 'grace.nested@example.org',
  error: 'erin.error@example.org',
  header: 'frank.header@example.org',
};
const ips = {
  forwarded: '203.0.113.77',
  forwardedChain: '192.0.2.5',
  path: '198.51.100.23',
  ipv6Query: '2001:db8::7',
  body: '198.51.100.99',
};
const secrets = {
  password: 'hunter2-correct-horse',
  nestedPassword: 'n3w-pa55-phrase-deep',
  token: 'tok_sUp3rS3cr3tV4lue',
  apiToken: 'api_zyx987wvu654',
  bearer: 'hv_live_abcdef1234567890',
  cookie: 'sess_0123456789abcdef',
  queryToken: 'pbt_Qu3ryT0kenValue',
  smtpPassword: 'smtp-pa55-in-url',
};

describe('logs', () => {
  let haven: TestHaven;
  let text: string;
  let lines: Record<string, unknown>[];
  const requestIds = new Map<string, string>();

  before(async () => {
    haven = await startTestHaven({
      env: { HAVEN_TRUST_PROXY: '127.0.0.1' },
      config: { pseudonymKey },
      haven: {
        beforeListen: async (app) => {
          app.post('/test/received', async (req) => {
            req.log.info({ body: req.body }, 'received');
            return { ok: true };
          });
          // Logged once the reply is sent, so it happens whether or not the
          // (made-up) credentials are accepted.
          app.get('/test/headers', {
            onResponse: async (req) => { req.log.info({ headers: req.headers }, 'headers seen'); },
          }, async () => ({ ok: true }));
          app.post('/test/notify', async (req) => {
            const { email, ip } = req.body as { email: string; ip: string };
            throw new Error(`could not notify ${email} at ${ip} through smtp://mailer:${secrets.smtpPassword}@mail.example.net:587`);
          });
          app.get('/test/lookup/:who/:ip', async (req) => {
            const { who, ip } = req.params as { who: string; ip: string };
            req.log.warn('lookup of %s at %s from %s', who, ip, req.ip);
            return { ok: true };
          });
        },
      },
    });

    const forwarded = { 'x-forwarded-for': `${ips.forwardedChain}, ${ips.forwarded}` };
    const query = new URLSearchParams({ email: emails.encodedQuery, ip: ips.ipv6Query }).toString();
    const requests: [string, RequestInit?][] = [
      [`/test/lookup/${emails.path}/${ips.path}?contact=${emails.query}&${query}&access_token=${secrets.queryToken}`, { headers: forwarded }],
      [`/no/such/route/${emails.path}?${query}`, { headers: forwarded }],
      ['/test/headers', {
        headers: {
          ...forwarded,
          authorization: `Bearer ${secrets.bearer}`,
          cookie: `haven_session=${secrets.cookie}`,
          'x-contact': emails.header,
        },
      }],
      ['/test/received', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...forwarded },
        body: JSON.stringify({
          email: emails.body,
          password: secrets.password,
          token: secrets.token,
          note: `call me, I am at ${ips.body}`,
          profile: { contacts: [{ email: emails.nested }], security: { newPassword: secrets.nestedPassword, apiToken: secrets.apiToken } },
        }),
      }],
      ['/healthz'],
      ['/test/notify', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...forwarded },
        body: JSON.stringify({ email: emails.error, ip: ips.body }),
      }],
    ];
    for (const [path, init] of requests) {
      const res = await haven.request(path, init);
      requestIds.set(path, res.headers.get('x-request-id')!);
      await res.arrayBuffer();
    }
    await haven.close(); // flushes the logger
    text = haven.logs.join('');
    lines = text.trim().split('\n').map((l) => JSON.parse(l));
  });
  after(() => haven.stop());

  test('are JSON lines from pino with a level, a time and a message', () => {
    assert.ok(lines.length > 10);
    for (const line of lines) {
      assert.equal(typeof line.level, 'number');
      assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof line.msg, 'string');
    }
    assert.ok(lines.some((l) => l.msg === 'unhandled error'), 'the thrown error was logged');
    assert.ok(lines.some((l) => l.msg === 'received'));
  });

  test('never hold an email address, in any spelling', () => {
    const haystack = text.toLowerCase();
    for (const email of Object.values(emails)) {
      for (const spelling of [email, encodeURIComponent(email), email.replace('@', '%40')]) {
        assert.ok(!haystack.includes(spelling.toLowerCase()), `${spelling} is in the logs`);
      }
      assert.ok(!haystack.includes(email.split('@')[0]!.toLowerCase()), `the local part of ${email} is in the logs`);
    }
  });

  test('never hold a client IP address', () => {
    for (const ip of Object.values(ips)) {
      assert.ok(!text.includes(ip), `${ip} is in the logs`);
      assert.ok(!text.includes(encodeURIComponent(ip)), `${encodeURIComponent(ip)} is in the logs`);
    }
  });

  test('show the keyed pseudonyms instead, so one person can be followed', () => {
    for (const [where, email] of Object.entries(emails)) {
      if (where === 'header') continue; // headers other than those redacted are not logged by default
      assert.ok(text.includes(pseudonym(email)), `pseudonym of the ${where} email`);
    }
    for (const [where, ip] of Object.entries(ips)) assert.ok(text.includes(pseudonym(ip)), `pseudonym of the ${where} IP`);
    // The request's client address is the forwarded one (HAVEN_TRUST_PROXY), as its pseudonym.
    const incoming = lines.filter((l) => l.msg === 'incoming request') as { req: { ip: string } }[];
    assert.ok(incoming.length >= 5);
    for (const l of incoming) assert.equal(l.req.ip, pseudonym(ips.forwarded));
  });

  test('redact passwords, tokens, cookies and authorization headers', () => {
    for (const [name, value] of Object.entries(secrets)) assert.ok(!text.includes(value), `${name} is in the logs`);
    const headers = lines.find((l) => l.msg === 'headers seen') as { headers: Record<string, string> };
    assert.equal(headers.headers.authorization, '[redacted]');
    assert.equal(headers.headers.cookie, '[redacted]');
    const received = lines.find((l) => l.msg === 'received') as { body: Record<string, any> };
    assert.equal(received.body.password, '[redacted]');
    assert.equal(received.body.token, '[redacted]');
    assert.equal(received.body.profile.security.newPassword, '[redacted]');
    assert.equal(received.body.profile.security.apiToken, '[redacted]');
    assert.equal(received.body.email, pseudonym(emails.body), 'other fields stay, pseudonymized');
    assert.ok(text.includes(`access_token=[redacted]`), 'token query parameters in request URLs');
    assert.ok(text.includes('smtp://mailer:[redacted]@mail.example.net'), 'passwords inside URLs');
  });

  test('tie every line of a request to its request id, the one in its x-request-id header', () => {
    const ofRequest = (path: string) => lines.filter((l) => l.reqId === requestIds.get(path)).map((l) => l.msg).sort();
    assert.deepEqual(ofRequest('/test/received'), ['incoming request', 'received', 'request completed'].sort());
    assert.deepEqual(ofRequest('/test/headers'), ['incoming request', 'request completed', 'headers seen'].sort());
    assert.ok(ofRequest('/test/notify').includes('unhandled error'));
    const lookup = [...requestIds.keys()].find((path) => path.startsWith('/test/lookup/'))!;
    assert.ok(ofRequest(lookup).some((msg) => String(msg).startsWith('lookup of')), 'a line the handler wrote');
    assert.deepEqual(ofRequest('/healthz'), [], '/healthz logs at warn and above only');
    assert.equal(new Set(requestIds.values()).size, requestIds.size, 'ids are unique');
  });

  test('keep loopback addresses readable for operators', () => {
    assert.ok(lines.some((l) => /127\.0\.0\.1/.test(String(l.msg))), 'the listening address is logged as is');
  });
});

describe('logger', () => {
  test('redacts credentials inside text and under any credential-like key', () => {
    const p = createPseudonymizer(randomBytes(32));
    const written: string[] = [];
    const log = createLogger({ level: 'info', pseudonymize: p, destination: { write: (l: string) => void written.push(l) } });
    log.info('upstream refused Authorization: Bearer abc.def-ghi for %s', 'someone@example.org');
    log.info({ config: { databaseUrl: 'postgres://haven:s3cr3t-pw@db.internal:5432/haven', clientSecret: 'cs-123', totpEnabled: true, totp: 123456 } }, 'loaded');
    log.info({ 'set-cookie': ['haven_session=abc; HttpOnly'], 'x-api-key': 'k-999', tokens: 'several' }, 'reply');
    const lines = written.map((l) => JSON.parse(l));
    assert.equal(lines[0].msg, `upstream refused Authorization: Bearer [redacted] for ${p('someone@example.org')}`);
    assert.deepEqual(lines[1].config, { databaseUrl: 'postgres://haven:[redacted]@db.internal:5432/haven', clientSecret: '[redacted]', totpEnabled: true, totp: '[redacted]' });
    assert.equal(lines[2]['set-cookie'], '[redacted]');
    assert.equal(lines[2]['x-api-key'], '[redacted]');
    for (const secret of ['abc.def-ghi', 's3cr3t-pw', 'cs-123', '123456', 'k-999', 'someone@']) assert.ok(!written.join('').includes(secret), secret);
  });
});

describe('request loggers', () => {
  test('write with the request id, at the route\'s level, whether or not the child was made yet', () => {
    const written: string[] = [];
    const log = createLogger({ level: 'info', pseudonymize: createPseudonymizer(randomBytes(32)), destination: { write: (l: string) => void written.push(l) } });
    const quiet = lazyChildLogger(log, { reqId: 'r-1' }, { level: 'warn' });
    assert.equal(quiet.level, 'warn');
    assert.equal((quiet as unknown as Logger).isLevelEnabled('info'), false);
    quiet.info('not written');
    quiet.warn({ n: 1 }, 'slow');
    quiet.info('still not written');
    const plain = lazyChildLogger(log, { reqId: 'r-2' }, {});
    plain.debug('below the logger level');
    plain.child({ step: 'x' }).info('from a child');
    const lines = written.map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.reqId, l.msg]), [['r-1', 'slow'], ['r-2', 'from a child']]);
    assert.equal(lines[0].n, 1);
    assert.equal(lines[1].step, 'x');
  });
});

describe('pseudonyms', () => {
  const p = createPseudonymizer(randomBytes(32));

  test('one address gives one pseudonym, however it is spelled', () => {
    assert.equal(p('Someone@Example.ORG'), p('someone@example.org'));
    assert.equal(p('2001:DB8:0:0:0:0:0:7'), p('2001:db8::7'));
    assert.equal(p('::ffff:203.0.113.9'), p('203.0.113.9'), 'an IPv4 client seen through a dual-stack socket');
    assert.equal(scrubText('to someone%40example.org', p), `to ${p('someone@example.org')}`);
    assert.equal(scrubText('ip=2001%3Adb8%3A%3A7&x=1', p), `ip=${p('2001:db8::7')}&x=1`);
    assert.equal(scrubText('from ::ffff:203.0.113.9 ok', p), `from ${p('203.0.113.9')} ok`);
  });

  test('differ by key and do not reveal the value', () => {
    const q = createPseudonymizer(randomBytes(32));
    assert.notEqual(p('someone@example.org'), q('someone@example.org'));
    assert.notEqual(p('someone@example.org'), p('someone.else@example.org'));
    assert.match(p('someone@example.org'), /^p_[A-Za-z0-9_-]{16}$/);
  });

  test('leave text without personal data alone', () => {
    for (const s of ['listening on 127.0.0.1:8080', 'took 12.5 ms', 'version 0.1.0', 'at 2025-01-02T03:04:05.678Z', 'std::string', 'ratio 1:2']) {
      assert.equal(scrubText(s, p), s);
    }
  });
});
