// The transfer rule: personal data goes to a subprocessor outside the
// tenant's jurisdiction only on a basis — one the platform operator declared
// for the subprocessor in the configuration, or one the tenant (the
// controller) recorded here. A feature that would make such a transfer cannot
// be turned on for the tenant without it.
import { randomUUID } from 'node:crypto';
import type { Config, SubprocessorConfig, SubprocessorFeature } from '../../../config.ts';
import { subprocessorForHost } from '../../../config.ts';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError } from '../../../platform/errors.ts';
import type { TransferBasis } from './vocabulary.ts';

export interface TransferBasisRow {
  id: string;
  tenant_id: string;
  subprocessor: string;
  basis: TransferBasis;
  note: string;
  created_by: string | null;
  created_at: Date;
}

export const listTransferBases = (tx: Tx, tenantId: string): Promise<TransferBasisRow[]> =>
  tx.selectFrom('privacy_transfer_bases').selectAll().where('tenant_id', '=', tenantId).orderBy('subprocessor').execute() as Promise<TransferBasisRow[]>;

export const transferBasisById = (tx: Tx, tenantId: string, id: string): Promise<TransferBasisRow | undefined> =>
  tx.selectFrom('privacy_transfer_bases').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst() as Promise<TransferBasisRow | undefined>;

export async function insertTransferBasis(tx: Tx, row: Omit<TransferBasisRow, 'id' | 'created_at'>): Promise<TransferBasisRow | undefined> {
  return (await tx.insertInto('privacy_transfer_bases').values({ id: randomUUID(), ...row })
    .onConflict((oc) => oc.columns(['tenant_id', 'subprocessor']).doNothing()).returningAll().executeTakeFirst()) as TransferBasisRow | undefined;
}

export const deleteTransferBasis = (tx: Tx, tenantId: string, id: string) =>
  tx.deleteFrom('privacy_transfer_bases').where('tenant_id', '=', tenantId).where('id', '=', id).execute();

/** The jurisdiction of the region a tenant lives in. */
export async function tenantJurisdiction(tx: Tx, config: Config, tenantId: string): Promise<{ region: string; jurisdiction: string }> {
  const tenant = await tx.selectFrom('tenants').select('region').where('id', '=', tenantId).executeTakeFirst();
  if (!tenant) throw new AppError('tenant_not_found', 404, 'No tenant with that id exists.');
  const region = config.regions[tenant.region];
  return { region: tenant.region, jurisdiction: (region?.jurisdiction ?? 'unknown').toUpperCase() };
}

/**
 * The subprocessors a feature uses. Email and backups are platform-wide (every
 * subprocessor declared for them); SSO and storage are the provider behind a
 * host (an issuer, an S3 endpoint), when one of the declared subprocessors is.
 */
export function subprocessorsOf(config: Config, feature: SubprocessorFeature, host?: string): SubprocessorConfig[] {
  if (host !== undefined) {
    const one = subprocessorForHost(config.subprocessors, feature, host);
    return one ? [one] : [];
  }
  return config.subprocessors.filter((s) => s.features.includes(feature));
}

export interface TransferCheck {
  subprocessor: SubprocessorConfig;
  from: string;
  /** Where the basis comes from; null: there is none. */
  basis: { basis: TransferBasis; source: 'platform' | 'tenant' } | null;
}

/** The subprocessors of a feature outside the tenant's jurisdiction, each with its basis (if any). */
export async function transfersFor(tx: Tx, config: Config, tenantId: string, subprocessors: SubprocessorConfig[]): Promise<TransferCheck[]> {
  const { jurisdiction } = await tenantJurisdiction(tx, config, tenantId);
  const abroad = subprocessors.filter((s) => s.jurisdiction !== jurisdiction);
  if (abroad.length === 0) return [];
  const own = new Map((await listTransferBases(tx, tenantId)).map((b) => [b.subprocessor.toLowerCase(), b.basis]));
  return abroad.map((s) => {
    const tenantBasis = own.get(s.name.toLowerCase());
    const basis = s.transferBasis ? { basis: s.transferBasis, source: 'platform' as const } : tenantBasis ? { basis: tenantBasis, source: 'tenant' as const } : null;
    return { subprocessor: s, from: jurisdiction, basis };
  });
}

/**
 * Throws 409 transfer_basis_required when turning on `feature` for the tenant
 * would send personal data to a subprocessor outside its jurisdiction without
 * a basis. `host` names the provider for per-tenant features (an SSO issuer).
 */
export async function assertTransferAllowed(tx: Tx, config: Config, tenantId: string, feature: SubprocessorFeature, opts: { host?: string } = {}): Promise<void> {
  const missing = (await transfersFor(tx, config, tenantId, subprocessorsOf(config, feature, opts.host))).find((t) => t.basis === null);
  if (!missing) return;
  const s = missing.subprocessor;
  throw new AppError(
    'transfer_basis_required', 409,
    `This would send personal data to ${s.name} in ${s.jurisdiction} (${s.location}), outside this organization's jurisdiction ${missing.from}; ` +
      `record a transfer basis for ${s.name} first (POST /api/v1/privacy/transfers).`,
    { feature, subprocessor: s.name, subprocessorJurisdiction: s.jurisdiction, tenantJurisdiction: missing.from },
  );
}
