// Webhook events enter through emitVideoEvent, inside the transaction of the
// change they report: the event (the outbox row), one delivery per subscribed
// endpoint, and a NOTIFY that PostgreSQL sends only if that transaction
// commits. Worker nodes LISTEN and queue a delivery job per delivery, so an
// integration hears of a change exactly when it happened, and never of one
// that was rolled back.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError } from '../../../platform/errors.ts';

export const webhookEventTypes = ['video.ready', 'video.failed', 'video.deleted'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The channel that carries "<tenantId>:<eventId>" of committed events. */
export const EVENT_CHANNEL = 'haven_webhook_events';
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** What a video event says: always the video's id, plus whatever the emitter adds (status, error code, …). */
export const videoEventPayload = z.object({ videoId: z.uuid() }).catchall(z.unknown());
export type VideoEventPayload = z.infer<typeof videoEventPayload>;

export interface EmittedEvent { eventId: string; deliveries: number }

/** The JSON every endpoint receives, byte for byte (signatures cover it). */
export function eventBody(id: string, type: WebhookEventType, createdAt: Date, data: VideoEventPayload): string {
  return JSON.stringify({ id, type, createdAt: createdAt.toISOString(), data });
}

/**
 * Records a video event for the tenant's webhook endpoints, in the caller's
 * transaction. Call it where the change is written (the media module when a
 * video turns ready or failed; deletion when a video is deleted).
 */
export async function emitVideoEvent(tx: Tx, tenantId: string, event: WebhookEventType, payload: VideoEventPayload): Promise<EmittedEvent> {
  if (!webhookEventTypes.includes(event)) throw new AppError('invalid_webhook_event', 500, `Unknown webhook event ${String(event)}.`);
  const data = videoEventPayload.parse(payload);
  const id = randomUUID();
  const body = eventBody(id, event, new Date(), data);
  if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) throw new AppError('webhook_payload_too_large', 500, `A webhook event may carry at most ${MAX_PAYLOAD_BYTES} bytes.`);
  await tx.insertInto('webhook_events').values({ id, tenant_id: tenantId, type: event, body }).execute();
  const deliveries = await createDeliveries(tx, tenantId, id, event);
  return { eventId: id, deliveries };
}

/** One pending delivery per enabled endpoint subscribed to the event; notifies on commit. */
async function createDeliveries(tx: Tx, tenantId: string, eventId: string, event: string): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id)
    select gen_random_uuid(), e.tenant_id, e.id, ${eventId}
    from webhook_endpoints e
    where e.tenant_id = ${tenantId} and e.enabled and ${event} = any(e.events)
    returning id`.execute(tx);
  if (rows.length) await sql`select pg_notify(${EVENT_CHANNEL}, ${`${tenantId}:${eventId}`})`.execute(tx);
  return rows.length;
}
