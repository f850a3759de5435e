// The consent gate's own endpoints: read the documents, decide, see history;
// admins publish tenant documents and export the tenant's records.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { RequestContext } from '../actor.ts';
import { authorize, isPlatformOperator } from '../access.ts';
import type { ConsentService } from '../consent.ts';

const documentView = z.object({
  id: z.uuid(), scope: z.enum(['platform', 'tenant']), kind: z.string(), version: z.number(), title: z.string(), body: z.string(),
  legalBasis: z.string(), publishedAt: z.date(), decision: z.enum(['accepted', 'declined', 'withdrawn']).nullable(), decidedAt: z.date().nullable(),
});
const consentOk = { consentExempt: true } as const;

export function registerConsentRoutes(app: HttpServer, consent: ConsentService, inScope: <T>(ctx: RequestContext, fn: (tx: import('../../../platform/db/database.ts').Tx) => Promise<T>) => Promise<T>): void {
  app.get('/api/v1/consent', {
    schema: { tags: ['consent'], summary: 'The current documents that apply to me, with my decision', response: { 200: z.object({ items: z.array(documentView), complete: z.boolean() }), ...errorResponses } },
    config: consentOk,
  }, async (req) => {
    const items = await consent.list(req.ctx);
    return { items, complete: items.every((d) => d.decision === 'accepted') };
  });

  app.post('/api/v1/consent/:id', {
    schema: {
      tags: ['consent'],
      summary: 'Accept, decline or withdraw (where the basis is consent) a document',
      params: idParam,
      body: z.object({ decision: z.enum(['accepted', 'declined', 'withdrawn']) }),
      response: { 200: z.object({ items: z.array(documentView), complete: z.boolean() }), ...errorResponses },
    },
    config: consentOk,
  }, async (req) => {
    const items = await consent.decide(req.ctx, req.params.id, req.body.decision, req.ctx.actor.type === 'api_token' ? 'api' : 'form');
    return { items, complete: items.every((d) => d.decision === 'accepted') };
  });

  const record = z.object({ id: z.uuid(), document_id: z.uuid(), document_kind: z.string(), document_version: z.number(), decision: z.string(), method: z.string(), recorded_at: z.date() });
  app.get('/api/v1/consent/history', {
    schema: { tags: ['consent'], summary: 'Every consent decision I have made', response: { 200: z.object({ items: z.array(record) }), ...errorResponses } },
    config: consentOk,
  }, async (req) => {
    if (req.ctx.actor.type !== 'user') throw new AppError('unauthenticated', 401, 'Sign in to see your consent history.');
    const userId = req.ctx.actor.userId;
    return { items: await inScope(req.ctx, (tx) => consent.history(tx, userId)) };
  });

  app.get('/api/v1/consent/records', {
    schema: { tags: ['consent'], summary: 'Every consent decision in this organization (admins)', response: { 200: z.object({ items: z.array(record.extend({ user_id: z.uuid() })) }), ...errorResponses } },
  }, async (req) => {
    authorize(req.ctx, 'privacy:read');
    const tenantId = req.ctx.tenantId;
    return { items: await inScope(req.ctx, (tx) => consent.tenantRecords(tx, tenantId)) };
  });

  app.post('/api/v1/consent/documents', {
    schema: {
      tags: ['consent'],
      summary: 'Publish a new document version; everyone it applies to is asked again',
      body: z.object({
        scope: z.enum(['tenant', 'platform']).default('tenant'),
        kind: z.enum(['terms', 'privacy_notice', 'dpa']),
        title: z.string().trim().min(1).max(200),
        body: z.string().trim().min(1).max(100_000),
        audience: z.enum(['all', 'owners']).default('all'),
        legalBasis: z.enum(['contract', 'consent', 'legal_obligation']).default('contract'),
      }),
      response: { 201: z.object({ id: z.uuid(), kind: z.string(), version: z.number(), published_at: z.date() }), ...errorResponses },
    },
  }, async (req, reply) => {
    const { scope, ...input } = req.body;
    if (scope === 'platform') {
      if (!isPlatformOperator(req.ctx.actor)) throw new AppError('forbidden', 403, 'Only platform operators publish platform documents.');
    } else {
      authorize(req.ctx, 'tenant:write');
    }
    return reply.status(201).send(await consent.publish(req.ctx, scope, input));
  });
}
