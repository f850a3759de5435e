// The HTTP foundation: error envelope on every error path, security headers,
// OpenAPI, metrics, health, and rate limits shared across nodes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sharedKeys, startTestHaven, type TestHaven } from './helpers/haven.ts';

describe('http foundation', () => {
  let haven: TestHaven;
  before(async () => {
    haven = await startTestHaven({
      haven: {
        beforeListen: async (app) => {
          app.get('/test/boom', async () => { throw new Error('secret internals: select * from users'); });
          app.post('/test/echo', async (req) => ({ got: req.body }));
        },
      },
    });
  });
  after(() => haven.stop());

  const envelope = async (res: Response) => {
    const body = await res.json() as { error: { code: string; message: string } };
    assert.ok(body.error, 'error envelope');
    assert.equal(typeof body.error.code, 'string');
    assert.ok(body.error.message.length > 5);
    return body.error;
  };

  test('unknown routes answer 404 route_not_found', async () => {
    const res = await haven.request('/api/v1/no-such-thing');
    assert.equal(res.status, 404);
    assert.equal((await envelope(res)).code, 'route_not_found');
  });

  test('malformed JSON answers 400 malformed_json', async () => {
    const res = await haven.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    assert.equal(res.status, 400);
    assert.equal((await envelope(res)).code, 'malformed_json');
  });

  test('oversized bodies answer 413', async () => {
    const big = JSON.stringify({ x: 'a'.repeat(2 * 1024 * 1024) });
    const res = await haven.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(res.status, 413);
    assert.equal((await envelope(res)).code, 'payload_too_large');
  });

  test('unsupported content types answer 415', async () => {
    const res = await haven.request('/test/echo', { method: 'POST', headers: { 'content-type': 'application/x-unknown' }, body: 'x' });
    assert.equal(res.status, 415);
    assert.equal((await envelope(res)).code, 'unsupported_media_type');
  });

  test('a thrown error is a 500 without internals, naming the request id', async () => {
    const res = await haven.request('/test/boom');
    assert.equal(res.status, 500);
    const error = await envelope(res);
    assert.equal(error.code, 'internal_error');
    assert.doesNotMatch(error.message, /select|secret/i);
    assert.ok(error.message.includes(res.headers.get('x-request-id')!));
  });

  test('security headers are set on every response', async () => {
    const res = await haven.request('/healthz');
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
    assert.match(res.headers.get('permissions-policy')!, /geolocation=\(\)/);
    assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
    assert.match(res.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  });

  test('OpenAPI 3.1 document and docs page', async () => {
    const res = await haven.request('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    const doc = await res.json() as { openapi: string; info: { title: string } };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Haven API');
    const page = await haven.request('/api/v1/docs/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger/i);
    // The page's own scripts are allowed by its CSP; the other security headers stay.
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(page.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
    const bundle = await haven.request('/api/v1/docs/static/swagger-ui-bundle.js');
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type')!, /javascript/);
    const size = (await bundle.arrayBuffer()).byteLength;
    assert.ok(size > 100_000);
    const head = await haven.request('/api/v1/docs/static/swagger-ui-bundle.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), size, 'HEAD gives the length of what GET sends');
    const etag = bundle.headers.get('etag');
    assert.ok(etag, 'static assets carry an etag');
    assert.equal((await haven.request('/api/v1/docs/static/swagger-ui-bundle.js', { headers: { 'if-none-match': etag } })).status, 304);
    const spec = await (await haven.request('/api/v1/docs/json')).json() as { info: { title: string } };
    assert.equal(spec.info.title, 'Haven API');
    assert.equal((await haven.request('/api/v1/docs/static/no-such-file.js')).status, 404);
  });

  test('health, readiness and metrics', async () => {
    assert.deepEqual(await (await haven.request('/healthz')).json(), { status: 'ok' });
    const ready = await haven.request('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', storage: 'ok', queue: 'ok' } });
    const metrics = await (await haven.request('/metrics')).text();
    assert.match(metrics, /haven_http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    assert.match(metrics, /# TYPE haven_jobs gauge/);
    assert.match(metrics, /haven_process_resident_memory_bytes/);
  });
});

describe('rate limits hold across nodes', () => {
  test('two Havens on one database share the counter', async () => {
    const keys = sharedKeys();
    const a = await startTestHaven({ config: { rateLimitPerMinute: 5, ...keys } });
    const b = await startTestHaven({ config: { rateLimitPerMinute: 5, ...keys }, database: a.database });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await (i % 2 ? a : b).request('/api/v1/openapi.json')).status);
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
      assert.deepEqual(statuses.slice(5), [429, 429, 429]);
      const limited = await a.request('/api/v1/openapi.json');
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
