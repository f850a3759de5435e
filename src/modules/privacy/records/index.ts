// Records of processing and the subprocessor transfer rule, as a service and
// its routes: tenant admins read their record and manage their transfer
// bases; platform operators read the platform record.
import { z } from 'zod';
import type { SubprocessorFeature } from '../../../config.ts';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { authorize, isPlatformOperator } from '../../identity/access.ts';
import { actorUserId, type RequestContext } from '../../identity/actor.ts';
import { platformRecord, type RecordOfProcessing, tenantRecord } from './record.ts';
import { assertTransferAllowed, deleteTransferBasis, insertTransferBasis, listTransferBases, type TransferBasisRow, transferBasisById, transfersFor } from './transfers.ts';
import { type TransferBasis, transferBasisNames } from './vocabulary.ts';

export const newTransferBasisSchema = z.object({
  subprocessor: z.string().trim().min(1).max(200).describe('Name of a subprocessor declared in the configuration'),
  basis: z.enum(transferBasisNames).describe('scc, adequacy, bcr or consent'),
  note: z.string().trim().max(2000).default('').describe('Where the instrument is, e.g. "SCC module 3 signed 2025-03-01"'),
}).strict();
export type NewTransferBasis = z.infer<typeof newTransferBasisSchema>;

export interface TransferBasisView { id: string; subprocessor: string; basis: TransferBasis; note: string; createdBy: string | null; createdAt: Date }
const view = (r: TransferBasisRow): TransferBasisView => ({ id: r.id, subprocessor: r.subprocessor, basis: r.basis, note: r.note, createdBy: r.created_by, createdAt: r.created_at });

export function createRecordsService(platform: Platform, audit: AuditService) {
  const { db, config } = platform;
  return {
    /** The platform record for an operator asking without a tenant (or with scope platform); else the tenant's. */
    async record(ctx: RequestContext, scope?: 'platform' | 'tenant'): Promise<RecordOfProcessing> {
      if (scope === 'platform' || (scope === undefined && !ctx.tenantId && isPlatformOperator(ctx.actor))) {
        if (ctx.actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
        if (!isPlatformOperator(ctx.actor)) throw new AppError('forbidden', 403, 'Only platform operators can read the platform record of processing.');
        return platformRecord(platform);
      }
      authorize(ctx, 'privacy:read');
      return tenantRecord(platform, ctx.tenantId);
    },

    async listTransfers(ctx: RequestContext) {
      authorize(ctx, 'privacy:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const checks = await transfersFor(tx, config, ctx.tenantId, config.subprocessors);
        return {
          items: (await listTransferBases(tx, ctx.tenantId)).map(view),
          abroad: checks.map((c) => ({
            subprocessor: c.subprocessor.name, jurisdiction: c.subprocessor.jurisdiction, features: c.subprocessor.features,
            basis: c.basis?.basis ?? null, basisSource: c.basis?.source ?? null,
          })),
        };
      });
    },

    async addTransfer(ctx: RequestContext, input: NewTransferBasis): Promise<TransferBasisView> {
      authorize(ctx, 'privacy:write');
      const declared = config.subprocessors.find((s) => s.name.toLowerCase() === input.subprocessor.toLowerCase());
      if (!declared) {
        throw new AppError('unknown_subprocessor', 400, `No subprocessor named "${input.subprocessor}" is declared (have: ${config.subprocessors.map((s) => s.name).join(', ') || 'none'}).`);
      }
      return db.withTenant(ctx.tenantId, async (tx) => {
        const row = await insertTransferBasis(tx, { tenant_id: ctx.tenantId, subprocessor: declared.name, basis: input.basis, note: input.note, created_by: actorUserId(ctx.actor) ?? null });
        if (!row) throw new AppError('transfer_basis_exists', 409, `This organization already has a transfer basis for ${declared.name}; delete it first to replace it.`);
        await audit.record(tx, ctx, {
          action: 'privacy.transfer_basis.create', target: { type: 'privacy_transfer_basis', id: row.id },
          details: { subprocessor: declared.name, jurisdiction: declared.jurisdiction, basis: row.basis }, diff: { after: { note: row.note } }, personal: ['note'],
        });
        return view(row);
      });
    },

    async removeTransfer(ctx: RequestContext, id: string): Promise<void> {
      authorize(ctx, 'privacy:write');
      await db.withTenant(ctx.tenantId, async (tx) => {
        const row = await transferBasisById(tx, ctx.tenantId, id);
        if (!row) throw notFound('transfer_basis');
        await deleteTransferBasis(tx, ctx.tenantId, id);
        await audit.record(tx, ctx, {
          action: 'privacy.transfer_basis.delete', target: { type: 'privacy_transfer_basis', id },
          details: { subprocessor: row.subprocessor, basis: row.basis },
        });
      });
    },

    /** The transfer rule for a feature a tenant turns on (see transfers.ts). */
    assertTransferAllowed: (tx: Tx, tenantId: string, feature: SubprocessorFeature, opts: { host?: string } = {}) => assertTransferAllowed(tx, config, tenantId, feature, opts),
  };
}
export type RecordsService = ReturnType<typeof createRecordsService>;

