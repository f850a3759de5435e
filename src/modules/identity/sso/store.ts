// SQL for the single sign-on tables; nothing else touches them.
import type { Tx } from '../../../platform/db/database.ts';
import type { Preset } from './presets.ts';

export const ssoRoles = ['admin', 'editor', 'viewer'] as const;
export type SsoRole = (typeof ssoRoles)[number];

/** Maps values of one ID token claim (a string or a list of strings) to roles. */
export interface RoleMapping { claim: string; values: Record<string, SsoRole> }

export interface SsoProviderRow {
  id: string;
  tenant_id: string;
  name: string;
  preset: Preset;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  allowed_domains: string[];
  default_role: SsoRole;
  role_mapping: RoleMapping | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface LoginStateRow {
  state_hash: Buffer;
  tenant_id: string;
  provider_id: string;
  nonce: string;
  code_verifier_sealed: string;
  redirect_after: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export type ProviderChange = Partial<Pick<SsoProviderRow, 'name' | 'issuer' | 'client_id' | 'client_secret_sealed' | 'allowed_domains' | 'default_role' | 'role_mapping' | 'enabled'>>;

const jsonb = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export const listProviders = (tx: Tx, tenantId: string) =>
  tx.selectFrom('sso_providers').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute() as Promise<SsoProviderRow[]>;

export const providerById = (tx: Tx, tenantId: string, id: string) =>
  tx.selectFrom('sso_providers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst() as Promise<SsoProviderRow | undefined>;

export async function insertProvider(tx: Tx, row: Omit<SsoProviderRow, 'created_at' | 'updated_at'>): Promise<SsoProviderRow> {
  return (await tx
    .insertInto('sso_providers')
    .values({ ...row, role_mapping: jsonb(row.role_mapping) })
    .returningAll()
    .executeTakeFirstOrThrow()) as SsoProviderRow;
}

export async function updateProvider(tx: Tx, tenantId: string, id: string, change: ProviderChange, now: Date): Promise<SsoProviderRow> {
  const values: Record<string, unknown> = { ...change, updated_at: now };
  if ('role_mapping' in change) values.role_mapping = jsonb(change.role_mapping);
  return (await tx
    .updateTable('sso_providers')
    .set(values)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()) as SsoProviderRow;
}

export async function deleteProvider(tx: Tx, tenantId: string, id: string): Promise<void> {
  await tx.deleteFrom('sso_providers').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

export async function countIdentities(tx: Tx, providerId: string): Promise<number> {
  const row = await tx.selectFrom('user_identities').select((eb) => eb.fn.countAll<number>().as('n')).where('provider_id', '=', providerId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertLoginState(tx: Tx, row: Omit<LoginStateRow, 'created_at' | 'used_at'>): Promise<void> {
  await tx.insertInto('sso_login_states').values(row).execute();
}

/** Locks the attempt's row so two callbacks with one state cannot both pass. */
export const lockLoginState = (tx: Tx, stateHash: Buffer) =>
  tx.selectFrom('sso_login_states').selectAll().where('state_hash', '=', stateHash).forUpdate().executeTakeFirst() as Promise<LoginStateRow | undefined>;

export async function markLoginStateUsed(tx: Tx, stateHash: Buffer, at: Date): Promise<void> {
  await tx.updateTable('sso_login_states').set({ used_at: at }).where('state_hash', '=', stateHash).execute();
}

/** Removes attempts of a tenant that ended long enough ago that a replay of them is moot. */
export async function sweepLoginStates(tx: Tx, tenantId: string, expiredBefore: Date): Promise<void> {
  await tx.deleteFrom('sso_login_states').where('tenant_id', '=', tenantId).where('expires_at', '<', expiredBefore).execute();
}

export const identityBySubject = (tx: Tx, providerId: string, subject: string) =>
  tx.selectFrom('user_identities').select(['user_id', 'created_at']).where('provider_id', '=', providerId).where('subject', '=', subject).executeTakeFirst() as Promise<{ user_id: string; created_at: Date } | undefined>;

export async function linkIdentity(tx: Tx, link: { providerId: string; subject: string; userId: string; tenantId: string }): Promise<void> {
  await tx.insertInto('user_identities').values({ provider_id: link.providerId, subject: link.subject, user_id: link.userId, tenant_id: link.tenantId }).execute();
}
