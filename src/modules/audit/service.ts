// The audit service: every module records its events through record() inside
// its own transaction, so an event exists exactly when the change it
// describes does. Everything else — sealing into hash chains, checkpoints,
// verification, search, export, retention — works on what was recorded.
import type { Readable } from 'node:stream';
import type { Tx } from '../../platform/db/database.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { type Actor, type RequestContext, systemContext } from '../identity/actor.ts';
import { type Checkpoint, createCheckpointSigner } from './chain.ts';
import { checkpointHead, type SweepResult, sweepTenant } from './checkpoints.ts';
import { type AuditEvent, type AuditTarget, buildRow, eventTenant, subjectRef } from './events.ts';
import { type ExportFormat, exportFormats, streamExport } from './export.ts';
import { createCursorCodec, parseExportRange, parseSearchFilters, searchRange } from './query.ts';
import { startAuditWorkers } from './jobs.ts';
import { createSealer } from './sealer.ts';
import * as store from './store.ts';
import { verifyChain, type VerifyReport } from './verify.ts';
import { createAuditWriter } from './writer.ts';

export type { AuditEvent, AuditTarget } from './events.ts';
export { PLATFORM_TENANT_ID } from './events.ts';
export type { AuditEntry } from './store.ts';
export type { VerifyReport } from './verify.ts';
export type { SweepResult } from './checkpoints.ts';
export type { ExportFormat } from './export.ts';
export type { PersonalFields } from './mask.ts';

export interface AuditPage { items: store.AuditEntry[]; nextCursor: string | null }

export type SensitiveRead = 'personal_data' | 'private_media';

export interface AuditService {
  /** Records one event in the caller's transaction; it commits or rolls back with the change. */
  record(tx: Tx, ctx: RequestContext, event: AuditEvent): Promise<void>;
  /**
   * Records in a transaction of its own. For events that must survive the
   * caller's rollback — denied access, failed logins, job failures — and for
   * platform events outside any request.
   */
  recordNow(ctx: RequestContext, event: AuditEvent): Promise<void>;
  /** A refused authorization attempt (own transaction: the request is about to fail). */
  recordDenied(ctx: RequestContext, event: Omit<AuditEvent, 'outcome'>): Promise<void>;
  /** Records a staff member's read of personal data or private media; no-op for ordinary members. */
  recordStaffRead(tx: Tx, ctx: RequestContext, read: { target: AuditTarget; category: SensitiveRead }): Promise<boolean>;
  /**
   * Erasure of a person: nulls their id wherever they acted or were acted on
   * and labels the entries with the erasure's pseudonym. The hash covers only
   * keyed pseudonyms, so the chain still verifies.
   */
  eraseSubject(tx: Tx, tenantId: string, subjectId: string, erasurePseudonym: string): Promise<number>;
  /** Links every committed entry (of one tenant, or all) into its chain now. */
  seal(tenantId?: string): Promise<number>;
  /** Signs the head of each chain (or one) that moved since its last checkpoint. */
  checkpoint(tenantId?: string): Promise<Checkpoint[]>;
  verify(tenantId: string): Promise<VerifyReport>;
  /** Every chain, the platform's included. */
  verifyAll(): Promise<VerifyReport[]>;
  /** Filters as they come from outside (validated here); newest first. */
  search(tenantId: string, filters: unknown, cursor?: unknown): Promise<AuditPage>;
  /** Streams a time range; the export itself is recorded first. */
  exportEvents(tenantId: string, range: unknown, format: ExportFormat, ctx: RequestContext): Promise<Readable>;
  /** Deletes entries past retention behind signed cut checkpoints. */
  sweep(now?: Date): Promise<SweepResult[]>;
  /** A worker node's share: the checkpoint and retention jobs, and the sealing loop. */
  startWorkers(sealIntervalMs?: number): Promise<void>;
  /** Just the sealing loop (tests, tools). */
  startSealer(intervalMs?: number): void;
  /** Stops the sealing loop, letting a pass in progress finish. */
  stop(): Promise<void>;
  /** The HTTP surface, added by the module's routes.ts; absent until then. */
  registerRoutes?(app: HttpServer): void;
}

const DAY_MS = 86_400_000;

/**
 * Staff access: a support grant, or a platform role used in a tenant the
 * person is not a member of. Reads by the tenant's own members are not
 * recorded one by one.
 */
export function isStaffAccess(actor: Actor): boolean {
  return actor.type === 'support_grant' || (actor.type === 'user' && actor.platformRoles.length > 0 && !actor.role);
}