const transferBasisView = z.object({ id: z.uuid(), subprocessor: z.string(), basis: z.enum(transferBasisNames), note: z.string(), createdBy: z.uuid().nullable(), createdAt: z.date() });
const stringList = z.array(z.string());
const recordView = z.object({
  scope: z.enum(['platform', 'tenant']),
  generatedAt: z.string(),
  controller: z.object({ name: z.string(), contact: z.string().optional(), dpo: z.string().optional() }).nullable(),
  processor: z.object({ name: z.string(), contact: z.string().optional(), dpo: z.string().optional() }).nullable(),
  tenant: z.object({ id: z.uuid(), slug: z.string(), name: z.string(), region: z.string(), jurisdiction: z.string() }).optional(),
  jurisdictions: stringList,
  activities: z.array(z.object({ purpose: z.string(), legalBases: stringList, dataCategories: stringList, dataSubjects: stringList, tables: stringList })),
  dataCategories: z.array(z.object({ category: z.string(), description: z.string() })),
  dataSubjects: z.array(z.object({ kind: z.string(), description: z.string() })),
  recipients: z.array(z.object({ name: z.string(), purpose: z.string(), dataCategories: stringList, location: z.string(), jurisdiction: z.string(), features: stringList })),
  transfers: z.array(z.object({
    subprocessor: z.string(), features: stringList, from: z.string(), to: z.string(), location: z.string(),
    basis: z.string().nullable(), basisSource: z.enum(['platform', 'tenant']).nullable(), status: z.enum(['covered', 'basis_required']),
  })),
  retention: z.object({ settings: z.record(z.string(), z.union([z.number(), z.string(), z.null()])), rules: z.array(z.object({ table: z.string(), rule: z.string() })) }),
  securityMeasures: stringList,
}).describe('Record of processing activities (GDPR Art. 30)');

export function registerRecordsRoutes(app: HttpServer, records: RecordsService): void {
  app.get('/api/v1/privacy/records', {
    schema: {
      tags: ['privacy'], summary: 'The record of processing (Art. 30): this organization\'s, or the platform\'s for an operator (scope=platform)',
      querystring: z.object({ scope: z.enum(['platform', 'tenant']).optional() }),
      response: { 200: recordView, ...errorResponses },
    },
  }, async (req) => records.record(req.ctx, req.query.scope));

  app.get('/api/v1/privacy/transfers', {
    schema: {
      tags: ['privacy'], summary: 'This organization\'s transfer bases, and the subprocessors outside its jurisdiction with the basis that covers each',
      response: {
        200: z.object({
          items: z.array(transferBasisView),
          abroad: z.array(z.object({ subprocessor: z.string(), jurisdiction: z.string(), features: stringList, basis: z.string().nullable(), basisSource: z.enum(['platform', 'tenant']).nullable() })),
        }),
        ...errorResponses,
      },
    },
  }, async (req) => records.listTransfers(req.ctx));

  app.post('/api/v1/privacy/transfers', {
    schema: { tags: ['privacy'], summary: 'Record a transfer basis for a subprocessor outside this organization\'s jurisdiction', body: newTransferBasisSchema, response: { 201: transferBasisView, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await records.addTransfer(req.ctx, req.body)));

  app.delete('/api/v1/privacy/transfers/:id', {
    schema: { tags: ['privacy'], summary: 'Withdraw a transfer basis', params: idParam, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await records.removeTransfer(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });
}
