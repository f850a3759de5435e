// A video's audience policy and the one function that evaluates it. No I/O:
// everything the decision depends on arrives as facts, so every rule can be
// shown in a table of cases (test/playback-policy.test.ts).
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { roleAtLeast } from '../../identity/access.ts';
import type { TenantRole } from '../../identity/actor.ts';
import type { AccessNeed } from '../contracts.ts';

export const memberRoles = ['owner', 'admin', 'editor', 'viewer'] as const;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const emailDomain = z.string().trim().toLowerCase().regex(DOMAIN, 'must be a domain such as example.com');
const referrerPattern = z.string().trim().toLowerCase()
  .refine((v) => DOMAIN.test(v.startsWith('*.') ? v.slice(2) : v), 'must be a domain such as example.com or *.example.com');

/** "10.0.0.0/8", "2001:db8::/32" or a single address. */
export function parseCidr(raw: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = raw.trim().split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (!version) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const cidr = z.string().max(64).refine((v) => parseCidr(v) !== undefined, 'must be an address range such as 192.0.2.0/24 or 2001:db8::/32');
const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time such as 2030-01-31T09:00:00Z' });

export const audienceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('public') }).strict().describe('Anyone'),
  z.object({ type: z.literal('link') }).strict().describe('Anyone holding a valid unlisted link'),
  z.object({
    type: z.literal('members'),
    roles: z.array(z.enum(memberRoles)).min(1).optional().describe('Only people with one of these roles'),
    groups: z.array(z.uuid('must be a group id')).min(1).max(50).optional()
      .describe('Only people in at least one of these groups of the organization (GET /api/v1/groups); with roles, both must hold'),
  }).strict()
    .describe('Signed-in people of the organization (optionally only these roles and/or groups)'),
  z.object({ type: z.literal('password') }).strict().describe('Anyone who unlocked the video with its password'),
  z.object({
    type: z.literal('sso'),
    providerIds: z.array(z.uuid()).min(1).max(20).optional().describe('Only these of the organization\'s providers (default: any enabled one)'),
    emailDomains: z.array(emailDomain).min(1).max(50).optional().describe('Only viewers whose address is in one of these domains'),
  }).strict().describe('Viewers signed in through the organization\'s single sign-on for audiences'),
]);
export type Audience = z.infer<typeof audienceSchema>;
export type MembersRule = Extract<Audience, { type: 'members' }>;

export const conditionsSchema = z.object({
  ipAllow: z.array(cidr).min(1).max(200).optional().describe('Only viewers from these address ranges'),
  referrers: z.array(referrerPattern).min(1).max(50).optional().describe('Only when embedded on these sites (example.com or *.example.com); also the allowed frame ancestors'),
  availableFrom: isoTime.optional(),
  availableUntil: isoTime.optional(),
  bindToIp: z.boolean().optional().describe('Playback tokens work only from the address they were issued to'),
}).strict();
export type Conditions = z.infer<typeof conditionsSchema>;

export const policyShape = {
  audiences: z.array(audienceSchema).min(1, 'name at least one audience').max(5),
  conditions: conditionsSchema.default({}),
};

/** Checks that span fields; shared by the policy and the update body that adds a password. */
export function checkPolicy(p: { audiences: Audience[]; conditions: Conditions }, ctx: z.RefinementCtx): void {
  const types = p.audiences.map((a) => a.type);
  if (new Set(types).size !== types.length) ctx.addIssue({ code: 'custom', path: ['audiences'], message: 'each audience type may appear once' });
  const { availableFrom: from, availableUntil: until } = p.conditions;
  if (from && until && Date.parse(from) >= Date.parse(until)) ctx.addIssue({ code: 'custom', path: ['conditions', 'availableUntil'], message: 'must be after availableFrom' });
}

export const policySchema = z.object(policyShape).strict().superRefine(checkPolicy);
export type Policy = z.infer<typeof policySchema>;

/** No policy row: members of the tenant only. */
export const defaultPolicy: Policy = { audiences: [{ type: 'members' }], conditions: {} };

