// Tenant admins configure their organization's OpenID Connect providers. The
// client secret is sealed with the tenant key and never leaves the service;
// every change is audited with a diff that leaves the secret out.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { RequestContext } from '../actor.ts';
import { authorize } from '../access.ts';
import type { AuditPort } from '../audit-port.ts';
import { tenantSettingsSchema } from '../settings.ts';
import { assertTransferAllowed } from '../../privacy/records/transfers.ts';
import { directoryIdOf, issuerFor, presets, type Preset } from './presets.ts';
import { countIdentities, deleteProvider, insertProvider, listProviders, type ProviderChange, providerById, type RoleMapping, type SsoProviderRow, ssoRoles, type SsoRole, updateProvider } from './store.ts';

/** What the client secret is sealed for: bound to its provider, so sealed values cannot be swapped between rows. */
export const secretPurpose = (providerId: string) => `sso.client_secret:${providerId}`;

const domains = tenantSettingsSchema.shape.allowedEmailDomains.unwrap();

export const roleMappingSchema = z
  .object({
    claim: z.string().trim().min(1).max(100).describe('ID token claim to read, e.g. groups or roles'),
    values: z.record(z.string().min(1).max(200), z.enum(ssoRoles)).refine((v) => Object.keys(v).length <= 200, 'map at most 200 values'),
  })
  .strict()
  .describe('Role of a new member by claim value; the highest matching role wins');

export const newProviderSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    preset: z.enum(presets),
    issuer: z.string().trim().max(500).optional().describe('generic only: the issuer URL'),
    directoryId: z.uuid().optional().describe('entra only: the Directory (tenant) ID'),
    clientId: z.string().trim().min(1).max(500),
    clientSecret: z.string().min(1).max(2000),
    allowedDomains: domains.default([]).describe('When set, only emails at these domains may sign in'),
    defaultRole: z.enum(ssoRoles).default('viewer').describe('Role of a new member when no mapping matches'),
    roleMapping: roleMappingSchema.nullable().default(null),
    enabled: z.boolean().default(true),
  })
  .strict();
export type NewProvider = z.infer<typeof newProviderSchema>;

export const providerChangeSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    issuer: z.string().trim().max(500).optional(),
    directoryId: z.uuid().optional(),
    clientId: z.string().trim().min(1).max(500).optional(),
    clientSecret: z.string().min(1).max(2000).optional().describe('Replaces the stored secret'),
    allowedDomains: domains.optional(),
    defaultRole: z.enum(ssoRoles).optional(),
    roleMapping: roleMappingSchema.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type ProviderChangeInput = z.infer<typeof providerChangeSchema>;

