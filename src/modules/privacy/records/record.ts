// The record of processing activities (GDPR Art. 30), built from the data map,
// the configuration and the tenant's own settings — never written by hand, so
// it says what the installation does. The platform record is the processor's
// record (Art. 30(2)) across every organization; a tenant's record is what its
// admins need for their own record as controller (Art. 30(1)).
import { sql } from 'kysely';
import type { Config, SubprocessorConfig, SubprocessorFeature } from '../../../config.ts';
import { storageHost, subprocessorForHost } from '../../../config.ts';
import type { Tx } from '../../../platform/db/database.ts';
import type { Platform } from '../../../platform/platform.ts';
import { effectiveSettings, tenantSettingsSchema } from '../../identity/settings.ts';
import { type DataMapRow, dataMapRows } from './datamap-view.ts';
import { subjectKindsOf } from './subjects.ts';
import { listTransferBases, tenantJurisdiction } from './transfers.ts';
import { dataCategories, type SubjectKind, subjectKinds, transferBases } from './vocabulary.ts';

export interface ProcessingActivity { purpose: string; legalBases: string[]; dataCategories: string[]; dataSubjects: SubjectKind[]; tables: string[] }
export interface Recipient { name: string; purpose: string; dataCategories: string[]; location: string; jurisdiction: string; features: SubprocessorFeature[] }
export interface Transfer {
  subprocessor: string;
  features: SubprocessorFeature[];
  from: string;
  to: string;
  location: string;
  basis: string | null;
  basisSource: 'platform' | 'tenant' | null;
  status: 'covered' | 'basis_required';
}
export interface RetentionRule { table: string; rule: string }

export interface RecordOfProcessing {
  scope: 'platform' | 'tenant';
  generatedAt: string;
  controller: { name: string; contact?: string; dpo?: string } | null;
  processor: { name: string; contact?: string; dpo?: string } | null;
  tenant?: { id: string; slug: string; name: string; region: string; jurisdiction: string };
  jurisdictions: string[];
  activities: ProcessingActivity[];
  dataCategories: { category: string; description: string }[];
  dataSubjects: { kind: SubjectKind; description: string }[];
  recipients: Recipient[];
  transfers: Transfer[];
  retention: { settings: Record<string, number | string | null>; rules: RetentionRule[] };
  securityMeasures: string[];
}

const uniq = <T>(xs: T[]) => [...new Set(xs)];
const sorted = (xs: string[]) => uniq(xs).sort();

/** The parts of the record that follow from the data map alone (also rendered into docs/privacy.md). */
export function activitiesFrom(rows: DataMapRow[]): Pick<RecordOfProcessing, 'activities' | 'dataCategories' | 'dataSubjects'> & { rules: RetentionRule[] } {
  const byPurpose = new Map<string, DataMapRow[]>();
  for (const r of rows) byPurpose.set(r.purpose, [...(byPurpose.get(r.purpose) ?? []), r]);
  const kinds = (rs: DataMapRow[]) => uniq(rs.flatMap((r) => subjectKindsOf(r.table, r.subject))).sort() as SubjectKind[];
  const activities = [...byPurpose.entries()].map(([purpose, rs]) => ({
    purpose, legalBases: sorted(rs.map((r) => r.legalBasis)), dataCategories: sorted(rs.map((r) => r.category)), dataSubjects: kinds(rs), tables: sorted(rs.map((r) => r.table)),
  }));
  const rules: RetentionRule[] = [];
  for (const table of uniq(rows.map((r) => r.table))) {
    for (const rule of uniq(rows.filter((r) => r.table === table).map((r) => r.retention))) rules.push({ table, rule });
  }
  return {
    activities,
    dataCategories: sorted(rows.map((r) => r.category)).map((category) => ({ category, description: dataCategories[category] ?? category })),
    dataSubjects: kinds(rows).map((kind) => ({ kind, description: subjectKinds[kind] })),
    rules,
  };
}

const recipient = (s: SubprocessorConfig): Recipient => ({ name: s.name, purpose: s.purpose, dataCategories: s.dataCategories, location: s.location, jurisdiction: s.jurisdiction, features: s.features });

