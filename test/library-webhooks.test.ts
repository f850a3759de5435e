// Webhooks end to end against a real HTTP receiver: registration with the
// secret shown once and sealed at rest, events emitted inside a transaction
// (and not at all when it rolls back), HMAC signatures a receiver can verify,
// retries with backoff after 5xx answers until success or the last attempt,
// the delivery log, redelivery, secret rotation, SSRF refusals, and the
// other tenant kept out.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLibraryModule, emitVideoEvent, type LibraryModule } from '../src/modules/library/index.ts';
import { postWebhook } from '../src/modules/library/webhooks/send.ts';
import { verifySignature } from '../src/modules/library/webhooks/signature.ts';
import { checkEndpointUrl, isPublicAddress, publicOnlyLookup } from '../src/modules/library/webhooks/targets.ts';
import { expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

interface Received { headers: IncomingHttpHeaders; body: string; at: number }

/** A webhook receiver: per path, answers with the next status of its plan (the last one repeats). */
class Receiver {
  server: Server;
  received = new Map<string, Received[]>();
  plans = new Map<string, number[]>();
  url = '';
  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        const path = req.url!;
        const got = this.received.get(path) ?? [];
        got.push({ headers: req.headers, body, at: Date.now() });
        this.received.set(path, got);
        const plan = this.plans.get(path) ?? [200];
        if (plan[0] === 0) return; // never answers
        res.writeHead(plan.length > 1 ? plan.shift()! : plan[0]!, { 'content-type': 'text/plain' }).end('ok');
      });
    });
  }
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  of = (path: string) => this.received.get(path) ?? [];
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('webhooks', () => {
  let haven: TestHaven;
  let library: LibraryModule;
  let org: Org;
  let other: Org;
  const receiver = new Receiver();

  before(async () => {
    await receiver.start();
    // The Haven's own workers stay off: this module instance runs them with
    // second-long retry delays instead of the two-day default.
    haven = await startTestHaven({ config: { webhooksAllowPrivateTargets: true }, haven: { workers: false } });
    library = createLibraryModule(haven.platform, haven.modules.audit, { webhookRetryDelaysSeconds: [1, 2], webhookTimeoutMs: 2000 });
    await library.startWorkers();
    org = await createOrg(haven, 'Hook Org');
    other = await createOrg(haven, 'Hook Other');
  });
  after(async () => {
    await library.close();
    await haven.stop();
    await receiver.stop();
  });

  const register = async (path: string, events: string[], extra: Record<string, unknown> = {}) => {
    const res = await org.owner.post('/api/v1/webhooks', { url: `${receiver.url}${path}`, events, ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; secret: string; url: string };
  };
  const emit = (videoId: string, event: 'video.ready' | 'video.failed' | 'video.deleted' = 'video.ready', extra: Record<string, unknown> = {}) =>
    haven.platform.db.withTenant(org.tenantId, (tx) => emitVideoEvent(tx, org.tenantId, event, { videoId, ...extra }));
  const deliveries = async (endpointId: string) => (await org.owner.get(`/api/v1/webhooks/${endpointId}/deliveries`)).body.items as any[];

  test('an endpoint is registered with a secret shown once and sealed at rest', async () => {
    const editor = await org.as('editor');
    expectError(await editor.post('/api/v1/webhooks', { url: `${receiver.url}/x`, events: ['video.ready'] }), 403, 'forbidden');
    const hook = await register('/registered', ['video.ready', 'video.ready', 'video.deleted']);
    assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    const got = await org.owner.get(`/api/v1/webhooks/${hook.id}`);
    assert.deepEqual(got.body.events, ['video.ready', 'video.deleted']);
    assert.equal(got.body.secret, undefined, 'never shown again');
    assert.ok(!JSON.stringify((await org.owner.get('/api/v1/webhooks')).body).includes(hook.secret));
    const { rows } = await haven.platform.db.ownerPool.query('select secret_sealed from webhook_endpoints where id = $1', [hook.id]);
    assert.ok(!rows[0].secret_sealed.includes(hook.secret.slice(6, 20)), 'the stored secret is sealed');
    expectError(await org.owner.post('/api/v1/webhooks', { url: `${receiver.url}/x`, events: ['video.exploded'] }), 400, 'invalid_request');
    expectError(await org.owner.post('/api/v1/webhooks', { url: 'not a url', events: ['video.ready'] }), 400, 'invalid_webhook_url');
    expectError(await org.owner.post('/api/v1/webhooks', { url: 'ftp://example.com/x', events: ['video.ready'] }), 400, 'webhook_target_refused');
    assert.equal((await org.owner.delete(`/api/v1/webhooks/${hook.id}`)).status, 204);
  });

  test('an event reaches its subscribers signed; a receiver can verify it', async () => {
    const hook = await register('/ready', ['video.ready']);
    const failedOnly = await register('/failed-only', ['video.failed']);
    const videoId = await insertVideo(haven, org, { title: 'Ready now' });
    const emitted = await emit(videoId, 'video.ready', { status: 'ready', durationMs: 1234 });
    assert.equal(emitted.deliveries, 1, 'only the endpoint subscribed to video.ready');

    const [req] = await waitFor('the delivery', () => receiver.of('/ready').length ? receiver.of('/ready') : undefined);
    const body = JSON.parse(req!.body);
    assert.deepEqual(body.data, { videoId, status: 'ready', durationMs: 1234 });
    assert.equal(body.type, 'video.ready');
    assert.equal(body.id, emitted.eventId);
    assert.equal(req!.headers['haven-event-id'], emitted.eventId);
    assert.equal(req!.headers['haven-event-type'], 'video.ready');
    assert.equal(req!.headers['haven-delivery-attempt'], '1');
    assert.equal(req!.headers['content-type'], 'application/json');
    const signature = String(req!.headers['haven-signature']);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.ok(verifySignature(hook.secret, signature, req!.body), 'the signature verifies with the secret');
    assert.ok(!verifySignature(hook.secret, signature, req!.body.replace('ready', 'failed')), 'and not for a changed body');
    assert.ok(!verifySignature(`${hook.secret}x`, signature, req!.body), 'nor with another secret');
    assert.ok(!verifySignature(hook.secret, signature, req!.body, new Date(Date.now() + 3600_000)), 'nor an hour later (replay)');

    const [logged] = await waitFor('the log', async () => (await deliveries(hook.id)).find((d) => d.status === 'succeeded') && deliveries(hook.id));
    assert.equal(logged.attempts, 1);
    assert.equal(logged.lastStatusCode, 200);
    assert.equal(logged.eventType, 'video.ready');
    assert.equal(logged.log.length, 1);
    assert.equal(logged.log[0].statusCode, 200);
    assert.ok(logged.log[0].durationMs >= 0);
    assert.deepEqual(await deliveries(failedOnly.id), []);

    // A second job for the same attempt (the queue delivers at least once) sends nothing.
    assert.deepEqual(await library.delivery.attempt({ tenantId: org.tenantId, deliveryId: logged.id, attempt: 1 }), { status: 'skipped' });
    assert.equal(receiver.of('/ready').length, 1);
  });

  test('an event in a transaction that rolls back is never delivered', async () => {
    await register('/rollback', ['video.failed']);
    const videoId = await insertVideo(haven, org, { title: 'Rolled back' });
    await assert.rejects(haven.platform.db.withTenant(org.tenantId, async (tx) => {
      await emitVideoEvent(tx, org.tenantId, 'video.failed', { videoId, errorCode: 'not_a_video' });
      throw new Error('the change failed');
    }), /the change failed/);
    await emit(videoId, 'video.failed', { errorCode: 'second' });
    const [got] = await waitFor('the committed event', () => receiver.of('/rollback').length ? receiver.of('/rollback') : undefined);
    await sleep(1500);
    assert.equal(receiver.of('/rollback').length, 1, 'only the committed event arrived');
    assert.equal(JSON.parse(got!.body).data.errorCode, 'second');
    const { rows } = await haven.platform.db.ownerPool.query('select count(*)::int as n from webhook_events where body like $1', ['%not_a_video%']);
    assert.equal(rows[0].n, 0);
  });

  test('5xx answers are retried with backoff until one succeeds, each attempt signed and logged', async () => {
    receiver.plans.set('/flaky', [500, 503, 200]);
    const hook = await register('/flaky', ['video.ready']);
    const videoId = await insertVideo(haven, org, { title: 'Flaky receiver' });
    const { eventId } = await emit(videoId);
    const attempts = await waitFor('three attempts', () => receiver.of('/flaky').length >= 3 ? receiver.of('/flaky') : undefined);
    assert.deepEqual(attempts.map((a) => a.headers['haven-delivery-attempt']), ['1', '2', '3']);
    assert.ok(attempts.every((a) => a.headers['haven-event-id'] === eventId && verifySignature(hook.secret, String(a.headers['haven-signature']), a.body)));
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 900, 'the first retry waits its delay');
    assert.ok(attempts[2]!.at - attempts[1]!.at >= 1900, 'the second waits longer');
    const [d] = await waitFor('a succeeded delivery', async () => {
      const list = await deliveries(hook.id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });
    assert.equal(d.attempts, 3);
    assert.deepEqual(d.log.map((a: any) => a.statusCode), [500, 503, 200]);
    assert.equal(d.nextAttemptAt, null);
    await sleep(1500);
    assert.equal(receiver.of('/flaky').length, 3, 'nothing after success');
  });

  test('a receiver that keeps failing gets the last attempt, then the delivery is failed; it can be sent again', async () => {
    receiver.plans.set('/down', [503]);
    const hook = await register('/down', ['video.deleted']);
    const videoId = await insertVideo(haven, org, { title: 'Gone' });
    await emit(videoId, 'video.deleted');
    const [d] = await waitFor('a failed delivery', async () => {
      const list = await deliveries(hook.id);
      return list[0]?.status === 'failed' ? list : undefined;
    });
    assert.equal(d.attempts, 3, 'one attempt and two retries');
    assert.equal(d.lastStatusCode, 503);
    assert.equal(d.lastError, 'HTTP 503');
    assert.equal(receiver.of('/down').length, 3);

    receiver.plans.set('/down', [200]);
    const again = await org.owner.post(`/api/v1/webhooks/${hook.id}/deliveries/${d.id}/redeliver`);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    await waitFor('the redelivery', () => receiver.of('/down').length === 4 || undefined);
    const list = await waitFor('its log', async () => {
      const all = await deliveries(hook.id);
      return all.find((x) => x.id === again.body.deliveryId)?.status === 'succeeded' ? all : undefined;
    });
    assert.equal(list.length, 2);
    assert.equal(JSON.parse(receiver.of('/down')[3]!.body).id, JSON.parse(receiver.of('/down')[0]!.body).id, 'the same event');
    const failedOnly = await org.owner.get(`/api/v1/webhooks/${hook.id}/deliveries?status=failed`);
    assert.deepEqual(failedOnly.body.items.map((x: any) => x.id), [d.id]);
  });

  test('disabled endpoints get nothing; a rotated secret signs from then on', async () => {
    const hook = await register('/rotating', ['video.ready']);
    const videoId = await insertVideo(haven, org, { title: 'Rotation' });
    await org.owner.patch(`/api/v1/webhooks/${hook.id}`, { enabled: false });
    await emit(videoId);
    assert.deepEqual(await deliveries(hook.id), [], 'no delivery for a disabled endpoint');
    await org.owner.patch(`/api/v1/webhooks/${hook.id}`, { enabled: true });
    const rotated = await org.owner.post(`/api/v1/webhooks/${hook.id}/rotate-secret`);
    assert.notEqual(rotated.body.secret, hook.secret);
    await emit(videoId);
    const [req] = await waitFor('the delivery', () => receiver.of('/rotating').length ? receiver.of('/rotating') : undefined);
    assert.ok(verifySignature(rotated.body.secret, String(req!.headers['haven-signature']), req!.body));
    assert.ok(!verifySignature(hook.secret, String(req!.headers['haven-signature']), req!.body));

    await haven.modules.audit.seal(org.tenantId);
    const events = (await org.owner.get(`/api/v1/audit/events?action=webhook&targetId=${hook.id}`)).body.items.map((e: any) => e.action);
    assert.deepEqual(events.sort(), ['webhook.create', 'webhook.secret.rotate', 'webhook.update', 'webhook.update']);
  });

  test('another tenant cannot see or touch an endpoint or its deliveries', async () => {
    const hook = await register('/private', ['video.ready']);
    expectError(await other.owner.get(`/api/v1/webhooks/${hook.id}`), 404, 'webhook_not_found');
    expectError(await other.owner.patch(`/api/v1/webhooks/${hook.id}`, { enabled: false }), 404, 'webhook_not_found');
    expectError(await other.owner.delete(`/api/v1/webhooks/${hook.id}`), 404, 'webhook_not_found');
    expectError(await other.owner.get(`/api/v1/webhooks/${hook.id}/deliveries`), 404, 'webhook_not_found');
    expectError(await other.owner.post(`/api/v1/webhooks/${hook.id}/rotate-secret`), 404, 'webhook_not_found');
    assert.deepEqual((await other.owner.get('/api/v1/webhooks')).body.items, []);
    const videoId = await insertVideo(haven, other, { title: 'Theirs' });
    const emitted = await haven.platform.db.withTenant(other.tenantId, (tx) => emitVideoEvent(tx, other.tenantId, 'video.ready', { videoId }));
    assert.equal(emitted.deliveries, 0, 'an event of one tenant never goes to another\'s endpoint');
  });

  test('a delivery whose job was lost is queued again by the sweep; the log is kept 30 days', async () => {
    const hook = await register('/lost', ['video.ready']);
    const videoId = await insertVideo(haven, org, { title: 'Lost job' });
    // As if the node died between commit and queueing: rows, but no NOTIFY and no job.
    const eventId = crypto.randomUUID();
    await haven.platform.db.ownerPool.query(
      `insert into webhook_events (id, tenant_id, type, body) values ($1, $2, 'video.ready', $3)`,
      [eventId, org.tenantId, JSON.stringify({ id: eventId, type: 'video.ready', createdAt: new Date().toISOString(), data: { videoId } })],
    );
    await haven.platform.db.ownerPool.query(
      `insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, next_attempt_at) values (gen_random_uuid(), $1, $2, $3, now() - interval '5 minutes')`,
      [org.tenantId, hook.id, eventId],
    );
    assert.ok(await library.delivery.requeueOverdue() >= 1);
    await waitFor('the requeued delivery', () => receiver.of('/lost').length === 1 || undefined);
    assert.equal(receiver.of('/lost')[0]!.headers['haven-event-id'], eventId);

    await haven.platform.db.ownerPool.query(`update webhook_events set created_at = now() - interval '31 days' where id = $1`, [eventId]);
    assert.ok(await library.delivery.sweepLog() >= 1);
    const { rows } = await haven.platform.db.ownerPool.query('select count(*)::int as n from webhook_deliveries where event_id = $1', [eventId]);
    assert.equal(rows[0].n, 0, 'the event and its deliveries are gone');
  });

  test('events committed while the listener\'s connection was down are delivered after it reconnects', async () => {
    await register('/reconnect', ['video.failed']);
    const videoId = await insertVideo(haven, org, { title: 'Connection drop' });
    const listeners = () => haven.platform.db.ownerPool.query(`select pid from pg_stat_activity where application_name = 'haven-webhooks' and datname = current_database()`);
    const [listener] = (await listeners()).rows;
    assert.ok(listener, 'a worker listens');
    await haven.platform.db.ownerPool.query('select pg_terminate_backend($1)', [listener.pid]);
    await emit(videoId, 'video.failed', { errorCode: 'during_gap' });
    await waitFor('the delivery after reconnecting', () => receiver.of('/reconnect').length === 1 || undefined);
    const { rows } = await listeners();
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].pid, listener.pid, 'a new connection');
    await emit(videoId, 'video.failed', { errorCode: 'after' });
    await waitFor('the next delivery', () => receiver.of('/reconnect').length === 2 || undefined);
  });

  test('a receiver that does not answer runs into the deadline', async () => {
    receiver.plans.set('/silent', [0]);
    const result = await postWebhook(`${receiver.url}/silent`, '{}', {}, { allowPrivate: true, timeoutMs: 300 });
    assert.equal(result.statusCode, undefined);
    assert.equal(result.error, 'no response within 0.3 s');
    assert.ok(result.durationMs >= 290);
  });
});

