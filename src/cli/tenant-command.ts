// haven tenant: the organizations on this installation and their identity
// settings, for the operator.
import { AppError } from '../platform/errors.ts';
import type { TenantChange } from '../modules/identity/operator.ts';
import { tenantSettingsSchema } from '../modules/identity/settings.ts';
import { systemContext } from '../modules/identity/actor.ts';
import { type QuotaChange, quotaChangeSchema, tenantQuotas, updateTenantQuotas } from '../modules/media/quotas.ts';
import { required, UsageError } from './usage.ts';
import { type CliCommand, type CliIo, type Values, withHaven } from './with-haven.ts';

/** Command-line option → tenant setting. */
const settingOptions = {
  'two-factor': 'twoFactor',
  'allowed-domains': 'allowedEmailDomains',
  'session-idle-minutes': 'sessionIdleMinutes',
  'session-absolute-hours': 'sessionAbsoluteHours',
} as const;

function integer(option: string, raw: unknown): number {
  const text = String(raw);
  if (!/^\d+$/.test(text)) throw new UsageError(`tenant set: --${option} must be a whole number`);
  return Number(text);
}

/** The change asked for, validated in full before anything starts. */
export function parseTenantChange(values: Values): TenantChange {
  const settings: Record<string, unknown> = {};
  if (values['two-factor'] !== undefined) settings.twoFactor = values['two-factor'];
  if (values['allowed-domains'] !== undefined) settings.allowedEmailDomains = String(values['allowed-domains']).split(',').map((d) => d.trim()).filter(Boolean);
  if (values['session-idle-minutes'] !== undefined) settings.sessionIdleMinutes = integer('session-idle-minutes', values['session-idle-minutes']);
  if (values['session-absolute-hours'] !== undefined) settings.sessionAbsoluteHours = integer('session-absolute-hours', values['session-absolute-hours']);
  const parsed = tenantSettingsSchema.partial().safeParse(settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option = Object.entries(settingOptions).find(([, key]) => key === issue.path[0])?.[0] ?? String(issue.path[0]);
    throw new UsageError(`tenant set: --${option} ${issue.message}`);
  }
  const level = values['security-level'];
  if (level !== undefined && level !== 'standard' && level !== 'high') throw new UsageError('tenant set: --security-level must be standard or high');
  const name = values.name === undefined ? undefined : String(values.name).trim();
  if (name !== undefined && (name.length < 1 || name.length > 200)) throw new UsageError('tenant set: --name must be 1–200 characters');
  // partial() keeps defaults out only for absent keys; take just what was given.
  const given = Object.fromEntries(Object.entries(parsed.data).filter(([key]) => key in settings));
  const change: TenantChange = { name, securityLevel: level as TenantChange['securityLevel'], settings: given };
  if (name === undefined && level === undefined && Object.keys(given).length === 0) throw new UsageError('tenant set: give at least one setting to change');
  return change;
}

async function list(io: CliIo): Promise<number> {
  return withHaven(io, async ({ modules }) => {
    const tenants = await modules.identity.operator.listTenants();
    if (!tenants.length) io.out('no tenants');
    for (const t of tenants) {
      const domains = t.settings.allowedEmailDomains.length ? t.settings.allowedEmailDomains.join(',') : 'any';
      io.out(`${t.id}  ${t.slug.padEnd(24)} ${t.region.padEnd(10)} ${t.status.padEnd(6)} security:${t.securityLevel} 2fa:${t.settings.twoFactor} domains:${domains}  ${t.name}`);
    }
    return 0;
  });
}

async function create(io: CliIo, values: Values): Promise<number> {
  required(values, 'name');
  return withHaven(io, async ({ modules }) => {
    const t = await modules.tenants.create({ name: String(values.name), slug: values.slug as string | undefined, region: values.region as string | undefined });
    io.out(`created tenant ${t.slug} (${t.id}) in region ${t.region}`);
    return 0;
  });
}

async function set(io: CliIo, values: Values): Promise<number> {
  required(values, 'tenant');
  const change = parseTenantChange(values);
  return withHaven(io, async ({ modules }) => {
    const tenant = await modules.tenants.bySlug(String(values.tenant));
    if (!tenant) throw new AppError('tenant_not_found', 404, `No tenant has the slug "${values.tenant}" (see haven tenant list).`);
    const after = await modules.identity.operator.updateTenant(tenant.id, change);
    const s = after.settings;
    io.out(`updated ${tenant.slug}: name "${after.name}", security ${after.securityLevel}, 2fa ${s.twoFactor}, domains ${s.allowedEmailDomains.join(',') || 'any'}, sessions idle ${s.sessionIdleMinutes} min / at most ${s.sessionAbsoluteHours} h`);
    return 0;
  });
}

