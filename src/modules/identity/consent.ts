// Consent: versioned documents (platform-wide and per tenant) and an
// append-only record of every decision. A signed-in person who has not
// accepted the current version of every document that applies to them can do
// nothing but decide (see the consent gate in http-context.ts).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import { seedDocuments } from './documents/index.ts';
import { summarizeUserAgent } from './sessions.ts';

export type ConsentDecision = 'accepted' | 'declined' | 'withdrawn';
export type ConsentMethod = 'form' | 'sso' | 'api';

export interface ConsentDocumentView {
  id: string;
  scope: 'platform' | 'tenant';
  kind: string;
  version: number;
  title: string;
  body: string;
  legalBasis: string;
  publishedAt: Date;
  decision: ConsentDecision | null;
  decidedAt: Date | null;
}

export interface PublishInput { kind: 'terms' | 'privacy_notice' | 'dpa'; title: string; body: string; audience: 'all' | 'owners'; legalBasis: 'contract' | 'consent' | 'legal_obligation' }

export function createConsentService(platform: Platform, audit: AuditPort) {
  const { db, pseudonymize } = platform;

  /** The current version of each document that applies to this person in this tenant. */
  async function current(tx: Tx, userId: string, tenantId: string | null, isOwner: boolean): Promise<ConsentDocumentView[]> {
    const { rows } = await sql<Record<string, any>>`
      select d.*, r.decision, r.recorded_at
      from consent_documents d
      left join lateral (
        select decision, recorded_at from consent_records r
        where r.user_id = ${userId} and r.document_id = d.id order by r.recorded_at desc limit 1
      ) r on true
      where (d.tenant_id is null or d.tenant_id = ${tenantId})
        and d.version = (select max(d2.version) from consent_documents d2 where d2.tenant_id is not distinct from d.tenant_id and d2.kind = d.kind)
        and (d.audience = 'all' or ${isOwner})
      order by d.tenant_id nulls first, d.kind`.execute(tx);
    return rows.map((r) => ({
      id: r.id, scope: r.tenant_id ? 'tenant' : 'platform', kind: r.kind, version: r.version, title: r.title, body: r.body,
      legalBasis: r.legal_basis, publishedAt: r.published_at, decision: r.decision ?? null, decidedAt: r.recorded_at ?? null,
    }));
  }

  const inScope = <T>(ctx: RequestContext, fn: (tx: Tx) => Promise<T>) => (ctx.tenantId ? db.withTenant(ctx.tenantId, fn) : db.withPlatform(fn));
  const subject = (ctx: RequestContext) => {
    if (ctx.actor.type !== 'user') throw new AppError('unauthenticated', 401, 'Sign in to see and give consent.');
    return { userId: ctx.actor.userId, isOwner: ctx.actor.role === 'owner' };
  };

  return {
    /** Publishes version 1 of the platform documents on a new installation. */
    async seedPlatformDocuments(): Promise<void> {
      await db.withPlatform(async (tx) => {
        for (const doc of seedDocuments) {
          await tx
            .insertInto('consent_documents')
            .values({ id: randomUUID(), tenant_id: null, kind: doc.kind, version: 1, title: doc.title, body: doc.body, audience: doc.audience, legal_basis: doc.legalBasis })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      });
    },

    async list(ctx: RequestContext): Promise<ConsentDocumentView[]> {
      const { userId, isOwner } = subject(ctx);
      return inScope(ctx, (tx) => current(tx, userId, ctx.tenantId ?? null, isOwner));
    },

    async decide(ctx: RequestContext, documentId: string, decision: ConsentDecision, method: ConsentMethod = 'form'): Promise<ConsentDocumentView[]> {
      const { userId, isOwner } = subject(ctx);
      return inScope(ctx, async (tx) => {
        const docs = await current(tx, userId, ctx.tenantId ?? null, isOwner);
        const doc = docs.find((d) => d.id === documentId);
        if (!doc) throw notFound('consent_document');
        if (decision === 'withdrawn') {
          if (doc.legalBasis !== 'consent') throw new AppError('not_withdrawable', 409, `"${doc.title}" is part of your contract, not consent; it cannot be withdrawn, only your account closed.`);
          if (doc.decision !== 'accepted') throw new AppError('nothing_to_withdraw', 409, 'You have not accepted this document.');
        }
        await tx
          .insertInto('consent_records')
          .values({
            id: randomUUID(), tenant_id: ctx.tenantId ?? null, user_id: userId, document_id: doc.id, document_kind: doc.kind, document_version: doc.version,
            decision, method, ip_pseudonym: ctx.ip ? pseudonymize(ctx.ip) : null, user_agent_summary: summarizeUserAgent(ctx.userAgent),
          })
          .execute();
        await audit.record(tx, ctx, { action: `consent.${decision}`, target: { type: 'consent_document', id: doc.id }, details: { kind: doc.kind, version: doc.version, method } });
        return current(tx, userId, ctx.tenantId ?? null, isOwner);
      });
    },

    /** Every decision of one person (their own history, or for export). */
    async history(tx: Tx, userId: string) {
      return tx
        .selectFrom('consent_records')
        .select(['id', 'tenant_id', 'document_id', 'document_kind', 'document_version', 'decision', 'method', 'ip_pseudonym', 'user_agent_summary', 'recorded_at'])
        .where('user_id', '=', userId)
        .orderBy('recorded_at')
        .execute();
    },

    /** Every decision in a tenant (admin export). */
    async tenantRecords(tx: Tx, tenantId: string) {
      return tx
        .selectFrom('consent_records')
        .select(['id', 'user_id', 'document_id', 'document_kind', 'document_version', 'decision', 'method', 'recorded_at'])
        .where('tenant_id', '=', tenantId)
        .orderBy('recorded_at')
        .execute();
    },

    /** A new version re-prompts everyone it applies to. Tenant admins publish tenant documents. */
    async publish(ctx: RequestContext, scope: 'platform' | 'tenant', input: PublishInput) {
      const tenantId = scope === 'tenant' ? ctx.tenantId : null;
      if (scope === 'tenant' && !tenantId) throw new AppError('tenant_required', 400, 'Publishing a tenant document needs a tenant.');
      const run = (tx: Tx) => publishIn(tx, tenantId ?? null, input);
      const doc = await (tenantId ? db.withTenant(tenantId, async (tx) => { const d = await run(tx); await audit.record(tx, ctx, { action: 'consent.document.published', target: { type: 'consent_document', id: d.id }, details: { kind: d.kind, version: d.version } }); return d; })
        : db.withPlatform(async (tx) => { const d = await run(tx); await audit.record(tx, ctx, { action: 'consent.document.published', target: { type: 'consent_document', id: d.id }, details: { kind: d.kind, version: d.version } }); return d; }));
      return doc;
    },
  };

  async function publishIn(tx: Tx, tenantId: string | null, input: PublishInput) {
    const last = await tx
      .selectFrom('consent_documents')
      .select(sql<number>`coalesce(max(version), 0)`.as('v'))
      .where(sql<boolean>`tenant_id is not distinct from ${tenantId}`)
      .where('kind', '=', input.kind)
      .executeTakeFirstOrThrow();
    return tx
      .insertInto('consent_documents')
      .values({ id: randomUUID(), tenant_id: tenantId, kind: input.kind, version: last.v + 1, title: input.title, body: input.body, audience: input.audience, legal_basis: input.legalBasis })
      .returning(['id', 'kind', 'version', 'published_at'])
      .executeTakeFirstOrThrow();
  }
}

export type ConsentService = ReturnType<typeof createConsentService>;