describe('webhook targets (SSRF)', () => {
  test('only public addresses count as public', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::10.0.0.1']) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(ip), true, ip);
  });

  test('URLs to local targets are refused unless private targets are allowed', () => {
    for (const url of ['http://example.com/hook', 'https://127.0.0.1/x', 'https://10.0.0.5/x', 'https://[::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://169.254.169.254/latest', 'https://localhost/x', 'https://db.internal/x', 'https://intranet/x', 'https://user:pw@example.com/x']) {
      assert.throws(() => checkEndpointUrl(url, false), { code: 'webhook_target_refused' }, url);
    }
    assert.equal(checkEndpointUrl('https://hooks.example.com/in?token=1', false).hostname, 'hooks.example.com');
    assert.equal(checkEndpointUrl('http://127.0.0.1:9/x', true).port, '9');
  });

  test('a name that resolves to a private address is refused at connection time', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup('localhost', { all: true }, (e) => resolve(e)));
    assert.equal(err?.code, 'WEBHOOK_TARGET_PRIVATE');
    const server = createServer((_req, res) => res.end('should not be reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let reached = false;
    server.on('request', () => { reached = true; });
    try {
      const port = (server.address() as AddressInfo).port;
      const direct = await postWebhook(`https://127.0.0.1:${port}/x`, '{}', {}, { allowPrivate: false, timeoutMs: 1000 });
      assert.match(direct.error!, /not a public address|public internet/);
      assert.equal(reached, false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('over HTTP, a Haven with the default setting refuses private endpoint URLs', async () => {
    const haven = await startTestHaven({ haven: { workers: false } });
    try {
      const org = await createOrg(haven, 'Strict Org');
      for (const url of ['http://127.0.0.1:8080/x', 'https://10.0.0.1/x', 'https://169.254.169.254/latest/meta-data', 'https://localhost/x', 'https://[::1]/x']) {
        expectError(await org.owner.post('/api/v1/webhooks', { url, events: ['video.ready'] }), 400, 'webhook_target_refused');
      }
      assert.equal((await org.owner.post('/api/v1/webhooks', { url: 'https://hooks.example.com/haven', events: ['video.ready'] })).status, 201);
    } finally {
      await haven.stop();
    }
  });
});
