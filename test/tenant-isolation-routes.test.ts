// Walks every route in the OpenAPI document as an owner of tenant A, with the
// ids of tenant B's things, and expects 404 — never 403, never B's data. A new
// route with a path parameter fails this test until it has a fixture below, so
// every later route is covered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { emitVideoEvent } from '../src/modules/library/index.ts';
import { ApiClient } from './helpers/client.ts';
import { insertVideo } from './helpers/library.ts';
import { SoftwareAuthenticator } from './helpers/webauthn-authenticator.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';

/** How to get an id of tenant B's for each path-parameter route. */
type Fixture = (b: TenantB, a: { slug: string }) => Record<string, string>;
interface TenantB { api: ApiClient; ids: Record<string, string> }
const id = (key: string): Fixture => (b) => ({ id: b.ids[key]! });

const fixtures: Record<string, Fixture> = {
  '/api/v1/users/{id}': id('user'),
  '/api/v1/users/{id}/sessions': id('user'),
  '/api/v1/account/sessions/{id}': id('session'),
  '/api/v1/account/tokens/{id}': id('token'),
  '/api/v1/account/passkeys/{id}': id('passkey'),
  '/api/v1/consent/{id}': id('consentDocument'),
  '/api/v1/sso/providers/{id}': id('ssoProvider'),
  '/api/v1/invitations/{id}': id('invitation'),
  '/api/v1/invitations/{id}/resend': id('invitation'),
  '/api/v1/groups/{id}': id('group'),
  '/api/v1/groups/{id}/members': id('group'),
  '/api/v1/groups/{id}/members/{userId}': (b) => ({ id: b.ids.group!, userId: b.ids.user! }),
  // Tenant A's public sign-in page must not start a sign-in with B's provider.
  '/api/v1/auth/sso/{tenantSlug}/{providerId}/start': (b, a) => ({ tenantSlug: a.slug, providerId: b.ids.ssoProvider! }),
  // library
  '/api/v1/videos/{id}': id('video'),
  '/api/v1/videos/{id}/versions': id('video'),
  '/api/v1/videos/{id}/attachments': id('video'),
  '/api/v1/videos/{id}/attachments/{attachmentId}': (b) => ({ id: b.ids.video!, attachmentId: b.ids.attachment! }),
  '/api/v1/custom-fields/{id}': id('customField'),
  '/api/v1/collections/{id}': id('collection'),
  '/api/v1/collections/{id}/videos': id('collection'),
  '/api/v1/collections/{id}/videos/{videoId}': (b) => ({ id: b.ids.collection!, videoId: b.ids.video! }),
  '/api/v1/webhooks/{id}': id('webhook'),
  '/api/v1/webhooks/{id}/rotate-secret': id('webhook'),
  '/api/v1/webhooks/{id}/deliveries': id('webhook'),
  '/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': (b) => ({ id: b.ids.webhook!, deliveryId: b.ids.webhookDelivery! }),
  // media: tus uploads (HEAD is not in the document; PATCH/DELETE/GET are) and the progress stream
  '/api/v1/uploads/{id}': id('upload'),
  '/api/v1/videos/{id}/events': id('uploadedVideo'),
  // playback: player (caption tracks)
  '/api/v1/videos/{id}/captions': id('video'),
  '/api/v1/videos/{id}/captions/{lang}': (b) => ({ id: b.ids.video!, lang: 'en' }),
  // playback access: policy, links, password unlock, audience SSO
  '/api/v1/videos/{id}/access': id('video'),
  '/api/v1/videos/{id}/links': id('video'),
  '/api/v1/videos/{id}/links/{linkId}': (b) => ({ id: b.ids.video!, linkId: b.ids.videoLink! }),
  '/api/v1/videos/{id}/unlock': id('video'),
  '/api/v1/videos/{id}/audience/sso/{providerId}': (b) => ({ id: b.ids.video!, providerId: b.ids.ssoProvider! }),
  // playback delivery: the token is only issued after the policy admits the caller (/play/* is token-addressed, not in the document)
  '/api/v1/videos/{id}/playback': id('video'),
  // playback analytics: one video's figures
  '/api/v1/analytics/videos/{id}': id('video'),
  // privacy offboarding: operators only; anyone else is told the tenant does not exist
  '/api/v1/platform/tenants/{id}/offboard': id('tenant'),
  // media quotas: operators only; anyone else is told the tenant does not exist
  '/api/v1/platform/tenants/{id}/quotas': id('tenant'),
  // privacy: the trash (B's video is not in A's trash, whichever state it is in)
  '/api/v1/trash/{type}/{id}/restore': (b) => ({ type: 'video', id: b.ids.video! }),
  '/api/v1/trash/{type}/{id}': (b) => ({ type: 'video', id: b.ids.video! }),
  // privacy: records (B's transfer basis)
  '/api/v1/privacy/transfers/{id}': id('transferBasis'),
  // privacy: data-subject requests (B's pending request)
  '/api/v1/privacy/requests/{id}/export-link': id('privacyRequest'),
  '/api/v1/privacy/tenant-requests/{id}/approve': id('privacyRequest'),
  '/api/v1/privacy/tenant-requests/{id}/deny': id('privacyRequest'),
  '/api/v1/privacy/tenant-requests/{id}/export-link': id('privacyRequest'),
  // web gaps: a video's poster for the library grid
  '/api/v1/videos/{id}/poster': id('video'),
};

