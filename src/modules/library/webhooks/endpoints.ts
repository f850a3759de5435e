// Tenant admins register the endpoints that receive webhook events. The
// signing secret is generated here, shown once in the reply that creates or
// rotates it, and otherwise kept only sealed with the tenant key. Each
// endpoint's delivery log (status, duration and attempts) is readable by
// admins, and a delivery can be sent again.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { actorUserId, type RequestContext } from '../../identity/actor.ts';
import { authorize } from '../../identity/access.ts';
import { secretPurpose } from './delivery.ts';
import { EVENT_CHANNEL, type WebhookEventType, webhookEventTypes } from './events.ts';
import { newWebhookSecret } from './signature.ts';
import { checkEndpointUrl } from './targets.ts';

export const MAX_ENDPOINTS_PER_TENANT = 20;

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryAttempt { attempt: number; startedAt: Date; durationMs: number; statusCode: number | null; error: string | null }
export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastDurationMs: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  completedAt: Date | null;
  log: DeliveryAttempt[];
}

const eventList = z.array(z.enum(webhookEventTypes)).min(1, 'subscribe to at least one event').max(20)
  .transform((events) => [...new Set(events)]);

export const endpointCreateSchema = z.object({
  url: z.string().max(2000, 'url may be at most 2,000 characters'),
  events: eventList,
  description: z.string().max(500, 'description may be at most 500 characters').optional(),
  enabled: z.boolean().optional(),
}).strict();

export const endpointUpdateSchema = z.object({
  url: z.string().max(2000, 'url may be at most 2,000 characters').optional(),
  events: eventList.optional(),
  description: z.string().max(500).optional(),
  enabled: z.boolean().optional(),
}).strict();

const toEndpoint = (r: Record<string, any>): WebhookEndpoint => ({
  id: r.id, url: r.url, description: r.description, events: r.events, enabled: r.enabled, createdAt: r.created_at, updatedAt: r.updated_at,
});

async function requireEndpoint(tx: Tx, tenantId: string, id: string, lock = false): Promise<WebhookEndpoint> {
  const row = await tx.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).$if(lock, (q) => q.forUpdate()).executeTakeFirst();
  if (!row) throw notFound('webhook');
  return toEndpoint(row);
}

// The URL can carry a token of the receiver's; the audit trail keeps its host and a masked ref.
const audited = (e: WebhookEndpoint) => ({ url: e.url, host: new URL(e.url).host, events: e.events, enabled: e.enabled, description: e.description });
const personal = ['url', 'description'];