/** What Haven does to protect the data, stated from this installation's configuration and schema. */
async function securityMeasures(tx: Tx, config: Config, tenant?: { securityLevel: string; settings: unknown }): Promise<string[]> {
  const { rows } = await sql<{ tables: number; forced: number }>`
    select count(*)::int as tables, count(*) filter (where c.relrowsecurity and c.relforcerowsecurity)::int as forced
    from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
      and exists (select 1 from information_schema.columns k where k.table_schema = 'public' and k.table_name = c.relname and k.column_name = 'tenant_id')`.execute(tx);
  const rls = rows[0]!;
  const transit = config.tlsCertFile
    ? 'Encryption in transit: Haven serves HTTPS itself (TLS certificate configured).'
    : config.trustProxy
      ? `Encryption in transit: TLS is terminated by a trusted proxy (${config.trustProxy.split(',').length} address range(s) trusted); Haven refuses plain HTTP in production otherwise.`
      : 'Encryption in transit: not configured (plain HTTP, development only; production refuses to start this way).';
  const storage = Object.entries(config.regions).map(([name, r]) => `${name} (${r.jurisdiction}, ${r.storage.driver === 's3' ? `S3 at ${storageHost(r.storage)}` : 'local disk'})`).join(', ');
  const measures = [
    transit,
    'Encryption at rest: every original is encrypted with AES-256-GCM under its own data key; HLS segments are AES-128 encrypted with a per-video key; data keys are wrapped by the tenant key, tenant keys by the master key held outside the database.',
    `Storage locations per region: ${storage}. A tenant's media stays in its region.`,
    `Tenant isolation: row-level security is enforced (FORCE) on ${rls.forced} of ${rls.tables} tenant-owned tables; every request sets its tenant per transaction.`,
    `Audit trail: every change is recorded in the same transaction, hash-chained per tenant, with checkpoints signed by a key outside the database; kept ${config.auditRetentionDays} days.`,
    'Erasure of media by crypto-shredding: destroying a video\'s or tenant\'s key makes every copy unreadable, backups included.',
    'Passwords are hashed with argon2id; logs and audit entries hold keyed pseudonyms instead of addresses and emails.',
    `Abuse limits: ${config.rateLimitPerMinute} requests per client address per minute; an account locks after ${config.loginFailuresPerAccount} failed sign-ins per hour, an address is refused after ${config.loginFailuresPerAddress} per 15 minutes.`,
    `Playback: short-lived signed playback tokens (${config.playbackTokenTtlSeconds} s); the key endpoint checks the viewer's grant again.`,
  ];
  if (tenant) {
    const s = effectiveSettings(tenant.settings, tenant.securityLevel === 'high' ? 'high' : 'standard');
    measures.push(`Sessions of this organization: second factor required for ${s.twoFactor === 'optional' ? 'nobody (optional)' : s.twoFactor}; sessions end after ${s.sessionIdleMinutes} idle minutes and at most ${s.sessionAbsoluteHours} hours (security level ${tenant.securityLevel}).`);
  }
  return measures;
}

/** The subprocessors a tenant's data reaches: platform-wide ones, its region's storage, its SSO providers. */
async function tenantSubprocessors(tx: Tx, config: Config, tenantId: string, region: string): Promise<SubprocessorConfig[]> {
  const used = config.subprocessors.filter((s) => s.features.includes('email') || s.features.includes('backup'));
  const host = config.regions[region] ? storageHost(config.regions[region].storage) : undefined;
  const store = host ? subprocessorForHost(config.subprocessors, 'storage', host) : undefined;
  if (store) used.push(store);
  const issuers = await tx.selectFrom('sso_providers').select('issuer').where('tenant_id', '=', tenantId).execute();
  for (const { issuer } of issuers) {
    const idp = subprocessorForHost(config.subprocessors, 'sso', new URL(issuer).hostname);
    if (idp) used.push(idp);
  }
  return uniq(used);
}

