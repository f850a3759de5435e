// Delivering webhook events: a job per attempt. A worker first claims the
// delivery for that attempt (a second job for the same attempt — the queue
// delivers at least once — finds it claimed or done and does nothing), then
// posts outside any transaction, then records the attempt and either
// finishes the delivery or queues the next attempt after a backoff delay.
// A minutely sweep re-queues deliveries whose job was lost (a node died
// between commit and send); a daily one removes the log after 30 days.
import { sql } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import { defineJob } from '../../../platform/jobs.ts';
import type { Logger } from '../../../platform/log.ts';
import type { Platform } from '../../../platform/platform.ts';
import { EVENT_CHANNEL } from './events.ts';
import { postWebhook } from './send.ts';
import { signatureHeader } from './signature.ts';

/** Seconds before attempt 2, 3, …: nine attempts over about two days, then the delivery is given up. */
export const DEFAULT_RETRY_DELAYS_SECONDS = [10, 60, 300, 1800, 7200, 21_600, 43_200, 86_400];
export const DELIVERY_TIMEOUT_MS = 10_000;
export const LOG_RETENTION_DAYS = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How long a claim holds: longer than one attempt can take. */
const CLAIM_SECONDS = 60;
/** A pending delivery this far past its time has lost its job. */
const OVERDUE_SECONDS = 120;

export const deliverWebhookJob = defineJob({
  name: 'webhooks.deliver',
  schema: z.object({ tenantId: z.uuid(), deliveryId: z.uuid(), attempt: z.number().int().min(1) }),
  // Failed HTTP attempts are scheduled by the handler; these retries cover a handler that could not run (database gone).
  retryLimit: 3,
  expireInSeconds: 120,
});

export const requeueWebhooksJob = defineJob({ name: 'webhooks.requeue', schema: z.object({}).passthrough(), cron: '* * * * *', retryLimit: 1 });
export const webhookRetentionJob = defineJob({ name: 'webhooks.retention', schema: z.object({}).passthrough(), cron: '23 3 * * *', retryLimit: 2 });

export interface DeliveryOptions {
  retryDelaysSeconds: number[];
  timeoutMs: number;
}

export const secretPurpose = (endpointId: string) => `webhook-secret:${endpointId}`;