export function createWebhookEndpointService(platform: Platform, audit: AuditService) {
  const { db, keyring, config } = platform;
  const allowPrivate = () => config.webhooksAllowPrivateTargets;

  return {
    async list(ctx: RequestContext): Promise<WebhookEndpoint[]> {
      authorize(ctx, 'tenant:read');
      const rows = await db.withTenant(ctx.tenantId, (tx) => tx.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', ctx.tenantId).orderBy('created_at').execute());
      return rows.map(toEndpoint);
    },

    async get(ctx: RequestContext, id: string): Promise<WebhookEndpoint> {
      authorize(ctx, 'tenant:read');
      return db.withTenant(ctx.tenantId, (tx) => requireEndpoint(tx, ctx.tenantId, id));
    },

    /** Registers an endpoint; the reply carries its signing secret, the only time it is shown. */
    async create(ctx: RequestContext, input: unknown): Promise<WebhookEndpoint & { secret: string }> {
      authorize(ctx, 'tenant:write');
      const data = endpointCreateSchema.parse(input);
      const url = checkEndpointUrl(data.url, allowPrivate()).toString();
      const id = randomUUID();
      const secret = newWebhookSecret();
      return db.withTenant(ctx.tenantId, async (tx) => {
        await sql`select pg_advisory_xact_lock(hashtext(${`webhooks:${ctx.tenantId}`}))`.execute(tx);
        const { count } = await tx.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('count')).where('tenant_id', '=', ctx.tenantId).executeTakeFirstOrThrow();
        if (Number(count) >= MAX_ENDPOINTS_PER_TENANT) throw new AppError('too_many_webhooks', 409, `An organization may register at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints.`);
        const row = await tx.insertInto('webhook_endpoints').values({
          id, tenant_id: ctx.tenantId, url, events: data.events, description: data.description ?? '', enabled: data.enabled ?? true,
          secret_sealed: await keyring.sealForTenant(tx, ctx.tenantId, Buffer.from(secret, 'utf8'), secretPurpose(id)),
          created_by: actorUserId(ctx.actor) ?? null,
        }).returningAll().executeTakeFirstOrThrow();
        const endpoint = toEndpoint(row);
        await audit.record(tx, ctx, { action: 'webhook.create', target: { type: 'webhook', id }, diff: { before: null, after: audited(endpoint) }, personal });
        return { ...endpoint, secret };
      });
    },

    async update(ctx: RequestContext, id: string, input: unknown): Promise<WebhookEndpoint> {
      authorize(ctx, 'tenant:write');
      const change = endpointUpdateSchema.parse(input);
      const url = change.url === undefined ? undefined : checkEndpointUrl(change.url, allowPrivate()).toString();
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await requireEndpoint(tx, ctx.tenantId, id, true);
        const row = await tx.updateTable('webhook_endpoints').set({
          url: url ?? before.url,
          events: change.events ?? before.events,
          description: change.description ?? before.description,
          enabled: change.enabled ?? before.enabled,
          updated_at: sql`now()`,
        }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        const after = toEndpoint(row);
        await audit.record(tx, ctx, { action: 'webhook.update', target: { type: 'webhook', id }, diff: { before: audited(before), after: audited(after) }, personal });
        return after;
      });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      authorize(ctx, 'tenant:write');
      await db.withTenant(ctx.tenantId, async (tx) => {
        const before = await requireEndpoint(tx, ctx.tenantId, id, true);
        await tx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
        await audit.record(tx, ctx, { action: 'webhook.delete', target: { type: 'webhook', id }, diff: { before: audited(before), after: null }, personal });
      });
    },

    /** A new signing secret, in force at once; the old one stops working. */
    async rotateSecret(ctx: RequestContext, id: string): Promise<{ secret: string }> {
      authorize(ctx, 'tenant:write');
      const secret = newWebhookSecret();
      await db.withTenant(ctx.tenantId, async (tx) => {
        await requireEndpoint(tx, ctx.tenantId, id, true);
        const sealed = await keyring.sealForTenant(tx, ctx.tenantId, Buffer.from(secret, 'utf8'), secretPurpose(id));
        await tx.updateTable('webhook_endpoints').set({ secret_sealed: sealed, updated_at: sql`now()` }).where('id', '=', id).execute();
        await audit.record(tx, ctx, { action: 'webhook.secret.rotate', target: { type: 'webhook', id } });
      });
      return { secret };
    },

    /** The endpoint's newest deliveries with each attempt's status code, duration and error. */
    async deliveries(ctx: RequestContext, id: string, opts: { limit: number; status?: Delivery['status'] }): Promise<Delivery[]> {
      authorize(ctx, 'tenant:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        await requireEndpoint(tx, ctx.tenantId, id);
        const rows = await tx.selectFrom('webhook_deliveries as d')
          .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
          .select(['d.id', 'd.event_id', 'e.type', 'd.status', 'd.attempts', 'd.last_status_code', 'd.last_duration_ms', 'd.last_error', 'd.next_attempt_at', 'd.created_at', 'd.completed_at'])
          .where('d.tenant_id', '=', ctx.tenantId)
          .where('d.endpoint_id', '=', id)
          .$if(opts.status !== undefined, (q) => q.where('d.status', '=', opts.status!))
          .orderBy('d.created_at', 'desc')
          .orderBy('d.id')
          .limit(opts.limit)
          .execute();
        const attempts = rows.length
          ? await tx.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', 'in', rows.map((r) => r.id)).orderBy('attempt').execute()
          : [];
        return rows.map((r) => ({
          id: r.id, eventId: r.event_id, eventType: r.type, status: r.status, attempts: r.attempts, lastStatusCode: r.last_status_code, lastDurationMs: r.last_duration_ms,
          lastError: r.last_error, nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null, createdAt: r.created_at, completedAt: r.completed_at,
          log: attempts.filter((a) => a.delivery_id === r.id).map((a) => ({ attempt: a.attempt, startedAt: a.started_at, durationMs: a.duration_ms, statusCode: a.status_code, error: a.error })),
        }));
      });
    },

    /** Sends a delivery's event to the endpoint again, as a new delivery; returns its id. */
    async redeliver(ctx: RequestContext, id: string, deliveryId: string): Promise<{ deliveryId: string }> {
      authorize(ctx, 'tenant:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const endpoint = await requireEndpoint(tx, ctx.tenantId, id);
        if (!endpoint.enabled) throw new AppError('webhook_disabled', 409, 'Enable the endpoint before sending to it again.');
        const original = await tx.selectFrom('webhook_deliveries as d').innerJoin('webhook_events as e', 'e.id', 'd.event_id').select(['d.event_id', 'e.type'])
          .where('d.tenant_id', '=', ctx.tenantId).where('d.endpoint_id', '=', id).where('d.id', '=', deliveryId).executeTakeFirst();
        if (!original) throw notFound('delivery');
        const created = await sql<{ id: string }>`
          insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id) values (gen_random_uuid(), ${ctx.tenantId}, ${id}, ${original.event_id}) returning id`.execute(tx);
        await sql`select pg_notify(${EVENT_CHANNEL}, ${`${ctx.tenantId}:${original.event_id}`})`.execute(tx);
        const newId = created.rows[0]!.id;
        await audit.record(tx, ctx, { action: 'webhook.redeliver', target: { type: 'webhook', id }, details: { deliveryId: newId, originalDeliveryId: deliveryId, eventType: original.type } });
        return { deliveryId: newId };
      });
    },
  };
}

export type WebhookEndpointService = ReturnType<typeof createWebhookEndpointService>;
