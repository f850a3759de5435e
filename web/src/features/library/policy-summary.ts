// The plain-language summary of who can watch a video, built from its access
// policy and publish state, in the person's language. Mirrors the server's
// evaluatePolicy: editors and above always preview; everyone else needs the
// video published, every condition met and one audience to admit them.
import type { Audience, Conditions } from './types.ts';

export type Translate = (key: string, params?: Record<string, string | number>) => string;

export interface SummaryInput {
  audiences: Audience[];
  conditions: Conditions;
  hasPassword: boolean;
  publishState: 'draft' | 'scheduled' | 'published';
  /** Names of the organization's SSO providers by id, when known. */
  providerNames?: Record<string, string>;
  /** Names of the organization's groups by id, when known (editors); an id missing from a known list is a deleted group. */
  groupNames?: Record<string, string>;
}

export interface Summary {
  /** One line per audience: who is let in. */
  who: string[];
  /** Conditions everyone but staff must meet. */
  limits: string[];
  /** Things that stop the policy from working as written. */
  warnings: string[];
}

const list = (items: string[]) => items.join(', ');

export function summarizePolicy(input: SummaryInput, t: Translate, formatDate: (iso: string) => string): Summary {
  const who: string[] = [];
  const warnings: string[] = [];
  for (const a of input.audiences) who.push(audienceLine(a, t, input.providerNames, input.groupNames));
  if (input.audiences.some((a) => a.type === 'password') && !input.hasPassword) warnings.push(t('library.access.summary.noPassword'));
  if (input.publishState !== 'published') warnings.push(t(input.publishState === 'draft' ? 'library.access.summary.draft' : 'library.access.summary.scheduled'));

  const c = input.conditions;
  const limits: string[] = [];
  if (c.ipAllow?.length) limits.push(t('library.access.summary.ip', { ranges: list(c.ipAllow) }));
  if (c.referrers?.length) limits.push(t('library.access.summary.referrers', { sites: list(c.referrers) }));
  if (c.availableFrom) limits.push(t('library.access.summary.from', { date: formatDate(c.availableFrom) }));
  if (c.availableUntil) limits.push(t('library.access.summary.until', { date: formatDate(c.availableUntil) }));
  if (c.bindToIp) limits.push(t('library.access.summary.bindIp'));
  limits.push(t('library.access.summary.staff'));
  return { who, limits, warnings };
}

function audienceLine(a: Audience, t: Translate, providerNames?: Record<string, string>, groupNames?: Record<string, string>): string {
  switch (a.type) {
    case 'public': return t('library.access.summary.public');
    case 'link': return t('library.access.summary.link');
    case 'password': return t('library.access.summary.password');
    case 'members': {
      const roles = a.roles?.length ? list(a.roles.map((r) => t(`library.role.${r}`))) : undefined;
      // Without the list (a viewer reading the policy), the count says enough.
      const groups = !a.groups?.length ? undefined : groupNames
        ? list(a.groups.map((id) => groupNames[id] ?? t('library.access.deletedGroup')))
        : t('library.access.summary.groupCount', { count: a.groups.length });
      if (roles && groups) return t('library.access.summary.membersRolesGroups', { roles, groups });
      if (groups) return t('library.access.summary.membersGroups', { groups });
      return roles ? t('library.access.summary.membersRoles', { roles }) : t('library.access.summary.members');
    }
    case 'sso': {
      const providers = a.providerIds?.map((id) => providerNames?.[id] ?? id);
      let line = providers?.length ? t('library.access.summary.ssoProviders', { providers: list(providers) }) : t('library.access.summary.sso');
      if (a.emailDomains?.length) line += ` ${t('library.access.summary.ssoDomains', { domains: list(a.emailDomains) })}`;
      return line;
    }
  }
}