export interface SsoProviderView {
  id: string;
  name: string;
  preset: Preset;
  issuer: string;
  directoryId: string | null;
  clientId: string;
  allowedDomains: string[];
  defaultRole: SsoRole;
  roleMapping: RoleMapping | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const providerView = (r: SsoProviderRow): SsoProviderView => ({
  id: r.id, name: r.name, preset: r.preset, issuer: r.issuer, directoryId: r.preset === 'entra' ? directoryIdOf(r.issuer) : null,
  clientId: r.client_id, allowedDomains: r.allowed_domains, defaultRole: r.default_role, roleMapping: r.role_mapping,
  enabled: r.enabled, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** The audited picture of a provider: everything but the secret. */
const audited = (r: SsoProviderRow) => ({
  name: r.name, preset: r.preset, issuer: r.issuer, client_id: r.client_id, allowed_domains: r.allowed_domains,
  default_role: r.default_role, role_mapping: r.role_mapping, enabled: r.enabled,
});

const nameTaken = (err: unknown) => {
  if ((err as { code?: string }).code === '23505') return new AppError('sso_provider_name_taken', 409, 'This organization already has a sign-in provider with that name.');
  return err;
};

export function createSsoProviderAdmin(platform: Platform, audit: AuditPort) {
  const { db, keyring, clock, config } = platform;

  async function load(tx: Tx, tenantId: string, id: string): Promise<SsoProviderRow> {
    const row = await providerById(tx, tenantId, id);
    if (!row) throw notFound('sso_provider');
    return row;
  }

  return {
    async list(ctx: RequestContext): Promise<SsoProviderView[]> {
      authorize(ctx, 'tenant:read');
      return (await db.withTenant(ctx.tenantId, (tx) => listProviders(tx, ctx.tenantId))).map(providerView);
    },

    async get(ctx: RequestContext, id: string): Promise<SsoProviderView> {
      authorize(ctx, 'tenant:read');
      return providerView(await db.withTenant(ctx.tenantId, (tx) => load(tx, ctx.tenantId, id)));
    },

    async create(ctx: RequestContext, input: NewProvider): Promise<SsoProviderView> {
      authorize(ctx, 'tenant:write');
      const issuer = issuerFor(input, config.env);
      const id = randomUUID();
      try {
        return await db.withTenant(ctx.tenantId, async (tx) => {
          // An IdP that is a subprocessor outside the tenant's jurisdiction needs a transfer basis (privacy records).
          if (input.enabled) await assertTransferAllowed(tx, config, ctx.tenantId, 'sso', { host: new URL(issuer).hostname });
          const row = await insertProvider(tx, {
            id, tenant_id: ctx.tenantId, name: input.name, preset: input.preset, issuer, client_id: input.clientId,
            client_secret_sealed: await keyring.sealForTenant(tx, ctx.tenantId, Buffer.from(input.clientSecret), secretPurpose(id)),
            allowed_domains: input.allowedDomains, default_role: input.defaultRole, role_mapping: input.roleMapping, enabled: input.enabled,
          });
          await audit.record(tx, ctx, { action: 'sso.provider.create', target: { type: 'sso_provider', id }, diff: { after: audited(row) }, details: { preset: row.preset } });
          return providerView(row);
        });
      } catch (err) {
        throw nameTaken(err);
      }
    },

    async update(ctx: RequestContext, id: string, change: ProviderChangeInput): Promise<SsoProviderView> {
      authorize(ctx, 'tenant:write');
      try {
        return await db.withTenant(ctx.tenantId, async (tx) => {
          const before = await load(tx, ctx.tenantId, id);
          const set: ProviderChange = {};
          if (change.issuer !== undefined || change.directoryId !== undefined) {
            set.issuer = issuerFor({ preset: before.preset, issuer: change.issuer, directoryId: change.directoryId }, config.env);
          }
          if (change.name !== undefined) set.name = change.name;
          if (change.clientId !== undefined) set.client_id = change.clientId;
          if (change.clientSecret !== undefined) set.client_secret_sealed = await keyring.sealForTenant(tx, ctx.tenantId, Buffer.from(change.clientSecret), secretPurpose(id));
          if (change.allowedDomains !== undefined) set.allowed_domains = change.allowedDomains;
          if (change.defaultRole !== undefined) set.default_role = change.defaultRole;
          if (change.roleMapping !== undefined) set.role_mapping = change.roleMapping;
          if (change.enabled !== undefined) set.enabled = change.enabled;
          if ((set.enabled ?? before.enabled) && (set.issuer !== undefined || set.enabled === true)) {
            await assertTransferAllowed(tx, config, ctx.tenantId, 'sso', { host: new URL(set.issuer ?? before.issuer).hostname });
          }
          const after = await updateProvider(tx, ctx.tenantId, id, set, clock.now());
          await audit.record(tx, ctx, {
            action: 'sso.provider.update',
            target: { type: 'sso_provider', id },
            diff: { before: audited(before), after: audited(after) },
            details: { client_secret_replaced: change.clientSecret !== undefined },
          });
          return providerView(after);
        });
      } catch (err) {
        throw nameTaken(err);
      }
    },

    /** Removes the provider and its account links; the people and their memberships stay. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      authorize(ctx, 'tenant:write');
      await db.withTenant(ctx.tenantId, async (tx) => {
        const before = await load(tx, ctx.tenantId, id);
        const links = await countIdentities(tx, id);
        await deleteProvider(tx, ctx.tenantId, id);
        await audit.record(tx, ctx, { action: 'sso.provider.delete', target: { type: 'sso_provider', id }, diff: { before: audited(before) }, details: { unlinked_identities: links } });
      });
    },
  };
}

export type SsoProviderAdmin = ReturnType<typeof createSsoProviderAdmin>;