export function createWebhookDelivery(platform: Platform, opts: DeliveryOptions) {
  const { db, jobs, keyring, config, log } = platform;
  const maxAttempts = opts.retryDelaysSeconds.length + 1;

  const queue = (tenantId: string, deliveryId: string, attempt: number, startAfterSeconds?: number) =>
    jobs.send(deliverWebhookJob, { tenantId, deliveryId, attempt }, { startAfterSeconds });

  /** Takes the delivery for this attempt, with what sending needs; undefined when it is not this job's to send. */
  async function claim(tenantId: string, deliveryId: string, attempt: number) {
    return db.withTenant(tenantId, async (tx) => {
      const { rows } = await sql<{ endpoint_id: string; event_id: string }>`
        update webhook_deliveries set claimed_until = now() + make_interval(secs => ${CLAIM_SECONDS})
        where id = ${deliveryId} and status = 'pending' and attempts = ${attempt - 1} and (claimed_until is null or claimed_until < now())
        returning endpoint_id, event_id`.execute(tx);
      const claimed = rows[0];
      if (!claimed) return undefined;
      const endpoint = await tx.selectFrom('webhook_endpoints').select(['url', 'secret_sealed', 'enabled']).where('id', '=', claimed.endpoint_id).executeTakeFirstOrThrow();
      const event = await tx.selectFrom('webhook_events').select(['id', 'type', 'body']).where('id', '=', claimed.event_id).executeTakeFirstOrThrow();
      const secret = endpoint.enabled ? (await keyring.openForTenant(tx, tenantId, endpoint.secret_sealed, secretPurpose(claimed.endpoint_id))).toString('utf8') : undefined;
      return { endpointId: claimed.endpoint_id, url: endpoint.url as string, enabled: endpoint.enabled as boolean, secret, event: event as { id: string; type: string; body: string } };
    });
  }

  async function record(tx: Tx, tenantId: string, deliveryId: string, attempt: number, startedAt: Date, result: { statusCode?: number; durationMs: number; error?: string }, final: boolean) {
    const succeeded = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    const status = succeeded ? 'succeeded' : final || attempt >= maxAttempts ? 'failed' : 'pending';
    const delay = status === 'pending' ? opts.retryDelaysSeconds[attempt - 1]! : 0;
    await tx.insertInto('webhook_delivery_attempts').values({
      delivery_id: deliveryId, attempt, tenant_id: tenantId, started_at: startedAt, duration_ms: result.durationMs, status_code: result.statusCode ?? null, error: result.error ?? null,
    }).execute();
    await tx.updateTable('webhook_deliveries').set({
      status,
      attempts: attempt,
      claimed_until: null,
      last_status_code: result.statusCode ?? null,
      last_duration_ms: result.durationMs,
      last_error: result.error ?? (succeeded ? null : `HTTP ${result.statusCode}`),
      next_attempt_at: sql`now() + make_interval(secs => ${delay})`,
      completed_at: status === 'pending' ? null : sql`now()`,
    }).where('id', '=', deliveryId).execute();
    return { status, delay };
  }

  /** One attempt of one delivery (the job handler). */
  async function attempt(data: { tenantId: string; deliveryId: string; attempt: number }): Promise<{ status: string }> {
    const { tenantId, deliveryId } = data;
    const claimed = await claim(tenantId, deliveryId, data.attempt);
    if (!claimed) return { status: 'skipped' };
    const startedAt = new Date();
    const result = claimed.enabled && claimed.secret
      ? await postWebhook(claimed.url, claimed.event.body, {
        'user-agent': 'Haven-Webhooks/1',
        'haven-event-id': claimed.event.id,
        'haven-event-type': claimed.event.type,
        'haven-delivery-id': deliveryId,
        'haven-delivery-attempt': String(data.attempt),
        'haven-signature': signatureHeader(claimed.secret, Math.floor(Date.now() / 1000), claimed.event.body),
      }, { allowPrivate: config.webhooksAllowPrivateTargets, timeoutMs: opts.timeoutMs })
      : { durationMs: 0, error: 'the endpoint is disabled' };
    const outcome = await db.withTenant(tenantId, (tx) => record(tx, tenantId, deliveryId, data.attempt, startedAt, result, !claimed.enabled));
    if (outcome.status === 'pending') await queue(tenantId, deliveryId, data.attempt + 1, outcome.delay);
    return { status: outcome.status };
  }

  /** Queues the first attempt of each delivery of a committed event. */
  async function dispatchEvent(tenantId: string, eventId: string): Promise<number> {
    const due = await db.withTenant(tenantId, (tx) =>
      tx.selectFrom('webhook_deliveries').select('id').where('event_id', '=', eventId).where('status', '=', 'pending').where('attempts', '=', 0).execute());
    for (const d of due) await queue(tenantId, d.id, 1);
    return due.length;
  }

  /**
   * Queues again every pending, unclaimed delivery whose attempt is overdue by
   * graceSeconds: by default those whose job was lost; with 0, also those a
   * listener may have missed (at start and after a reconnect). A job queued
   * twice is harmless: the second finds the attempt claimed or done.
   */
  async function requeueOverdue(graceSeconds = OVERDUE_SECONDS): Promise<number> {
    const overdue = await db.withPlatform((tx) =>
      tx.selectFrom('webhook_deliveries').select(['id', 'tenant_id', 'attempts'])
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', sql<Date>`now() - make_interval(secs => ${graceSeconds})`)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]))
        .limit(1000)
        .execute());
    for (const d of overdue) await queue(d.tenant_id, d.id, d.attempts + 1);
    return overdue.length;
  }

  async function sweepLog(now: Date = platform.clock.now()): Promise<number> {
    const cutoff = new Date(now.getTime() - LOG_RETENTION_DAYS * 86_400_000);
    const res = await db.withPlatform((tx) => tx.deleteFrom('webhook_events').where('created_at', '<', cutoff).executeTakeFirst());
    return Number(res.numDeletedRows);
  }

  return { attempt, dispatchEvent, requeueOverdue, sweepLog, maxAttempts };
}

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;

/**
 * Listens for committed events on its own connection and hands each to
 * onEvent. A dropped connection is re-opened after a pause, followed by a
 * requeue pass for whatever was committed meanwhile.
 */
export function listenForEvents(connectionString: string, log: Logger, onEvent: (tenantId: string, eventId: string) => Promise<unknown>, onReconnect: () => Promise<unknown>) {
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const handle = (payload: string | undefined) => {
    // Anyone with the app role can NOTIFY: only two ids pass.
    const [tenantId, eventId, extra] = (payload ?? '').split(':');
    if (!tenantId || !eventId || extra !== undefined || !UUID.test(tenantId) || !UUID.test(eventId)) return;
    onEvent(tenantId, eventId).catch((err) => log.error({ err, eventId }, 'could not queue webhook deliveries; the requeue sweep will'));
  };

  async function connect(reconnecting: boolean): Promise<void> {
    if (stopped) return;
    const c = new pg.Client({ connectionString, application_name: 'haven-webhooks' });
    c.on('notification', (msg) => handle(msg.payload));
    const lost = (err?: Error) => {
      if (stopped || client !== c) return;
      log.warn({ err }, 'webhook event listener lost its connection; reconnecting');
      client = undefined;
      c.end().catch(() => undefined);
      schedule();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      await c.query(`listen ${EVENT_CHANNEL}`);
      client = c;
      if (reconnecting) await onReconnect().catch((err) => log.error({ err }, 'webhook requeue after reconnect failed'));
    } catch (err) {
      c.end().catch(() => undefined);
      if (!reconnecting) throw err;
      log.warn({ err }, 'webhook event listener could not reconnect; trying again');
      schedule();
    }
  }

  function schedule() {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect(true);
    }, 2000);
    timer.unref();
  }

  return {
    start: () => connect(false),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