/** A stored policy as the current schema reads it; a row that no longer parses falls back to members only. */
export function storedPolicy(raw: unknown): Policy {
  if (raw === null || raw === undefined) return defaultPolicy;
  const parsed = policySchema.safeParse(raw);
  return parsed.success ? parsed.data : defaultPolicy;
}

/** What the viewer brings, as established by the caller from cookies, links and the request. */
export interface PolicyFacts {
  /** library's published_state is 'published'. */
  published: boolean;
  /** Signed in as a member of the video's tenant; groupIds: the groups they are in (loaded when a members rule names groups). */
  member?: { role: TenantRole; groupIds?: readonly string[] };
  /** Signed in, but to another tenant (or as a member of none). */
  signedInElsewhere?: boolean;
  /** The unlisted link presented, if any: its state now. */
  link?: 'valid' | 'revoked' | 'expired' | 'unknown';
  passwordUnlocked?: boolean;
  /** Signed in through one of the tenant's audience SSO providers. */
  audience?: { providerId: string; email: string | null };
  /** The tenant's enabled SSO providers (for the sso_required prompt). */
  ssoProviders?: { id: string; name: string; startUrl: string }[];
  ip?: string;
  /** Referer header value (a URL), if any. */
  referer?: string;
}

export type Admission = 'staff' | 'public' | 'members' | 'password' | 'sso' | 'link';

export type PolicyResult =
  | { allowed: true; via: Admission; bindIp: boolean }
  | { allowed: false; status: 401 | 403 | 404; code: string; message: string; needs?: AccessNeed; details?: Record<string, unknown> };

type Denial = Extract<PolicyResult, { allowed: false }>;

const deny = (status: Denial['status'], code: string, message: string, extra: Partial<Denial> = {}): Denial => ({ allowed: false, status, code, message, ...extra });

const denials = {
  notFound: () => deny(404, 'video_not_found', 'No video with that id exists.'),
  signin: () => deny(401, 'signin_required', 'Sign in to watch this video.', { needs: 'signin' }),
  password: () => deny(401, 'password_required', 'This video is protected by a password.', { needs: 'password' }),
  sso: (providers: PolicyFacts['ssoProviders']) => deny(401, 'sso_required', 'Sign in with your organization\'s account to watch this video.', { needs: 'sso', details: { providers: providers ?? [] } }),
  linkRequired: () => deny(403, 'link_required', 'This video can only be watched through the link its owner shared.', { needs: 'link' }),
  linkRevoked: () => deny(403, 'link_revoked', 'This link has been turned off by the video\'s owner.'),
  linkExpired: () => deny(403, 'link_expired', 'This link has expired.'),
  ip: () => deny(403, 'ip_not_allowed', 'This video cannot be watched from your network.'),
  referrer: () => deny(403, 'referrer_not_allowed', 'This video cannot be watched on this site.'),
  notYet: (from: string) => deny(403, 'not_available_yet', 'This video is not available yet.', { details: { availableFrom: from } }),
  noLonger: () => deny(403, 'no_longer_available', 'This video is no longer available.'),
  role: () => deny(403, 'role_not_allowed', 'Your role in this organization does not include this video.'),
  group: () => deny(403, 'group_not_allowed', 'This video is for certain groups of this organization, and you are not in any of them.'),
  emailDomain: () => deny(403, 'email_domain_not_allowed', 'Your account\'s email domain is not allowed to watch this video.'),
};

// When no audience admits, the denial that tells the viewer the most useful
// next step wins: a prompt they can act on before a final refusal.
const PREFERENCE = ['password_required', 'sso_required', 'signin_required', 'email_domain_not_allowed', 'role_not_allowed', 'group_not_allowed', 'link_revoked', 'link_expired', 'link_required'];

/** The host part of a Referer value, lowercased; undefined when it is no http(s) URL. */
export function refererHost(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    const url = new URL(referer);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) {
    const base = pattern.slice(2);
    return host.endsWith(`.${base}`);
  }
  return host === pattern;
}