/** Command-line option → media limit; each takes a whole number or "default". */
const quotaOptions = { 'storage-bytes': 'storageBytes', 'max-file-bytes': 'maxFileBytes', 'max-duration-seconds': 'maxDurationSeconds' } as const;

export function parseQuotaChange(values: Values): QuotaChange {
  const change: Record<string, number | null> = {};
  for (const [option, key] of Object.entries(quotaOptions)) {
    const raw = values[option];
    if (raw === undefined) continue;
    const text = String(raw).trim();
    if (text === 'default') change[key] = null;
    else if (/^\d+$/.test(text)) change[key] = Number(text);
    else throw new UsageError(`tenant quotas: --${option} must be a whole number or "default"`);
  }
  const parsed = quotaChangeSchema.safeParse(change);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option = Object.entries(quotaOptions).find(([, key]) => key === issue.path[0])?.[0] ?? String(issue.path[0]);
    throw new UsageError(`tenant quotas: --${option} ${issue.message}`);
  }
  return parsed.data;
}

async function quotas(io: CliIo, values: Values): Promise<number> {
  required(values, 'tenant');
  const change = parseQuotaChange(values);
  return withHaven(io, async ({ platform, modules }) => {
    const tenant = await modules.tenants.bySlug(String(values.tenant));
    if (!tenant) throw new AppError('tenant_not_found', 404, `No tenant has the slug "${values.tenant}" (see haven tenant list).`);
    const q = await platform.db.withTenant(tenant.id, (tx) => Object.keys(change).length
      ? updateTenantQuotas(tx, modules.audit, systemContext('operator', tenant.id), tenant.id, change, platform.config)
      : tenantQuotas(tx, tenant.id, platform.config));
    io.out(`${Object.keys(change).length ? 'updated' : 'limits of'} ${tenant.slug}:`);
    for (const [option, key] of Object.entries(quotaOptions)) {
      const l = q[key];
      io.out(`  ${option.padEnd(21)} ${String(l.value).padStart(16)}  ${l.source === 'tenant' ? 'set for this tenant' : 'platform default'}`);
    }
    io.out(`  ${'stored-bytes'.padEnd(21)} ${String(q.usage.storedBytes).padStart(16)}`);
    io.out(`  ${'uploading-bytes'.padEnd(21)} ${String(q.usage.uploadingBytes).padStart(16)}`);
    return 0;
  });
}

export const tenantCommand: CliCommand = {
  summary: 'tenant list | create --name N [--slug S] [--region R] | set --tenant SLUG … | quotas --tenant SLUG …',
  help: [
    'Usage: haven tenant list',
    '       haven tenant create --name N [--slug S] [--region R]',
    '       haven tenant set --tenant SLUG [--name N] [--security-level standard|high] [--two-factor optional|admins|all]',
    '                        [--allowed-domains a.com,b.com] [--session-idle-minutes N] [--session-absolute-hours N]',
    '',
    '  --security-level high     shorter sessions and a second factor for everyone, whatever the other settings say',
    '  --two-factor P            who must use a second factor: optional, admins or all',
    '  --allowed-domains L       only addresses at these domains may be members; "" allows any',
    '  --session-idle-minutes N  sign out after N idle minutes (5 to 10080)',
    '  --session-absolute-hours N  sign out N hours after sign-in at the latest (1 to 720)',
    '',
    '       haven tenant quotas --tenant SLUG [--storage-bytes N|default] [--max-file-bytes N|default] [--max-duration-seconds N|default]',
    '',
    '  Prints the media limits in force (and the storage in use); with options, changes them first.',
    '  "default" returns a limit to the platform default (HAVEN_MEDIA_STORAGE_QUOTA_BYTES, HAVEN_MEDIA_MAX_FILE_BYTES,',
    '  HAVEN_MEDIA_MAX_DURATION_SECONDS). The change is audited as tenant.quotas.update in the tenant\'s trail.',
  ].join('\n'),
  options: {
    name: { type: 'string' }, slug: { type: 'string' }, region: { type: 'string' }, tenant: { type: 'string' },
    'security-level': { type: 'string' }, 'two-factor': { type: 'string' }, 'allowed-domains': { type: 'string' },
    'session-idle-minutes': { type: 'string' }, 'session-absolute-hours': { type: 'string' },
    'storage-bytes': { type: 'string' }, 'max-file-bytes': { type: 'string' }, 'max-duration-seconds': { type: 'string' },
  },
  async run(values, [action], io) {
    if (action === 'list') return list(io);
    if (action === 'create') return create(io, values);
    if (action === 'set') return set(io, values);
    if (action === 'quotas') return quotas(io, values);
    throw new UsageError('tenant: expected "list", "create", "set" or "quotas"');
  },
};