export function createAuditService(platform: Platform): AuditService {
  const { db, log, clock, config, pseudonymize } = platform;
  const signer = createCheckpointSigner(platform.signingKey);
  const cursors = createCursorCodec(platform.signingKey);
  const sealer = createSealer(db, log);
  const writer = createAuditWriter();

  const record = async (tx: Tx, ctx: RequestContext, event: AuditEvent) => writer.append(tx, buildRow(ctx, event, clock.now(), pseudonymize));
  const recordNow = (ctx: RequestContext, event: AuditEvent) => db.withTenant(eventTenant(ctx, event), (tx) => record(tx, ctx, event));

  async function tenantsWithChains(): Promise<string[]> {
    return db.withPlatform(async (tx) => [...new Set([...(await store.chainTenants(tx)), ...(await store.tenantsWithUnsealed(tx))])].sort());
  }

  async function verify(tenantId: string): Promise<VerifyReport> {
    await sealer.sealTenant(tenantId, 'wait');
    // Segments after the first run on connections of their own, concurrently;
    // the head's share lock (held by the first) keeps the chain still meanwhile.
    return db.withTenant(tenantId, (tx) =>
      verifyChain(tx, tenantId, signer, {
        check: (segmentTx, base, lastSeq) =>
          segmentTx ? store.firstFaultyEntry(segmentTx, tenantId, base, lastSeq) : db.withTenant(tenantId, (own) => store.firstFaultyEntry(own, tenantId, base, lastSeq)),
      }));
  }

  const service: AuditService = {
    record,
    recordNow,
    recordDenied: (ctx, event) => recordNow(ctx, { ...event, outcome: 'denied' }),

    async recordStaffRead(tx, ctx, { target, category }) {
      if (!isStaffAccess(ctx.actor)) return false;
      await record(tx, ctx, { action: `${target.type}.read`, target, details: { category } });
      return true;
    },

    async eraseSubject(tx, tenantId, subjectId, erasurePseudonym) {
      await writer.flush(tx); // events this transaction recorded about the person are erased too
      return store.eraseSubject(tx, tenantId, subjectId, subjectRef(pseudonymize, subjectId), erasurePseudonym);
    },

    seal: (tenantId) => (tenantId ? sealer.sealTenant(tenantId, 'wait') : sealer.sealAll('wait')),

    async checkpoint(tenantId) {
      const tenants = tenantId ? [tenantId] : await tenantsWithChains();
      const made: Checkpoint[] = [];
      for (const t of tenants) {
        await sealer.sealTenant(t, 'wait');
        const cp = await db.withTenant(t, (tx) => checkpointHead(tx, t, signer, clock.now(), log));
        if (cp) made.push(cp);
      }
      return made;
    },

    verify,
    async verifyAll() {
      const reports: VerifyReport[] = [];
      for (const t of await tenantsWithChains()) reports.push(await verify(t));
      return reports;
    },

    async search(tenantId, input, cursor) {
      const filters = parseSearchFilters(input);
      const position = cursor === undefined || cursor === null || cursor === '' ? undefined : cursors.decode(tenantId, filters, cursor);
      const range = position?.range ?? searchRange(filters, clock.now());
      const query: store.EventQuery = {
        tenantId,
        ...range,
        actorRef: filters.actorId && subjectRef(pseudonymize, filters.actorId),
        actorType: filters.actorType,
        action: filters.action,
        targetType: filters.targetType,
        targetRef: filters.targetId && subjectRef(pseudonymize, filters.targetId),
        outcome: filters.outcome,
      };
      const rows = await db.withTenant(tenantId, (tx) => store.searchEvents(tx, query, filters.limit + 1, position?.after));
      const items = rows.slice(0, filters.limit);
      const last = items.at(-1);
      const nextCursor = rows.length > filters.limit && last ? cursors.encode(tenantId, filters, { range, after: { occurredAt: new Date(last.occurredAt), id: last.id } }) : null;
      return { items, nextCursor };
    },

    async exportEvents(tenantId, input, format, ctx) {
      if (!exportFormats.includes(format)) throw new AppError('invalid_format', 400, `Export format must be one of ${exportFormats.join(', ')}.`);
      const range = parseExportRange(input);
      await recordNow(ctx, {
        action: 'audit.export',
        tenantId,
        target: { type: 'audit_trail', id: tenantId },
        details: { format, from: range.from.toISOString(), to: range.to.toISOString() },
      });
      await sealer.sealTenant(tenantId, 'wait');
      return streamExport(db, { tenantId, ...range }, format);
    },

    async sweep(now = clock.now()) {
      const cutoff = new Date(now.getTime() - config.auditRetentionDays * DAY_MS);
      await sealer.sealAll('wait');
      const results: SweepResult[] = [];
      for (const tenantId of await db.withPlatform((tx) => store.chainTenants(tx))) {
        const result = await db.withTenant(tenantId, async (tx) => {
          const swept = await sweepTenant(tx, tenantId, cutoff, signer, now, log);
          if (swept) {
            await record(tx, systemContext('audit.sweep', tenantId), {
              action: 'audit.retention.sweep',
              details: { cutSeq: swept.cutSeq, deleted: swept.deleted, retentionDays: config.auditRetentionDays },
            });
          }
          return swept;
        });
        if (result) results.push(result);
      }
      return results;
    },

    async startWorkers(sealIntervalMs) {
      await startAuditWorkers(platform.jobs, service, sealIntervalMs);
    },
    startSealer: (intervalMs) => sealer.start(intervalMs),
    stop: () => sealer.stop(),
  };
  return service;
}