/** Whether an address falls in one of the ranges (IPv4-mapped IPv6 addresses count as IPv4). */
export function ipAllowed(ip: string | undefined, ranges: string[]): boolean {
  if (!ip) return false;
  const address = ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(address);
  if (!family) return false;
  const list = new BlockList();
  for (const raw of ranges) {
    const range = parseCidr(raw);
    if (range) list.addSubnet(range.address, range.prefix, range.family);
  }
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function conditionFailure(c: Conditions, facts: PolicyFacts, now: Date): Denial | undefined {
  if (c.availableFrom && now.getTime() < Date.parse(c.availableFrom)) return denials.notYet(c.availableFrom);
  if (c.availableUntil && now.getTime() >= Date.parse(c.availableUntil)) return denials.noLonger();
  if (c.ipAllow && !ipAllowed(facts.ip, c.ipAllow)) return denials.ip();
  if (c.referrers) {
    const host = refererHost(facts.referer);
    if (!host || !c.referrers.some((p) => hostMatches(host, p))) return denials.referrer();
  }
  return undefined;
}

/** What one audience says about this viewer: admits, or the denial it would give. */
function admitsOrDenial(a: Audience, facts: PolicyFacts): true | Denial {
  switch (a.type) {
    case 'public':
      return true;
    case 'link':
      if (facts.link === 'valid') return true;
      if (facts.link === 'revoked') return denials.linkRevoked();
      if (facts.link === 'expired') return denials.linkExpired();
      return denials.linkRequired();
    case 'members':
      if (!facts.member) return denials.signin();
      return membersRuleRefusal(a, facts.member) ?? true;
    case 'password':
      return facts.passwordUnlocked ? true : denials.password();
    case 'sso': {
      const providers = a.providerIds ? (facts.ssoProviders ?? []).filter((p) => a.providerIds!.includes(p.id)) : facts.ssoProviders;
      const who = facts.audience;
      if (!who || (a.providerIds && !a.providerIds.includes(who.providerId))) return denials.sso(providers);
      if (a.emailDomains) {
        const domain = who.email?.split('@').pop()?.toLowerCase();
        if (!domain || !a.emailDomains.includes(domain)) return denials.emailDomain();
      }
      return true;
    }
  }
}

/**
 * Why a members rule does not admit this member, or undefined when it does:
 * each filter (roles, groups) narrows, so with both a member needs both.
 * Also the check behind every key fetch of a grant the rule admitted
 * (grant-cache.ts), so a person removed from the group stops there.
 */
export function membersRuleRefusal(rule: MembersRule, member: { role: TenantRole; groupIds?: readonly string[] }): Denial | undefined {
  if (rule.roles && !rule.roles.includes(member.role)) return denials.role();
  if (rule.groups && !rule.groups.some((g) => member.groupIds?.includes(g))) return denials.group();
  return undefined;
}

// Gates are tried in this order; link comes last so that a viewer who is
// admitted on other grounds does not lose the grant when the link is revoked.
const ORDER: Audience['type'][] = ['public', 'members', 'password', 'sso', 'link'];

/**
 * The decision for one viewer. Staff (editor and above in the video's
 * tenant) may always preview; everyone else needs the video published, every
 * condition to hold, and at least one audience to admit them.
 */
export function evaluatePolicy(policy: Policy, facts: PolicyFacts, now: Date): PolicyResult {
  const bindIp = policy.conditions.bindToIp === true;
  if (facts.member && roleAtLeast(facts.member.role, 'editor')) return { allowed: true, via: 'staff', bindIp };
  if (!facts.published) return facts.member || facts.signedInElsewhere ? denials.notFound() : denials.signin();

  const failed = conditionFailure(policy.conditions, facts, now);
  if (failed) return failed;

  const audiences = [...policy.audiences].sort((x, y) => ORDER.indexOf(x.type) - ORDER.indexOf(y.type));
  const refusals: Denial[] = [];
  for (const a of audiences) {
    const verdict = admitsOrDenial(a, facts);
    if (verdict === true) return { allowed: true, via: a.type, bindIp };
    refusals.push(verdict);
  }
  const best = refusals.sort((x, y) => PREFERENCE.indexOf(x.code) - PREFERENCE.indexOf(y.code))[0]!;
  // Someone signed in to another organization learns nothing of a video only
  // that organization's members may see: to them it does not exist.
  if (best.code === 'signin_required' && facts.signedInElsewhere && refusals.length === 1) return denials.notFound();
  return best;
}