function transfersOf(subprocessors: SubprocessorConfig[], from: string[], own: Map<string, string>): Transfer[] {
  return from.flatMap((jurisdiction) => subprocessors.filter((s) => s.jurisdiction !== jurisdiction).map((s): Transfer => {
    const mine = own.get(s.name.toLowerCase());
    const basis = s.transferBasis ?? mine ?? null;
    return {
      subprocessor: s.name, features: s.features, from: jurisdiction, to: s.jurisdiction, location: s.location,
      basis: basis ? `${basis}: ${transferBases[basis as keyof typeof transferBases]}` : null,
      basisSource: s.transferBasis ? 'platform' : mine ? 'tenant' : null,
      status: basis ? 'covered' : 'basis_required',
    };
  }));
}

export async function platformRecord(platform: Pick<Platform, 'config' | 'db' | 'clock'>): Promise<RecordOfProcessing> {
  const { config, db, clock } = platform;
  const base = activitiesFrom(dataMapRows());
  const jurisdictions = sorted(Object.values(config.regions).map((r) => r.jurisdiction.toUpperCase()));
  const measures = await db.withPlatform((tx) => securityMeasures(tx, config));
  return {
    scope: 'platform', generatedAt: clock.now().toISOString(),
    controller: null,
    processor: config.controller ?? null,
    jurisdictions,
    activities: base.activities, dataCategories: base.dataCategories, dataSubjects: base.dataSubjects,
    recipients: config.subprocessors.map(recipient),
    transfers: transfersOf(config.subprocessors, jurisdictions, new Map()),
    retention: { settings: { auditRetentionDays: config.auditRetentionDays, uploadExpiryHours: config.uploadExpiryHours }, rules: base.rules },
    securityMeasures: measures,
  };
}

export async function tenantRecord(platform: Pick<Platform, 'config' | 'db' | 'clock'>, tenantId: string): Promise<RecordOfProcessing> {
  const { config, db, clock } = platform;
  const base = activitiesFrom(dataMapRows());
  return db.withTenant(tenantId, async (tx) => {
    const t = await tx.selectFrom('tenants').select(['id', 'slug', 'name', 'region', 'security_level', 'settings']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    const { jurisdiction } = await tenantJurisdiction(tx, config, tenantId);
    const analytics = await tx.selectFrom('analytics_settings').select(['ip_mode', 'ip_retention_days', 'session_retention_days', 'honor_do_not_track', 'store_user_agent'])
      .where('tenant_id', '=', tenantId).executeTakeFirst();
    const subprocessors = await tenantSubprocessors(tx, config, tenantId, t.region);
    const own = new Map((await listTransferBases(tx, tenantId)).map((b) => [b.subprocessor.toLowerCase(), b.basis as string]));
    const measures = await securityMeasures(tx, config, { securityLevel: t.security_level, settings: t.settings });
    if (analytics) {
      measures.push(`Viewer analytics: IP addresses ${analytics.ip_mode === 'none' ? 'are not stored' : analytics.ip_mode === 'masked' ? 'are stored masked' : 'are stored in full'}; Do Not Track is ${analytics.honor_do_not_track ? 'honoured' : 'not honoured'}; user-agent strings are ${analytics.store_user_agent ? 'stored' : 'not stored'}.`);
    }
    return {
      scope: 'tenant' as const, generatedAt: clock.now().toISOString(),
      controller: { name: t.name },
      processor: config.controller ?? null,
      tenant: { id: t.id, slug: t.slug, name: t.name, region: t.region, jurisdiction },
      jurisdictions: [jurisdiction],
      activities: base.activities, dataCategories: base.dataCategories, dataSubjects: base.dataSubjects,
      recipients: subprocessors.map(recipient),
      transfers: transfersOf(subprocessors, [jurisdiction], own),
      retention: {
        settings: {
          auditRetentionDays: config.auditRetentionDays,
          analyticsSessionRetentionDays: analytics?.session_retention_days ?? 90,
          analyticsIpMode: analytics?.ip_mode ?? 'none',
          analyticsIpRetentionDays: analytics?.ip_retention_days ?? null,
          trashRetentionDays: tenantSettingsSchema.parse(t.settings ?? {}).trashRetentionDays,
          uploadExpiryHours: config.uploadExpiryHours,
        },
        rules: base.rules,
      },
      securityMeasures: measures,
    };
  });
}
