// The access policy as a table: each row a policy, what the viewer brings,
// and the decision. evaluatePolicy does no I/O, so every rule and every
// combination is shown here without a server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluatePolicy, type PolicyFacts, policySchema } from '../src/modules/playback/access/index.ts';
import { hostMatches, ipAllowed, parseCidr } from '../src/modules/playback/access/policy.ts';

const NOW = new Date('2030-06-15T12:00:00Z');
const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const providers = [{ id: P1, name: 'Staff IdP', startUrl: `/start/${P1}` }, { id: P2, name: 'Partners', startUrl: `/start/${P2}` }];
const anon: PolicyFacts = { published: true, ip: '198.51.100.7' };
const SALES = '33333333-3333-4333-8333-333333333333';
const BOARD = '44444444-4444-4444-8444-444444444444';
const OTHER_GROUP = '55555555-5555-4555-8555-555555555555';

interface Case {
  name: string;
  policy: unknown;
  facts?: Partial<PolicyFacts>;
  now?: Date;
  /** 'allow:<via>' or the denial code. */
  expect: string;
  needs?: string;
  status?: number;
}

const cases: Case[] = [
  // one audience alone
  { name: 'public admits anyone', policy: { audiences: [{ type: 'public' }] }, expect: 'allow:public' },
  { name: 'default members: anonymous must sign in', policy: { audiences: [{ type: 'members' }] }, expect: 'signin_required', needs: 'signin', status: 401 },
  { name: 'members: a viewer of the tenant is admitted', policy: { audiences: [{ type: 'members' }] }, facts: { member: { role: 'viewer' } }, expect: 'allow:members' },
  { name: 'members by role: viewer not in the list', policy: { audiences: [{ type: 'members', roles: ['admin'] }] }, facts: { member: { role: 'viewer' } }, expect: 'role_not_allowed', status: 403 },
  { name: 'members by role: listed role admitted', policy: { audiences: [{ type: 'members', roles: ['viewer'] }] }, facts: { member: { role: 'viewer' } }, expect: 'allow:members' },
  { name: 'members by group: a member of the group is admitted', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [SALES] } }, expect: 'allow:members' },
  { name: 'members by group: a member of any one of the groups is enough', policy: { audiences: [{ type: 'members', groups: [SALES, BOARD] }] }, facts: { member: { role: 'viewer', groupIds: [OTHER_GROUP, BOARD] } }, expect: 'allow:members' },
  { name: 'members by group: a member of other groups only', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [OTHER_GROUP] } }, expect: 'group_not_allowed', status: 403 },
  { name: 'members by group: a member of no group', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [] } }, expect: 'group_not_allowed', status: 403 },
  { name: 'members by group: groups not known counts as in none', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, facts: { member: { role: 'viewer' } }, expect: 'group_not_allowed' },
  { name: 'members by group: anonymous must sign in', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, expect: 'signin_required', needs: 'signin', status: 401 },
  { name: 'members by group: someone signed in to another tenant sees no video', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, facts: { signedInElsewhere: true }, expect: 'video_not_found', status: 404 },
  { name: 'members by role and group: both hold', policy: { audiences: [{ type: 'members', roles: ['viewer'], groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [SALES] } }, expect: 'allow:members' },
  { name: 'members by role and group: in the group, role not listed', policy: { audiences: [{ type: 'members', roles: ['admin'], groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [SALES] } }, expect: 'role_not_allowed' },
  { name: 'members by role and group: role listed, not in the group', policy: { audiences: [{ type: 'members', roles: ['viewer'], groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [BOARD] } }, expect: 'group_not_allowed' },
  { name: 'members by group must meet the conditions too', policy: { audiences: [{ type: 'members', groups: [SALES] }], conditions: { availableUntil: '2030-06-01T00:00:00Z' } }, facts: { member: { role: 'viewer', groupIds: [SALES] } }, expect: 'no_longer_available' },
  { name: 'members only: someone signed in to another tenant sees no video', policy: { audiences: [{ type: 'members' }] }, facts: { signedInElsewhere: true }, expect: 'video_not_found', status: 404 },
  { name: 'link: without one, the link is needed', policy: { audiences: [{ type: 'link' }] }, expect: 'link_required', needs: 'link', status: 403 },
  { name: 'link: a valid link admits', policy: { audiences: [{ type: 'link' }] }, facts: { link: 'valid' }, expect: 'allow:link' },
  { name: 'link: revoked', policy: { audiences: [{ type: 'link' }] }, facts: { link: 'revoked' }, expect: 'link_revoked' },
  { name: 'link: expired', policy: { audiences: [{ type: 'link' }] }, facts: { link: 'expired' }, expect: 'link_expired' },
  { name: 'link: an unknown secret is no link', policy: { audiences: [{ type: 'link' }] }, facts: { link: 'unknown' }, expect: 'link_required' },
  { name: 'password: locked', policy: { audiences: [{ type: 'password' }] }, expect: 'password_required', needs: 'password', status: 401 },
  { name: 'password: unlocked', policy: { audiences: [{ type: 'password' }] }, facts: { passwordUnlocked: true }, expect: 'allow:password' },
  { name: 'sso: not signed in', policy: { audiences: [{ type: 'sso' }] }, expect: 'sso_required', needs: 'sso', status: 401 },
  { name: 'sso: signed in through any provider', policy: { audiences: [{ type: 'sso' }] }, facts: { audience: { providerId: P2, email: 'x@partner.test' } }, expect: 'allow:sso' },
  { name: 'sso: only some providers', policy: { audiences: [{ type: 'sso', providerIds: [P1] }] }, facts: { audience: { providerId: P2, email: 'x@partner.test' } }, expect: 'sso_required' },
  { name: 'sso + domain: address in the domain', policy: { audiences: [{ type: 'sso', emailDomains: ['corp.test'] }] }, facts: { audience: { providerId: P1, email: 'ann@corp.test' } }, expect: 'allow:sso' },
  { name: 'sso + domain: other domain', policy: { audiences: [{ type: 'sso', emailDomains: ['corp.test'] }] }, facts: { audience: { providerId: P1, email: 'ann@evilcorp.test' } }, expect: 'email_domain_not_allowed', status: 403 },
  { name: 'sso + domain: no address at all', policy: { audiences: [{ type: 'sso', emailDomains: ['corp.test'] }] }, facts: { audience: { providerId: P1, email: null } }, expect: 'email_domain_not_allowed' },
  { name: 'sso + domain: subdomain is not the domain', policy: { audiences: [{ type: 'sso', emailDomains: ['corp.test'] }] }, facts: { audience: { providerId: P1, email: 'ann@eu.corp.test' } }, expect: 'email_domain_not_allowed' },

  // conditions
  { name: 'public + ip: inside the range', policy: { audiences: [{ type: 'public' }], conditions: { ipAllow: ['198.51.100.0/24'] } }, expect: 'allow:public' },
  { name: 'public + ip: outside', policy: { audiences: [{ type: 'public' }], conditions: { ipAllow: ['203.0.113.0/24'] } }, expect: 'ip_not_allowed', status: 403 },
  { name: 'public + ip: IPv4-mapped IPv6 address counts as IPv4', policy: { audiences: [{ type: 'public' }], conditions: { ipAllow: ['198.51.100.0/24'] } }, facts: { ip: '::ffff:198.51.100.9' }, expect: 'allow:public' },
  { name: 'public + ip: IPv6 range', policy: { audiences: [{ type: 'public' }], conditions: { ipAllow: ['2001:db8::/32'] } }, facts: { ip: '2001:db8:1::5' }, expect: 'allow:public' },
  { name: 'public + ip: no address known', policy: { audiences: [{ type: 'public' }], conditions: { ipAllow: ['0.0.0.0/0'] } }, facts: { ip: undefined }, expect: 'ip_not_allowed' },
  { name: 'ip is checked before asking for a password', policy: { audiences: [{ type: 'password' }], conditions: { ipAllow: ['203.0.113.0/24'] } }, expect: 'ip_not_allowed' },
  { name: 'referrer: matching site', policy: { audiences: [{ type: 'public' }], conditions: { referrers: ['example.com'] } }, facts: { referer: 'https://example.com/blog/post' }, expect: 'allow:public' },
  { name: 'referrer: wildcard matches a subdomain', policy: { audiences: [{ type: 'public' }], conditions: { referrers: ['*.example.com'] } }, facts: { referer: 'https://www.example.com/' }, expect: 'allow:public' },
  { name: 'referrer: wildcard does not match the bare domain', policy: { audiences: [{ type: 'public' }], conditions: { referrers: ['*.example.com'] } }, facts: { referer: 'https://example.com/' }, expect: 'referrer_not_allowed' },
  { name: 'referrer: look-alike domain', policy: { audiences: [{ type: 'public' }], conditions: { referrers: ['example.com'] } }, facts: { referer: 'https://example.com.evil.test/' }, expect: 'referrer_not_allowed' },
  { name: 'referrer: missing referer is refused', policy: { audiences: [{ type: 'public' }], conditions: { referrers: ['example.com'] } }, expect: 'referrer_not_allowed', status: 403 },
  { name: 'window: before availableFrom', policy: { audiences: [{ type: 'public' }], conditions: { availableFrom: '2030-07-01T00:00:00Z' } }, expect: 'not_available_yet', status: 403 },
  { name: 'window: after availableUntil', policy: { audiences: [{ type: 'public' }], conditions: { availableUntil: '2030-06-01T00:00:00Z' } }, expect: 'no_longer_available' },
  { name: 'window: inside', policy: { audiences: [{ type: 'public' }], conditions: { availableFrom: '2030-06-01T00:00:00Z', availableUntil: '2030-07-01T00:00:00Z' } }, expect: 'allow:public' },
  { name: 'link + window: valid link outside the window', policy: { audiences: [{ type: 'link' }], conditions: { availableUntil: '2030-06-01T00:00:00Z' } }, facts: { link: 'valid' }, expect: 'no_longer_available' },
  { name: 'link + window: valid link inside the window', policy: { audiences: [{ type: 'link' }], conditions: { availableFrom: '2030-06-01T00:00:00Z' } }, facts: { link: 'valid' }, expect: 'allow:link' },
  { name: 'members must meet the conditions too', policy: { audiences: [{ type: 'members' }], conditions: { ipAllow: ['10.0.0.0/8'] } }, facts: { member: { role: 'viewer' } }, expect: 'ip_not_allowed' },

  // staff and publishing
  { name: 'staff bypass: editor outside the window and the network', policy: { audiences: [{ type: 'link' }], conditions: { ipAllow: ['10.0.0.0/8'], availableUntil: '2030-01-01T00:00:00Z' } }, facts: { member: { role: 'editor' } }, expect: 'allow:staff' },
  { name: 'staff bypass: an editor in no group', policy: { audiences: [{ type: 'members', groups: [SALES] }] }, facts: { member: { role: 'editor', groupIds: [] } }, expect: 'allow:staff' },
  { name: 'staff bypass: admin not in a members role list', policy: { audiences: [{ type: 'members', roles: ['viewer'] }] }, facts: { member: { role: 'admin' } }, expect: 'allow:staff' },
  { name: 'unpublished: staff preview', policy: { audiences: [{ type: 'public' }] }, facts: { published: false, member: { role: 'owner' } }, expect: 'allow:staff' },
  { name: 'unpublished: public video, anonymous viewer must sign in', policy: { audiences: [{ type: 'public' }] }, facts: { published: false }, expect: 'signin_required' },
  { name: 'unpublished: a viewer member does not see it', policy: { audiences: [{ type: 'public' }] }, facts: { published: false, member: { role: 'viewer' } }, expect: 'video_not_found' },

  // several audiences: any admits; otherwise the most helpful prompt
  { name: 'link or password: a revoked link still gets the password prompt', policy: { audiences: [{ type: 'link' }, { type: 'password' }] }, facts: { link: 'revoked' }, expect: 'password_required' },
  { name: 'link or members: sign-in before link', policy: { audiences: [{ type: 'link' }, { type: 'members' }] }, expect: 'signin_required' },
  { name: 'sso or link: sso before link', policy: { audiences: [{ type: 'link' }, { type: 'sso' }] }, expect: 'sso_required' },
  { name: 'password or sso: password first', policy: { audiences: [{ type: 'sso' }, { type: 'password' }] }, expect: 'password_required' },
  { name: 'link or password: a valid link is enough', policy: { audiences: [{ type: 'password' }, { type: 'link' }] }, facts: { link: 'valid' }, expect: 'allow:link' },
  { name: 'public and link: admitted as public (revoking the link ends nothing)', policy: { audiences: [{ type: 'link' }, { type: 'public' }] }, facts: { link: 'valid' }, expect: 'allow:public' },
  { name: 'members or link: a member from the role list with a revoked link', policy: { audiences: [{ type: 'link' }, { type: 'members' }] }, facts: { member: { role: 'viewer' }, link: 'revoked' }, expect: 'allow:members' },
  { name: 'members or link, signed in elsewhere: still told to sign in', policy: { audiences: [{ type: 'link' }, { type: 'members' }] }, facts: { signedInElsewhere: true }, expect: 'signin_required' },
  { name: 'group or password: outside the group, the password prompt', policy: { audiences: [{ type: 'members', groups: [SALES] }, { type: 'password' }] }, facts: { member: { role: 'viewer', groupIds: [] } }, expect: 'password_required' },
  { name: 'group or password: outside the group, unlocked', policy: { audiences: [{ type: 'members', groups: [SALES] }, { type: 'password' }] }, facts: { member: { role: 'viewer', groupIds: [] }, passwordUnlocked: true }, expect: 'allow:password' },
  { name: 'group or password: in the group, admitted as a member', policy: { audiences: [{ type: 'password' }, { type: 'members', groups: [SALES] }] }, facts: { member: { role: 'viewer', groupIds: [SALES] }, passwordUnlocked: true }, expect: 'allow:members' },
  { name: 'group or link: outside the group, a revoked link', policy: { audiences: [{ type: 'members', groups: [SALES] }, { type: 'link' }] }, facts: { member: { role: 'viewer', groupIds: [] }, link: 'revoked' }, expect: 'group_not_allowed' },
  { name: 'public or group: anyone, as public', policy: { audiences: [{ type: 'members', groups: [SALES] }, { type: 'public' }] }, facts: { member: { role: 'viewer', groupIds: [SALES] } }, expect: 'allow:public' },
];

describe('evaluatePolicy', () => {
  for (const c of cases) {
    test(c.name, () => {
      const policy = policySchema.parse(c.policy);
      const result = evaluatePolicy(policy, { ...anon, ...c.facts }, c.now ?? NOW);
      if (c.expect.startsWith('allow:')) {
        assert.equal(result.allowed, true, JSON.stringify(result));
        assert.equal(result.allowed && result.via, c.expect.slice(6));
        return;
      }
      assert.equal(result.allowed, false, `expected ${c.expect}, was allowed`);
      if (result.allowed) return;
      assert.equal(result.code, c.expect);
      assert.ok(result.message.length > 10);
      if (c.needs) assert.equal(result.needs, c.needs);
      if (c.status) assert.equal(result.status, c.status);
    });
  }

  test('sso_required names the providers to offer (only the allowed ones)', () => {
    const all = evaluatePolicy(policySchema.parse({ audiences: [{ type: 'sso' }] }), { ...anon, ssoProviders: providers }, NOW);
    assert.deepEqual(!all.allowed && all.details, { providers });
    const one = evaluatePolicy(policySchema.parse({ audiences: [{ type: 'sso', providerIds: [P2] }] }), { ...anon, ssoProviders: providers }, NOW);
    assert.deepEqual(!one.allowed && one.details, { providers: [providers[1]] });
  });

  test('bindToIp is carried into the grant', () => {
    const bound = evaluatePolicy(policySchema.parse({ audiences: [{ type: 'public' }], conditions: { bindToIp: true } }), anon, NOW);
    assert.equal(bound.allowed && bound.bindIp, true);
    const free = evaluatePolicy(policySchema.parse({ audiences: [{ type: 'public' }] }), anon, NOW);
    assert.equal(free.allowed && free.bindIp, false);
  });

  test('not_available_yet says when', () => {
    const r = evaluatePolicy(policySchema.parse({ audiences: [{ type: 'public' }], conditions: { availableFrom: '2031-01-01T00:00:00Z' } }), anon, NOW);
    assert.deepEqual(!r.allowed && r.details, { availableFrom: '2031-01-01T00:00:00Z' });
  });
});

describe('policy schema', () => {
  const refused: [string, unknown][] = [
    ['no audience', { audiences: [] }],
    ['unknown audience', { audiences: [{ type: 'everyone' }] }],
    ['the same audience twice', { audiences: [{ type: 'public' }, { type: 'public' }] }],
    ['a bad range', { audiences: [{ type: 'public' }], conditions: { ipAllow: ['10.0.0.0/33'] } }],
    ['not an address', { audiences: [{ type: 'public' }], conditions: { ipAllow: ['intranet'] } }],
    ['a referrer with a path', { audiences: [{ type: 'public' }], conditions: { referrers: ['example.com/blog'] } }],
    ['a referrer with a scheme', { audiences: [{ type: 'public' }], conditions: { referrers: ['https://example.com'] } }],
    ['window the wrong way round', { audiences: [{ type: 'public' }], conditions: { availableFrom: '2030-02-01T00:00:00Z', availableUntil: '2030-01-01T00:00:00Z' } }],
    ['a time without zone', { audiences: [{ type: 'public' }], conditions: { availableFrom: '2030-02-01 10:00' } }],
    ['an unknown role', { audiences: [{ type: 'members', roles: ['guest'] }] }],
    ['an empty group list', { audiences: [{ type: 'members', groups: [] }] }],
    ['a group that is no id', { audiences: [{ type: 'members', groups: ['Sales'] }] }],
    ['more than 50 groups', { audiences: [{ type: 'members', groups: Array.from({ length: 51 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }] }],
    ['an unknown condition', { audiences: [{ type: 'public' }], conditions: { geo: ['SE'] } }],
    ['a bad email domain', { audiences: [{ type: 'sso', emailDomains: ['@corp'] }] }],
  ];
  for (const [name, input] of refused) test(`refuses ${name}`, () => assert.equal(policySchema.safeParse(input).success, false));

  test('normalizes domains and defaults conditions', () => {
    const p = policySchema.parse({ audiences: [{ type: 'sso', emailDomains: [' Corp.Test '] }] });
    assert.deepEqual(p, { audiences: [{ type: 'sso', emailDomains: ['corp.test'] }], conditions: {} });
  });

  test('CIDR, host and address helpers', () => {
    assert.deepEqual(parseCidr('10.1.0.0/16'), { address: '10.1.0.0', prefix: 16, family: 'ipv4' });
    assert.deepEqual(parseCidr('2001:db8::1'), { address: '2001:db8::1', prefix: 128, family: 'ipv6' });
    assert.equal(parseCidr('10.0.0.0/8/8'), undefined);
    assert.equal(ipAllowed('10.1.2.3', ['10.1.0.0/16']), true);
    assert.equal(ipAllowed('10.2.2.3', ['10.1.0.0/16']), false);
    assert.equal(ipAllowed('not-an-ip', ['0.0.0.0/0']), false);
    assert.equal(hostMatches('a.b.example.com', '*.example.com'), true);
    assert.equal(hostMatches('notexample.com', '*.example.com'), false);
  });
});