/** Public by design: names a tenant's sign-in buttons, by the tenant's slug. */
const exempt = new Set<string>([
  '/api/v1/auth/sso/{tenantSlug}/providers',
  // Unauthenticated by design, addressed by a secret rather than by tenant: a
  // DSAR's id plus the code mailed to the subject, and an export's one-time token.
  '/api/v1/privacy/public-requests/{id}/verify',
  '/api/v1/privacy/exports/{token}',
  // Platform-wide, owned by no tenant: operators manage maintenance notices (test/notices.test.ts checks the 403 for everyone else).
  '/api/v1/platform/notices/{id}',
  // The public landing of a tenant, by slug: lists only videos whose policy admits anyone (test/web-account.test.ts).
  '/api/v1/public/tenants/{slug}/videos',
]);

describe('tenant isolation over every route', () => {
  let haven: TestHaven;
  let a: ApiClient;
  const b: TenantB = { api: undefined as unknown as ApiClient, ids: {} };

  before(async () => {
    // Passkeys are bound to the public origin (an RP ID cannot be an IP address).
    haven = await startTestHaven({
      config: {
        publicUrl: 'https://haven.test',
        subprocessors: [{ name: 'Relay', purpose: 'mail', dataCategories: ['user.contact.email'], location: 'US', jurisdiction: 'US', features: ['email'], hosts: [] }],
      },
    });
    await haven.modules.setup({ tenantName: 'Tenant A', adminEmail: 'owner@a.test', adminPassword: PASSWORD });
    await haven.modules.setup({ tenantName: 'Tenant B', adminEmail: 'owner@b.test', adminPassword: PASSWORD });
    a = new ApiClient(haven.url);
    await a.signIn('owner@a.test', PASSWORD);
    b.api = new ApiClient(haven.url);
    await b.api.signIn('owner@b.test', PASSWORD);
    b.ids.user = (await b.api.post('/api/v1/users', { email: 'member@b.test', role: 'editor' })).body.id;
    b.ids.session = (await b.api.get('/api/v1/account/sessions')).body.items[0].id;
    b.ids.token = (await b.api.post('/api/v1/account/tokens', { name: 'b', scopes: ['users:read'] })).body.id;
    b.ids.ssoProvider = (await b.api.post('/api/v1/sso/providers', { name: 'B', preset: 'google', clientId: 'b', clientSecret: 'b-secret' })).body.id;
    b.ids.transferBasis = (await b.api.post('/api/v1/privacy/transfers', { subprocessor: 'Relay', basis: 'scc' })).body.id;
    b.ids.privacyRequest = (await b.api.post('/api/v1/privacy/tenant-requests', { email: 'subject@b.test', type: 'rectification' })).body.id;
    b.ids.invitation = (await b.api.post('/api/v1/invitations', { email: 'invitee@b.test', role: 'viewer' })).body.id;
    b.ids.group = (await b.api.post('/api/v1/groups', { name: 'B group' })).body.id;
    await b.api.post(`/api/v1/groups/${b.ids.group}/members`, { userIds: [b.ids.user] });
    b.ids.consentDocument = (await b.api.post('/api/v1/consent/documents', { kind: 'terms', title: 'B terms', body: 'B only.' })).body.id;
    await b.api.signIn('owner@b.test', PASSWORD);
    b.ids.tenant = (await b.api.get('/api/v1/tenant')).body.id;
    await createLibraryFixtures(haven, b);
    await createMediaFixtures(b);
    // Last: with a passkey, B's password sign-in would need it as a second factor.
    b.ids.passkey = await registerPasskey(b.api, 'https://haven.test');
    for (const [k, v] of Object.entries(b.ids)) assert.ok(v, `fixture ${k} was created`);
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
        const params = fixtures[path]!(b, { slug: 'tenant-a' });
        const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => params[name]!);
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

/** An upload of B's (tus creation), which also creates B's video. */
async function createMediaFixtures(b: TenantB): Promise<void> {
  const res = await b.api.call('POST', '/api/v1/uploads', undefined, { 'tus-resumable': '1.0.0', 'upload-length': '10' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  b.ids.upload = res.headers.get('location')!.split('/').pop()!;
  b.ids.uploadedVideo = res.headers.get('haven-video-id')!;
}

/** A body that passes validation, so the request reaches the tenant check. */
function bodyFor(path: string): unknown {
  if (path === '/api/v1/users/{id}') return { role: 'viewer' };
  if (path === '/api/v1/consent/{id}') return { decision: 'accepted' };
  if (path === '/api/v1/sso/providers/{id}') return { enabled: false };
  if (path === '/api/v1/account/passkeys/{id}') return { name: 'renamed' };
  if (path === '/api/v1/collections/{id}/videos') return { videoIds: ['00000000-0000-4000-8000-000000000000'] };
  if (path === '/api/v1/videos/{id}/access') return { audiences: [{ type: 'public' }] };
  if (path === '/api/v1/videos/{id}/unlock') return { password: 'a guess at it' };
  if (path === '/api/v1/privacy/tenant-requests/{id}/deny') return { reason: 'not yours' };
  if (path === '/api/v1/groups/{id}/members') return { userIds: ['00000000-0000-4000-8000-000000000000'] };
  return {};
}

/** Tenant B's video, attachment, custom field, collection, webhook and delivery. */
async function createLibraryFixtures(haven: TestHaven, b: TenantB): Promise<void> {
  const tenant = (await b.api.get('/api/v1/tenant')).body;
  b.ids.video = await insertVideo(haven, { tenantId: tenant.id, region: tenant.region }, { title: 'B video' });
  const attachment = await fetch(new URL(`/api/v1/videos/${b.ids.video}/attachments?filename=b.txt`, haven.url), {
    method: 'POST', headers: { cookie: b.api.cookie!, 'x-csrf-token': b.api.csrf!, 'content-type': 'text/plain' }, body: 'B only',
  });
  b.ids.attachment = ((await attachment.json()) as { id: string }).id;
  b.ids.customField = (await b.api.post('/api/v1/custom-fields', { key: 'b_field', label: 'B field', type: 'text' })).body.id;
  b.ids.collection = (await b.api.post('/api/v1/collections', { name: 'B folder' })).body.id;
  await b.api.post(`/api/v1/collections/${b.ids.collection}/videos`, { videoIds: [b.ids.video] });
  // .invalid never resolves, so no delivery leaves the machine.
  b.ids.webhook = (await b.api.post('/api/v1/webhooks', { url: 'https://hooks.haven.invalid/b', events: ['video.ready'] })).body.id;
  await haven.platform.db.withTenant(tenant.id, (tx) => emitVideoEvent(tx, tenant.id, 'video.ready', { videoId: b.ids.video! }));
  b.ids.webhookDelivery = (await b.api.get(`/api/v1/webhooks/${b.ids.webhook}/deliveries`)).body.items[0]?.id;
  b.ids.videoLink = (await b.api.post(`/api/v1/videos/${b.ids.video}/links`, { label: 'B link' })).body.id;
}

async function registerPasskey(api: ApiClient, origin: string): Promise<string> {
  assert.equal((await api.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 204);
  const options = await api.post('/api/v1/account/passkeys/options');
  const credential = new SoftwareAuthenticator(origin).create(options.body);
  const created = await api.post('/api/v1/account/passkeys', { name: 'B key', credential });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}
