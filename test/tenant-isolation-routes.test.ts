// Walks every route in the OpenAPI document as an owner of tenant A, with the
// ids of tenant B's things, and expects 404 — never 403, never B's data. A new
// route with a path parameter fails this test until it has a fixture below, so
// every later route is covered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';

/** How to get an id of tenant B's for each path-parameter route. */
type Fixture = (b: TenantB) => string;
interface TenantB { api: ApiClient; ids: Record<string, string> }

const fixtures: Record<string, Fixture> = {
  '/api/v1/users/{id}': (b) => b.ids.user!,
  '/api/v1/users/{id}/sessions': (b) => b.ids.user!,
  '/api/v1/account/sessions/{id}': (b) => b.ids.session!,
  '/api/v1/account/tokens/{id}': (b) => b.ids.token!,
  '/api/v1/consent/{id}': (b) => b.ids.consentDocument!,
};

/** Routes whose path parameter is not a tenant-owned id. */
const exempt = new Set<string>([]);

describe('tenant isolation over every route', () => {
  let haven: TestHaven;
  let a: ApiClient;
  const b: TenantB = { api: undefined as unknown as ApiClient, ids: {} };

  before(async () => {
    haven = await startTestHaven();
    await haven.modules.setup({ tenantName: 'Tenant A', adminEmail: 'owner@a.test', adminPassword: PASSWORD });
    await haven.modules.setup({ tenantName: 'Tenant B', adminEmail: 'owner@b.test', adminPassword: PASSWORD });
    a = new ApiClient(haven.url);
    await a.signIn('owner@a.test', PASSWORD);
    b.api = new ApiClient(haven.url);
    await b.api.signIn('owner@b.test', PASSWORD);
    b.ids.user = (await b.api.post('/api/v1/users', { email: 'member@b.test', role: 'editor' })).body.id;
    b.ids.session = (await b.api.get('/api/v1/account/sessions')).body.items[0].id;
    b.ids.token = (await b.api.post('/api/v1/account/tokens', { name: 'b', scopes: ['users:read'] })).body.id;
    b.ids.consentDocument = (await b.api.post('/api/v1/consent/documents', { kind: 'terms', title: 'B terms', body: 'B only.' })).body.id;
    await b.api.signIn('owner@b.test', PASSWORD);
  });
  after(() => haven.stop());

  test('every parameterized route answers 404 for the other tenant\'s ids', async () => {
    const doc = (await a.get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: { in: string }[] }>> };
    const withParams = Object.keys(doc.paths).filter((p) => p.includes('{'));
    const missing = withParams.filter((p) => !fixtures[p] && !exempt.has(p));
    assert.deepEqual(missing, [], 'every route with a path parameter needs an isolation fixture in this file');

    const secrets = Object.values(b.ids);
    let checked = 0;
    for (const path of withParams.filter((p) => fixtures[p])) {
      for (const method of Object.keys(doc.paths[path]!)) {
        const url = path.replace(/\{[^}]+\}/g, fixtures[path]!(b));
        const body = method === 'get' || method === 'delete' ? undefined : bodyFor(path);
        const res = await a.call(method.toUpperCase(), url, body);
        assert.equal(res.status, 404, `${method.toUpperCase()} ${path} with tenant B's id: ${res.status} ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.code, /not_found$/, `${method.toUpperCase()} ${path}`);
        const text = JSON.stringify(res.body);
        for (const s of secrets) assert.ok(!text.includes('member@b.test') && !text.includes(`"${s}",`), `${path} leaks data`);
        checked += 1;
      }
    }
    assert.ok(checked >= 6, `checked ${checked} route/method pairs`);
  });

  test('tenant B\'s things are untouched', async () => {
    const users = await b.api.get('/api/v1/users');
    const member = users.body.items.find((u: any) => u.id === b.ids.user);
    assert.equal(member.role, 'editor');
    assert.equal(member.status, 'active');
    const tokens = await b.api.get('/api/v1/account/tokens');
    assert.equal(tokens.body.items[0].revoked_at, null);
  });
});

/** A body that passes validation, so the request reaches the tenant check. */
function bodyFor(path: string): unknown {
  if (path === '/api/v1/users/{id}') return { role: 'viewer' };
  if (path === '/api/v1/consent/{id}') return { decision: 'accepted' };
  return {};
}
