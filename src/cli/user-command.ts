// haven user: the operator's view of accounts. Account-wide changes (disable,
// second-factor reset, platform roles) are made here, never by a tenant admin.
import type { Haven } from '../main.ts';
import { AppError } from '../platform/errors.ts';
import type { PlatformRole, TenantRole } from '../modules/identity/actor.ts';
import { platformRoles } from '../modules/identity/operator.ts';
import { languages, roles } from '../modules/identity/users.ts';
import { required, UsageError } from './usage.ts';
import { type CliCommand, type CliIo, type Values, withHaven } from './with-haven.ts';

function oneOf<T extends string>(values: Values, name: string, allowed: readonly T[]): T {
  const value = String(values[name]);
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`user: --${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

async function tenantBySlug(haven: Haven, slug: string) {
  const tenant = await haven.modules.tenants.bySlug(slug);
  if (!tenant) throw new AppError('tenant_not_found', 404, `No tenant has the slug "${slug}" (see haven tenant list).`);
  return tenant;
}

async function list(io: CliIo, values: Values): Promise<number> {
  return withHaven(io, async (haven) => {
    const { operator } = haven.modules.identity;
    if (values.tenant) {
      const tenant = await tenantBySlug(haven, String(values.tenant));
      const members = await operator.listMembers(tenant.id);
      if (!members.length) io.out(`no members in ${tenant.slug}`);
      for (const m of members) io.out(`${m.id}  ${m.email.padEnd(32)} ${m.role.padEnd(7)} ${m.account_status === 'active' ? m.status : 'account-disabled'}  2fa:${m.totp_enabled_at ? 'on' : 'off'}`);
      return 0;
    }
    const accounts = await operator.listAccounts();
    if (!accounts.length) io.out('no accounts');
    for (const a of accounts) {
      const roles = a.platform_roles.length ? a.platform_roles.join(',') : '-';
      io.out(`${a.id}  ${a.email.padEnd(32)} ${a.status.padEnd(8)} 2fa:${a.totp_enabled_at ? 'on ' : 'off'}  platform:${roles}  tenants:${a.tenants}`);
    }
    return 0;
  });
}

async function create(io: CliIo, values: Values): Promise<number> {
  required(values, 'tenant', 'email', 'role');
  const role = oneOf<TenantRole>(values, 'role', roles);
  const language = values.language === undefined ? undefined : oneOf(values, 'language', languages);
  if (values.password !== undefined && language) throw new UsageError('user: --language applies to invitations; leave it out with --password');
  const email = String(values.email);
  return withHaven(io, async (haven) => {
    const tenant = await tenantBySlug(haven, String(values.tenant));
    if (values.password !== undefined) {
      const id = await haven.modules.identity.operator.createMember(tenant.id, { email, password: String(values.password), role, username: values.username as string | undefined });
      io.out(`created ${email} (${id}) as ${role} in ${tenant.slug}`);
      return 0;
    }
    const { invitation, delivery } = await haven.modules.identity.invitations.createByOperator(tenant.id, { email, role, language });
    // A CLI process ends after this: unlike an HTTP answer, it waits for the mail.
    if (!(await delivery)) {
      io.err(`haven: invitation ${invitation.id} was created but its mail could not be sent; check HAVEN_SMTP_URL, then resend it\n`);
      return 1;
    }
    io.out(`invited ${email} as ${role} to ${tenant.slug}; the invitation is valid until ${invitation.expiresAt.toISOString()}`);
    return 0;
  });
}

const accountActions: Record<string, (haven: Haven, values: Values) => Promise<string>> = {
  async disable({ modules }, values) {
    const { sessionsEnded } = await modules.identity.operator.setAccountStatus(String(values.email), 'disabled');
    return `disabled ${values.email} in every tenant; ended ${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'}`;
  },
  async enable({ modules }, values) {
    await modules.identity.operator.setAccountStatus(String(values.email), 'active');
    return `enabled ${values.email}`;
  },
  async 'reset-2fa'({ modules }, values) {
    const { sessionsEnded } = await modules.identity.operator.resetSecondFactor(String(values.email));
    return `removed the authenticator app and recovery codes of ${values.email}; ended ${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'}`;
  },
  async 'grant-platform-role'({ modules }, values) {
    const now = await modules.identity.operator.setPlatformRole(String(values.email), oneOf<PlatformRole>(values, 'role', platformRoles), true);
    return `${values.email} now has platform roles: ${now.join(', ')}`;
  },
  async 'revoke-platform-role'({ modules }, values) {
    const now = await modules.identity.operator.setPlatformRole(String(values.email), oneOf<PlatformRole>(values, 'role', platformRoles), false);
    return `${values.email} now has platform roles: ${now.length ? now.join(', ') : 'none'}`;
  },
};

export const userCommand: CliCommand = {
  summary: 'user list | create | disable | enable | reset-2fa | grant-platform-role | revoke-platform-role',
  help: [
    'Usage: haven user list [--tenant SLUG]',
    '       haven user create --tenant SLUG --email E --role R [--password P [--username U]] [--language L]',
    '       haven user disable|enable|reset-2fa --email E',
    '       haven user grant-platform-role|revoke-platform-role --email E --role operator|support|reseller',
    '',
    '  list                   every account, or the members of one tenant',
    '  create                 with --password: an account with that password; without: an emailed invitation (valid 7 days)',
    '  disable, enable        the account in every tenant; disabling ends all its sessions',
    '  reset-2fa              removes the authenticator app and recovery codes, ends all sessions',
    '  --role R               owner, admin, editor or viewer (create); operator, support or reseller (platform roles)',
    '  --language L           language of the invitation mail: en, sv, fi or de (default en)',
  ].join('\n'),
  options: { tenant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' }, username: { type: 'string' }, language: { type: 'string' } },
  async run(values, [action], io) {
    if (action === 'list') return list(io, values);
    if (action === 'create') return create(io, values);
    const change = action ? accountActions[action] : undefined;
    if (!change || !Object.hasOwn(accountActions, action!)) throw new UsageError(`user: expected one of list, create, ${Object.keys(accountActions).join(', ')}`);
    required(values, 'email', ...(action!.includes('platform-role') ? ['role'] : []));
    // Validated before starting Haven, so a typo costs no database start.
    if (action!.includes('platform-role')) oneOf(values, 'role', platformRoles);
    return withHaven(io, async (haven) => {
      io.out(await change(haven, values));
      return 0;
    });
  },
};
