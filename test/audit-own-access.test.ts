// "Who accessed my account": every signed-in person reads the audit entries
// about themself made by someone else — an admin, support under a grant, an
// operator's command — newest first, page by page; never their own actions
// and never another person's log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const PASSWORD = 'correct horse battery staple';

describe('own access log', () => {
  let haven: TestHaven;
  let tenantId: string;
  let owner: ApiClient;
  let person: ApiClient;
  let other: ApiClient;
  let personId: string;
  let ownerId: string;

  async function member(email: string): Promise<{ client: ApiClient; id: string }> {
    const added = await owner.post('/api/v1/users', { email, role: 'viewer' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    await haven.platform.db.ownerPool.query(`update users set password_hash = (select password_hash from users where email_normalized = 'owner@own.test') where email_normalized = $1`, [email]);
    const client = new ApiClient(haven.url);
    await client.signIn(email, PASSWORD);
    return { client, id: added.body.id };
  }

  async function all(client: ApiClient, limit: number): Promise<any[]> {
    const items: any[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const res: { status: number; body: any } = await client.get(`/api/v1/account/access-log?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.items.length <= limit);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!cursor) return items;
    }
    assert.fail('pagination did not end');
  }

  before(async () => {
    haven = await startTestHaven();
    const { tenant } = await haven.modules.setup({ tenantName: 'Own access', adminEmail: 'owner@own.test', adminPassword: PASSWORD });
    tenantId = tenant.id;
    owner = new ApiClient(haven.url);
    await owner.signIn('owner@own.test', PASSWORD);
    ownerId = (await owner.get('/api/v1/account')).body.id;
    ({ client: person, id: personId } = await member('person@own.test'));
    ({ client: other } = await member('other@own.test'));

    // The person's own doings are about them but not accesses by others.
    assert.equal((await person.patch('/api/v1/account', { displayName: 'Pat Person' })).status, 200);

    // An admin reads the person's record and changes their role (which signs them out).
    assert.equal((await owner.get(`/api/v1/users/${personId}`)).status, 200);
    assert.equal((await owner.patch(`/api/v1/users/${personId}`, { role: 'editor' })).status, 200);

    // An operator's command about the account lands in the platform chain.
    await haven.modules.identity.operator.setPlatformRole('person@own.test', 'reseller', true);
    await haven.modules.identity.operator.setPlatformRole('person@own.test', 'reseller', false);

    // Haven has no API yet that issues support grants; this is the entry a
    // support representative's read under a grant records (audit.recordStaffRead).
    await haven.platform.db.withTenant(tenantId, (tx) => haven.modules.audit.recordStaffRead(tx,
      { tenantId, actor: { type: 'support_grant', grantId: '7d0c5d8e-3f7a-4a8b-9d44-0d6a2b1f9e11', userId: ownerId, tenantId } },
      { target: { type: 'user', id: personId }, category: 'personal_data' }));

    person = new ApiClient(haven.url);
    await person.signIn('person@own.test', PASSWORD);
    assert.equal((await person.patch('/api/v1/account', { displayName: 'Pat P.' })).status, 200);
  });
  after(() => haven.stop());

  test('the person sees what admins, support and operators did, newest first, and none of their own actions', async () => {
    const res = await person.get('/api/v1/account/access-log');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const items = res.body.items as any[];
    assert.equal(res.body.nextCursor, null);
    const actions = items.map((e) => e.action);
    for (const a of ['user.add', 'user.read', 'user.update', 'user.platform_role.grant', 'user.platform_role.revoke']) assert.ok(actions.includes(a), `${a} listed (${actions.join(', ')})`);
    assert.ok(!actions.some((a) => a === 'account.update' || a.startsWith('auth.login')), `own actions are not listed (${actions.join(', ')})`);
    assert.ok(items.every((e) => e.actor.userId !== personId));

    const times = items.map((e) => Date.parse(e.occurredAt));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');

    const update = items.find((e) => e.action === 'user.update');
    assert.equal(update.scope, 'organization');
    assert.equal(update.actor.type, 'user');
    assert.equal(update.actor.userId, ownerId, 'the staff member who acted is named by id');
    assert.deepEqual(update.diff, { role: { from: 'viewer', to: 'editor' } });

    const grant = items.find((e) => e.action === 'user.platform_role.grant');
    assert.equal(grant.scope, 'platform');
    assert.equal(grant.actor.type, 'system');
    assert.equal(grant.actor.job, 'operator');
    assert.deepEqual(grant.details, { role: 'reseller' });

    const support = items.find((e) => e.actor.type === 'support_grant');
    assert.ok(support, 'the support read is listed');
    assert.equal(support.action, 'user.read');
    assert.deepEqual(support.details, { category: 'personal_data' });
    assert.ok(support.actor.grant && !support.actor.grant.includes('7d0c5d8e'), 'the grant is referenced by its pseudonym');

    const text = JSON.stringify(res.body);
    assert.ok(!text.includes('owner@own.test') && !text.includes('Pat'), 'no emails or names');
    assert.ok(!('ipPseudonym' in items[0]) && !('hash' in items[0]), 'staff addresses and chain internals are not exposed');
  });

  test('pages of one entry walk the same list without gaps or repeats', async () => {
    const whole = (await person.get('/api/v1/account/access-log?limit=200')).body.items as any[];
    const paged = await all(person, 1);
    assert.deepEqual(paged.map((e) => e.id), whole.map((e) => e.id));
    const byTwo = await all(person, 2);
    assert.deepEqual(byTwo.map((e) => e.id), whole.map((e) => e.id));
  });

  test('another person does not see these entries; the owner sees only accesses to themself', async () => {
    const theirs = await all(other, 50);
    assert.ok(theirs.length >= 1, 'their own addition by the owner is listed');
    assert.ok(theirs.every((e) => e.action === 'user.add'), JSON.stringify(theirs.map((e) => e.action)));
    const mine = new Set((await all(person, 50)).map((e) => e.id));
    assert.ok(theirs.every((e) => !mine.has(e.id)));

    const ownerLog = await all(owner, 50);
    assert.ok(ownerLog.every((e) => e.actor.userId !== ownerId));
    assert.ok(ownerLog.every((e) => !mine.has(e.id)));
  });

  test('reading the log is not audited, needs a session, and rejects a bad cursor or limit', async () => {
    await haven.modules.audit.seal();
    const before = (await owner.get(`/api/v1/audit/events?targetId=${personId}&limit=500`)).body.items.length;
    await person.get('/api/v1/account/access-log');
    await haven.modules.audit.seal();
    const afterCount = (await owner.get(`/api/v1/audit/events?targetId=${personId}&limit=500`)).body.items.length;
    assert.equal(afterCount, before);

    expectError(await new ApiClient(haven.url).get('/api/v1/account/access-log'), 401, 'unauthenticated');
    expectError(await person.get('/api/v1/account/access-log?cursor=not-a-cursor'), 400, 'invalid_cursor');
    expectError(await person.get(`/api/v1/account/access-log?cursor=${Buffer.from('{"at":"x"}').toString('base64url')}`), 400, 'invalid_cursor');
    const bad = await person.get('/api/v1/account/access-log?limit=0');
    assert.equal(bad.status, 400);
  });

  test('an access older than more of the person\'s own entries than one request scans is still reached', async () => {
    const before = (await all(person, 200)).map((e) => e.id);
    // 1,200 entries of the person acting on their own account, newer than every access above.
    await haven.platform.db.withTenant(tenantId, async (tx) => {
      const ctx = { tenantId, actor: { type: 'user' as const, userId: personId, tenantId, role: 'editor' as const, platformRoles: [] } };
      for (let i = 0; i < 1200; i++) await haven.modules.audit.record(tx, ctx, { action: 'account.update', target: { type: 'user', id: personId } });
    });
    assert.equal((await owner.get(`/api/v1/users/${personId}`)).status, 200);
    const first = await person.get('/api/v1/account/access-log?limit=5');
    assert.equal(first.body.items[0].action, 'user.read', 'the newest access comes first');
    assert.ok(first.body.nextCursor, 'more to read behind the own entries');
    const paged = await all(person, 5);
    assert.deepEqual(paged.map((e) => e.id).slice(1), before, 'every older access is still reached');
  });
});
