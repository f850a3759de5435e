// The audit trail as modules and administrators meet it: one call inside the
// caller's transaction, nothing personal stored in the clear, one gap-free
// chain per tenant however many writers, erasure that keeps the chain
// verifiable, search, export and retention.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { buildRow } from '../src/modules/audit/events.ts';
import { csvCell } from '../src/modules/audit/export.ts';
import { auditConfiguration, watchJobFailures } from '../src/modules/audit/foundation.ts';
import { auditCheckpointJob } from '../src/modules/audit/jobs.ts';
import { type AuditEntry, type AuditService, createAuditService, PLATFORM_TENANT_ID } from '../src/modules/audit/service.ts';
import { insertEvents } from '../src/modules/audit/store.ts';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import { AppError } from '../src/platform/errors.ts';
import { defineJob } from '../src/platform/jobs.ts';
import type { Platform } from '../src/platform/platform.ts';
import { z } from 'zod';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { waitFor } from './helpers/process.ts';

const IP = '198.51.100.23';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';
const EMAIL = 'ada.lovelace@example.org';

function member(tenantId: string, userId: string = randomUUID()): RequestContext {
  return { actor: { type: 'user', userId, tenantId, role: 'admin', platformRoles: [] }, tenantId, requestId: `req-${randomUUID().slice(0, 8)}`, ip: IP, userAgent: UA };
}

async function rawRows(haven: TestHaven, tenantId: string): Promise<Record<string, any>[]> {
  const { rows } = await haven.platform.db.ownerPool.query('select * from audit_events where tenant_id = $1 order by id', [tenantId]);
  return rows;
}

const rejectsWith = (code: string, status = 400, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.status, status);
  if (message) assert.match(err.message, message);
  return true;
};

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/** A platform whose clock the test sets (retention, ranges). */
function withClock(platform: Platform, now: () => Date): Platform {
  return { ...platform, clock: { now } };
}

describe('audit trail', () => {
  let haven: TestHaven;
  let audit: AuditService;
  let newTenant: () => Promise<string>;

  before(async () => {
    haven = await startTestHaven();
    audit = haven.modules.audit;
    let n = 0;
    newTenant = async () => (await haven.modules.tenants.create({ name: `Audit ${++n} ${randomUUID().slice(0, 6)}` })).id;
  });
  after(() => haven.stop());

  describe('recording', () => {
    test('an event exists exactly when the caller commits', async () => {
      const t = await newTenant();
      const before = (await rawRows(haven, t)).length;
      await assert.rejects(
        haven.platform.db.withTenant(t, async (tx) => {
          await audit.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: randomUUID() } });
          throw new Error('the change failed');
        }),
        /the change failed/,
      );
      assert.equal((await rawRows(haven, t)).length, before);
      await haven.platform.db.withTenant(t, (tx) => audit.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: 'v1' } }));
      assert.equal((await rawRows(haven, t)).length, before + 1);
    });

    test("a transaction's events are written together at its commit, in the order recorded", async () => {
      const t = await newTenant();
      const before = (await rawRows(haven, t)).length;
      const targets = ['first', 'second', 'third'];
      await haven.platform.db.withTenant(t, async (tx) => {
        for (const id of targets) await audit.record(tx, member(t), { action: 'video.update', target: { type: 'video', id } });
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_events where tenant_id = ${t}`.execute(tx);
        assert.equal(rows[0]!.n, before, 'not inserted yet: they go in one statement just before the commit');
      });
      const rows = (await rawRows(haven, t)).slice(before);
      assert.deepEqual(rows.map((r) => r.target_id), targets, 'ids ascend in the order the events were recorded');
    });

    test('a transaction not opened by withTenant/withPlatform gets its events inserted at once', async () => {
      const t = await newTenant();
      const before = (await rawRows(haven, t)).length;
      await haven.platform.db.app.transaction().execute(async (tx) => {
        await sql`select set_config('app.scope', 'tenant', true), set_config('app.tenant_id', ${t}, true)`.execute(tx);
        await audit.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: 'direct' } });
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_events where tenant_id = ${t}`.execute(tx);
        assert.equal(rows[0]!.n, before + 1);
      });
      assert.equal((await rawRows(haven, t)).length, before + 1);
    });

    test('a denial survives the rollback of the request that was refused', async () => {
      const t = await newTenant();
      await assert.rejects(
        haven.platform.db.withTenant(t, async () => {
          await audit.recordDenied(member(t), { action: 'video.delete', target: { type: 'video', id: 'v9' }, details: { permission: 'video.delete' } });
          throw new AppError('forbidden', 403, 'no');
        }),
      );
      const denied = (await rawRows(haven, t)).filter((r) => r.outcome === 'denied');
      assert.equal(denied.length, 1);
      assert.equal(denied[0]!.action, 'video.delete');
    });

    test('no personal value is stored in the clear', async () => {
      const t = await newTenant();
      const userId = randomUUID();
      await haven.platform.db.withTenant(t, (tx) =>
        audit.record(tx, member(t, userId), {
          action: 'user.update',
          target: { type: 'user', id: userId },
          diff: {
            before: { email: EMAIL, displayName: 'Ada', role: 'editor', bio: 'Likes engines', unchanged: 1 },
            after: { email: 'ada@example.net', displayName: 'Ada L.', role: 'admin', bio: 'Likes analytical engines', unchanged: 1 },
          },
          details: { reason: `changed by ${EMAIL} from ${IP}`, count: 2, source: 'admin_console' },
          personal: ['email', 'displayName'],
        }),
      );
      const row = (await rawRows(haven, t)).at(-1)!;
      const stored = JSON.stringify(row);
      for (const secret of [EMAIL, 'ada@example.net', IP, UA, 'Ada', 'Likes engines', 'Likes analytical engines']) {
        assert.ok(!stored.includes(secret), `the row holds ${secret} in the clear`);
      }
      assert.equal(row.actor_id, userId, 'ids are kept (and erasable)');
      assert.equal(row.ip_pseudonym, haven.platform.pseudonymize(IP), 'the IP pseudonym is the one the logs use');
      assert.deepEqual(Object.keys(row.diff).sort(), ['bio', 'displayName', 'email', 'role'], 'only changed fields');
      assert.deepEqual(row.diff.role, { from: 'editor', to: 'admin' }, 'non-personal identifiers stay readable');
      assert.equal(row.diff.email.from.masked, true);
      assert.match(row.diff.email.from.ref, /^p_/);
      assert.equal(row.diff.bio.to.masked, true, 'free text is masked');
      assert.equal(row.details.reason.masked, true);
      assert.equal(row.details.count, 2);
      assert.equal(row.details.source, 'admin_console');
    });

    test('equal personal values get equal refs, so a change back is visible', async () => {
      const t = await newTenant();
      const rec = (from: string, to: string) => haven.platform.db.withTenant(t, (tx) => audit.record(tx, member(t), { action: 'user.update', diff: { before: { email: from }, after: { email: to } }, personal: ['email'] }));
      await rec(EMAIL, 'b@example.org');
      await rec('b@example.org', EMAIL);
      const [first, second] = (await rawRows(haven, t)).slice(-2);
      assert.equal(first!.diff.email.from.ref, second!.diff.email.to.ref);
      assert.notEqual(first!.diff.email.from.ref, first!.diff.email.to.ref);
    });

    test('malformed events are programming errors, refused before writing', async () => {
      const t = await newTenant();
      for (const event of [{ action: 'Video Update' }, { action: 'video' }, { action: 'video.update', target: { type: 'Video', id: 'x' } }, { action: 'video.update', target: { type: 'video', id: 'has spaces' } }]) {
        await assert.rejects(haven.platform.db.withTenant(t, (tx) => audit.record(tx, member(t), event)), TypeError, JSON.stringify(event));
      }
    });

    test('staff reads are recorded, members\' reads are not', async () => {
      const t = await newTenant();
      const target = { type: 'user', id: randomUUID() };
      const support: RequestContext = { actor: { type: 'support_grant', grantId: randomUUID(), userId: randomUUID(), tenantId: t }, tenantId: t };
      const operator: RequestContext = { actor: { type: 'user', userId: randomUUID(), platformRoles: ['operator'] }, tenantId: t };
      const results = await haven.platform.db.withTenant(t, async (tx) => [
        await audit.recordStaffRead(tx, member(t), { target, category: 'personal_data' }),
        await audit.recordStaffRead(tx, support, { target, category: 'personal_data' }),
        await audit.recordStaffRead(tx, operator, { target: { type: 'video', id: 'v1' }, category: 'private_media' }),
      ]);
      assert.deepEqual(results, [false, true, true]);
      const reads = (await rawRows(haven, t)).filter((r) => r.action.endsWith('.read'));
      assert.deepEqual(reads.map((r) => [r.action, r.actor_type, r.details.category]), [['user.read', 'support_grant', 'personal_data'], ['video.read', 'user', 'private_media']]);
      assert.match(reads[0]!.actor_via, /^grant:p_/);
    });

    test('the app role can neither rewrite nor remove entries', async () => {
      const t = await newTenant();
      await audit.seal(t);
      await assert.rejects(haven.platform.db.withTenant(t, (tx) => sql`update audit_events set action = 'video.delete' where tenant_id = ${t}`.execute(tx)), /append-only/);
      await assert.rejects(haven.platform.db.withTenant(t, (tx) => sql`update audit_events set chain_seq = chain_seq + 1 where tenant_id = ${t}`.execute(tx)), /relinked/);
      await assert.rejects(haven.platform.db.withTenant(t, (tx) => sql`delete from audit_events where tenant_id = ${t}`.execute(tx)), /retention sweep/);
      assert.equal((await audit.verify(t)).ok, true);
    });

    test('tenants cannot see each other\'s trail', async () => {
      const a = await newTenant();
      const b = await newTenant();
      const rows = await haven.platform.db.withTenant(a, (tx) => sql<{ tenant_id: string }>`select tenant_id from audit_events`.execute(tx));
      assert.ok(rows.rows.length > 0 && rows.rows.every((r) => r.tenant_id === a));
      await assert.rejects(haven.platform.db.withTenant(a, (tx) => audit.record(tx, member(b), { action: 'video.update' })), /row-level security/);
    });
  });

  describe('chain', () => {
    test('concurrent writers on several connections and two sealing nodes make one gap-free chain', async () => {
      const t = await newTenant();
      const otherNode = createAuditService(haven.platform);
      audit.startSealer(50);
      otherNode.startSealer(50);
      try {
        await Promise.all([0, 1, 2, 3].map((w) => (async () => {
          for (let i = 0; i < 40; i++) {
            await haven.platform.db.withTenant(t, (tx) => audit.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: `w${w}-${i}` } }));
          }
        })()));
      } finally {
        await otherNode.stop();
      }
      await audit.seal(t);
      const rows = await rawRows(haven, t);
      const bySeq = [...rows].sort((x, y) => Number(x.chain_seq) - Number(y.chain_seq));
      assert.deepEqual(bySeq.map((r) => Number(r.chain_seq)), rows.map((_, i) => i + 1), 'positions 1..n, no gaps, no duplicates');
      for (let i = 1; i < bySeq.length; i++) assert.ok(bySeq[i]!.prev_hash.equals(bySeq[i - 1]!.hash), `link ${i}`);
      const report = await audit.verify(t);
      assert.equal(report.ok, true);
      assert.equal(report.entries, rows.length);
    });

    test('a row that commits late is chained after rows that committed before it', async () => {
      const t = await newTenant();
      await audit.seal(t);
      let release!: () => void;
      const held = new Promise<void>((r) => { release = r; });
      let inserted!: () => void;
      const insertedSignal = new Promise<void>((r) => { inserted = r; });
      const slow = haven.platform.db.withTenant(t, async (tx) => {
        // A transaction's events are inserted just before it commits; a slow commit
        // after that insert is what leaves a lower id uncommitted behind a higher one.
        await insertEvents(tx, [buildRow(member(t), { action: 'video.update', target: { type: 'video', id: 'slow' } }, new Date(), haven.platform.pseudonymize)]);
        inserted();
        await held;
      });
      await insertedSignal;
      await haven.platform.db.withTenant(t, (tx) => audit.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: 'fast' } }));
      await audit.seal(t);
      release();
      await slow;
      await audit.seal(t);
      const rows = await rawRows(haven, t);
      const slowRow = rows.find((r) => r.target_id === 'slow')!;
      const fastRow = rows.find((r) => r.target_id === 'fast')!;
      assert.ok(Number(slowRow.id) < Number(fastRow.id), 'the slow row has the lower id');
      assert.ok(Number(slowRow.chain_seq) > Number(fastRow.chain_seq), 'but the later position');
      assert.equal((await audit.verify(t)).ok, true);
    });

    test('the canonical form is stable (changing it would invalidate every chain)', async () => {
      const t = '11111111-2222-4333-8444-555555555555';
      const { rows } = await haven.platform.db.ownerPool.query<{ c: Buffer }>(
        `select audit_canonical(row(1, $1::uuid, '2025-03-04T05:06:07.089Z'::timestamptz, 'video.update', 'success', 'user', null, 'p_actor', null, $1::uuid, null,
                'video', 'v1', 'p_target', null, 'req-1', 'p_ip', null, '{"title":{"from":"a","to":"b"}}'::jsonb, '{"n":1,"ü":"it''s \\\\ é"}'::jsonb, null, null, null)::audit_events) as c`,
        [t],
      );
      assert.equal(
        rows[0]!.c.toString('utf8'),
        "haven-audit-v1,'11111111-2222-4333-8444-555555555555','1741064767089','video.update','success','user','p_actor',NULL,"
          + "'11111111-2222-4333-8444-555555555555','video','p_target','req-1','p_ip',NULL,"
          // A backslash switches to the E'' form with backslashes doubled (jsonb already escaped it once).
          + `'{"title": {"to": "b", "from": "a"}}',E'{"n": 1, "ü": "it''s \\\\\\\\ é"}'`,
      );
    });

    test('verifying an empty trail is fine, and leaves no trace', async () => {
      const t = randomUUID();
      const report = await audit.verify(t);
      assert.deepEqual({ ok: report.ok, entries: report.entries, headSeq: report.headSeq }, { ok: true, entries: 0, headSeq: 0 });
      const { rows } = await haven.platform.db.ownerPool.query('select 1 from audit_chain_heads where tenant_id = $1', [t]);
      assert.equal(rows.length, 0);
    });

    test('checkpoints sign moved heads only, and verification names the last one', async () => {
      const t = await newTenant();
      const [first] = await audit.checkpoint(t);
      assert.ok(first);
      assert.deepEqual(await audit.checkpoint(t), [], 'nothing moved');
      await haven.platform.db.withTenant(t, (tx) => audit.record(tx, member(t), { action: 'video.update' }));
      const [second] = await audit.checkpoint(t);
      assert.equal(second!.chainSeq, first!.chainSeq + 1);
      const report = await audit.verify(t);
      assert.equal(report.ok, true);
      assert.equal(report.lastVerifiedCheckpoint?.chainSeq, second!.chainSeq);
    });

    test('the checkpoint job runs on the queue', async () => {
      const t = await newTenant();
      await haven.platform.jobs.send(auditCheckpointJob, {});
      await waitFor(async () => {
        const { rows } = await haven.platform.db.ownerPool.query('select 1 from audit_checkpoints where tenant_id = $1', [t]);
        return rows.length ? true : undefined;
      }, 30_000, 'a checkpoint from the job');
    });
  });

  describe('erasure', () => {
    test('erasing a person nulls their ids, keeps the chain verifiable and the entries findable by pseudonym', async () => {
      const t = await newTenant();
      const person = randomUUID();
      const other = randomUUID();
      await haven.platform.db.withTenant(t, async (tx) => {
        await audit.record(tx, member(t, person), { action: 'video.update', target: { type: 'video', id: 'v1' } });
        await audit.record(tx, member(t, other), { action: 'user.update', target: { type: 'user', id: person } });
        await audit.record(tx, member(t, other), { action: 'video.update', target: { type: 'video', id: 'v2' } });
      });
      await audit.checkpoint(t);
      const erased = await haven.platform.db.withTenant(t, async (tx) => {
        // An event the erasing transaction itself recorded about the person is erased with the rest.
        await audit.record(tx, member(t, other), { action: 'user.read', target: { type: 'user', id: person } });
        return audit.eraseSubject(tx, t, person, 'erased_7f3a');
      });
      assert.equal(erased, 3);
      const rows = await rawRows(haven, t);
      assert.ok(!JSON.stringify(rows).includes(person), 'the id is gone everywhere');
      assert.equal(rows.filter((r) => r.actor_erased_as === 'erased_7f3a' || r.target_erased_as === 'erased_7f3a').length, 3);
      assert.ok(rows.some((r) => r.actor_id === other), 'other people are untouched');
      const report = await audit.verify(t);
      assert.equal(report.ok, true, JSON.stringify(report));
      const asActor = await audit.search(t, { actorId: person });
      assert.equal(asActor.items.length, 1);
      assert.equal(asActor.items[0]!.actor.id, null);
      assert.equal(asActor.items[0]!.actor.erasedAs, 'erased_7f3a');
      const asTarget = await audit.search(t, { targetType: 'user', targetId: person });
      assert.equal(asTarget.items.length, 2);
    });
  });

  describe('search', () => {
    let t: string;
    let alice: string;
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);

    before(async () => {
      t = await newTenant();
      alice = randomUUID();
      const bob = randomUUID();
      let clock = at(0);
      const timed = createAuditService(withClock(haven.platform, () => clock));
      const events: [number, string, string, string, 'success' | 'denied' | 'failed'][] = [
        [50, alice, 'video.update', 'v1', 'success'],
        [40, bob, 'video.delete', 'v1', 'denied'],
        [30, alice, 'auth.login', 'u1', 'success'],
        [20, alice, 'auth.login.failed', 'u1', 'failed'],
        [10, bob, 'auth.loginx', 'u1', 'success'],
      ];
      for (const [ago, who, action, target, outcome] of events) {
        clock = at(ago);
        await haven.platform.db.withTenant(t, (tx) => timed.record(tx, member(t, who), { action, outcome, target: { type: action.startsWith('auth') ? 'user' : 'video', id: target } }));
      }
      for (let i = 0; i < 25; i++) {
        clock = at(100 + i);
        await haven.platform.db.withTenant(t, (tx) => timed.record(tx, member(t, bob), { action: 'video.read', target: { type: 'video', id: `bulk${i}` } }));
      }
    });

    const actions = (items: AuditEntry[]) => items.map((e) => e.action);

    test('filters by time, actor, action prefix, target and outcome', async () => {
      const range = { from: at(45).toISOString(), to: at(5).toISOString() };
      assert.deepEqual(actions((await audit.search(t, range)).items), ['auth.loginx', 'auth.login.failed', 'auth.login', 'video.delete']);
      assert.deepEqual(actions((await audit.search(t, { ...range, actorId: alice })).items), ['auth.login.failed', 'auth.login']);
      assert.deepEqual(actions((await audit.search(t, { action: 'auth.login' })).items), ['auth.login.failed', 'auth.login'], 'prefixes match whole segments');
      assert.deepEqual(actions((await audit.search(t, { action: 'auth.' })).items), ['auth.loginx', 'auth.login.failed', 'auth.login']);
      assert.deepEqual(actions((await audit.search(t, { targetType: 'video', targetId: 'v1' })).items), ['video.delete', 'video.update']);
      assert.deepEqual(actions((await audit.search(t, { outcome: 'denied' })).items), ['video.delete']);
      assert.deepEqual((await audit.search(t, { action: 'video_x' })).items, [], 'a well-formed but unknown action finds nothing');
    });

    test('query-string values work (limit as text)', async () => {
      const page = await audit.search(t, { limit: '2', action: 'auth' });
      assert.equal(page.items.length, 2);
      assert.ok(page.nextCursor);
    });

    test('cursor pagination walks every entry once, newest first', async () => {
      const all = (await audit.search(t, { limit: 500 })).items;
      const seen: AuditEntry[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await audit.search(t, { limit: 7 }, cursor ?? undefined);
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(pages, Math.ceil(all.length / 7));
      assert.deepEqual(seen.map((e) => e.id), all.map((e) => e.id));
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.occurredAt >= seen[i]!.occurredAt);
    });

    test('a tampered or foreign cursor is a clear 400', async () => {
      const { nextCursor } = await audit.search(t, { limit: 3 });
      assert.ok(nextCursor);
      const [body, sig] = nextCursor.split('.') as [string, string];
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
      const forgedBody = Buffer.from(JSON.stringify({ ...payload, id: payload.id + 1000 })).toString('base64url');
      const other = await newTenant();
      for (const [tenant, filters, cursor] of [
        [t, { limit: 3 }, `${forgedBody}.${sig}`],
        // A character in the middle: the last one of base64url carries ignored bits.
        [t, { limit: 3 }, `${body}.${sig.slice(0, 5)}${sig[5] === 'A' ? 'B' : 'A'}${sig.slice(6)}`],
        [t, { limit: 3 }, 'garbage'],
        [t, { limit: 3 }, 42],
        [t, { limit: 3, outcome: 'failed' }, nextCursor],
        [other, { limit: 3 }, nextCursor],
      ] as const) {
        await assert.rejects(audit.search(tenant, filters, cursor), rejectsWith('invalid_cursor'));
      }
    });

    test('bad filters are a 400 naming the field, never a 500', async () => {
      const cases: [unknown, string, RegExp][] = [
        [{ from: 123 }, 'invalid_filter', /from must be an ISO 8601 date-time/],
        [{ from: 'yesterday' }, 'invalid_filter', /from must be an ISO 8601/],
        [{ limit: 'abc' }, 'invalid_filter', /limit/],
        [{ limit: 501 }, 'invalid_filter', /limit must be at most 500/],
        [{ limit: 0 }, 'invalid_filter', /limit must be at least 1/],
        [{ outcome: 'maybe' }, 'invalid_filter', /outcome must be one of success, denied, failed/],
        [{ action: "video'; drop table audit_events; --" }, 'invalid_filter', /action must be a dotted action name/],
        [{ action: ['video'] }, 'invalid_filter', /action must be a string/],
        [{ actorId: 'not-a-uuid' }, 'invalid_filter', /actorId must be a user id/],
        [{ targetType: 'Video' }, 'invalid_filter', /targetType/],
        [{ colour: 'red' }, 'invalid_filter', /colour|unrecognized/i],
        ['a string', 'invalid_filter', /Invalid audit filter/],
        [{ from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'invalid_filter', /from must be before to/],
        [{ from: '1970-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' }, 'range_too_large', /more than 400 days/],
      ];
      for (const [filters, code, message] of cases) {
        await assert.rejects(audit.search(t, filters), rejectsWith(code, 400, message), JSON.stringify(filters));
      }
    });
  });

  describe('export', () => {
    let t: string;
    let range: { from: string; to: string };

    before(async () => {
      t = await newTenant();
      const from = new Date(Date.now() - 60_000);
      await haven.platform.db.withTenant(t, async (tx) => {
        for (let i = 0; i < 30; i++) await audit.record(tx, { ...member(t), requestId: i === 0 ? '-23' : `r${i}` }, { action: 'video.update', target: { type: 'video', id: `v${i}` }, details: { n: i, note: 'has, a "comma"\nand newline' } });
      });
      range = { from: from.toISOString(), to: new Date(Date.now() + 1000).toISOString() };
    });

    test('NDJSON: one entry per line, chained, in time order', async () => {
      const text = await readAll(await audit.exportEvents(t, range, 'ndjson', member(t)));
      const entries = text.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEntry);
      const ours = entries.filter((e) => e.action === 'video.update');
      assert.equal(ours.length, 30);
      // The JSON lines carry escapes (quotes, newlines) that COPY's text format escapes once more; they must come back as stored.
      const stored = (await audit.search(t, { action: 'video.update', limit: 100 })).items;
      const exported = new Map(ours.map((e) => [e.id, e.details]));
      assert.equal(exported.size, 30);
      assert.deepEqual(exported, new Map(stored.map((e) => [e.id, e.details])), 'the details read back as the trail holds them');
      assert.ok(entries.every((e) => e.chainSeq !== null && e.hash?.length === 64), 'exported entries are sealed');
      for (let i = 1; i < entries.length; i++) assert.ok(entries[i - 1]!.occurredAt <= entries[i]!.occurredAt);
    });

    test('CSV: a header, RFC 4180 quoting, no formula injection', async () => {
      const text = await readAll(await audit.exportEvents(t, range, 'csv', member(t)));
      const lines = text.split('\r\n');
      assert.match(lines[0]!, /^id,chain_seq,occurred_at,tenant_id,action,outcome,/);
      assert.ok(text.includes(`,'-23,`), 'a cell that starts like a formula is neutralized');
      assert.equal(csvCell('=HYPERLINK("http://evil")'), `"'=HYPERLINK(""http://evil"")"`);
      assert.equal(csvCell('@SUM(1)'), `'@SUM(1)`);
      assert.equal(csvCell('a,b'), '"a,b"');
      assert.equal(csvCell(-5), '-5');
      assert.equal(csvCell(null), '');
      assert.equal(text.match(/,video\.update,/g)?.length, 30);
    });

    test('an empty range gives a valid empty file', async () => {
      const empty = { from: '2001-01-01T00:00:00Z', to: '2001-01-02T00:00:00Z' };
      assert.equal(await readAll(await audit.exportEvents(t, empty, 'ndjson', member(t))), '');
      const csv = await readAll(await audit.exportEvents(t, empty, 'csv', member(t)));
      assert.equal(csv.split('\r\n').filter(Boolean).length, 1, 'just the header');
    });

    test('every export is itself audited', async () => {
      const who = randomUUID();
      await readAll(await audit.exportEvents(t, range, 'csv', member(t, who)));
      const { items } = await audit.search(t, { action: 'audit.export', actorId: who });
      assert.equal(items.length, 1);
      assert.deepEqual(items[0]!.details, { format: 'csv', from: range.from, to: range.to });
    });

    test('bad export requests are a 400', async () => {
      await assert.rejects(audit.exportEvents(t, { from: 'x', to: range.to }, 'ndjson', member(t)), rejectsWith('invalid_filter', 400, /from must be an ISO 8601/));
      await assert.rejects(audit.exportEvents(t, { from: range.from }, 'ndjson', member(t)), rejectsWith('invalid_filter', 400, /to/));
      await assert.rejects(audit.exportEvents(t, { from: '2000-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'ndjson', member(t)), rejectsWith('range_too_large'));
      await assert.rejects(audit.exportEvents(t, range, 'xml' as 'csv', member(t)), rejectsWith('invalid_format'));
    });

    test('a consumer that reads slowly gets every entry, and the connection goes back to the pool', async () => {
      // Several 64 KB chunks, read slower than they come: the socket is paused for backpressure, also at the end.
      const slow = await newTenant();
      await haven.platform.db.withTenant(slow, async (tx) => {
        for (let i = 0; i < 600; i++) await audit.record(tx, member(slow), { action: 'video.update', target: { type: 'video', id: `v${i}` }, details: { n: i } });
      });
      const stream = await audit.exportEvents(slow, { from: range.from, to: new Date(Date.now() + 1000).toISOString() }, 'ndjson', member(slow));
      let text = '';
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        text += chunk.toString('utf8');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(text.trimEnd().split('\n').filter((l) => JSON.parse(l).action === 'video.update').length, 600);
      await waitFor(async () => (haven.platform.db.appPool.idleCount === haven.platform.db.appPool.totalCount ? true : undefined), 5000, 'connections back in the pool');
    });

    test('a consumer that stops early releases the database connection', async () => {
      const stream = await audit.exportEvents(t, range, 'ndjson', member(t));
      for await (const _chunk of stream) break;
      await waitFor(async () => (haven.platform.db.appPool.idleCount === haven.platform.db.appPool.totalCount ? true : undefined), 5000, 'connections back in the pool');
    });
  });

  describe('retention', () => {
    // Tenants without a tenants row: their chains start with whatever the test writes.
    test('sweeping deletes old entries behind a signed cut, and the rest still verifies', async () => {
      const t = randomUUID();
      const day = 86_400_000;
      const now = new Date();
      let clock = new Date(now.getTime() - 400 * day);
      const timed = createAuditService(withClock(haven.platform, () => clock));
      const rec = (id: string) => haven.platform.db.withTenant(t, (tx) => timed.record(tx, member(t), { action: 'video.update', target: { type: 'video', id } }));
      for (let i = 0; i < 5; i++) await rec(`old${i}`);
      await timed.checkpoint(t);
      clock = new Date(now.getTime() - 200 * day);
      await rec('young');
      await timed.seal(t);
      clock = new Date(now.getTime() - 380 * day);
      await rec('old-but-sealed-late');
      clock = now;
      await rec('new');
      await timed.checkpoint(t);
      const before = await rawRows(haven, t);

      const results = await timed.sweep(now);
      const mine = results.find((r) => r.tenantId === t)!;
      assert.ok(mine, 'the tenant was swept');
      const after = await rawRows(haven, t);
      const kept = after.map((r) => r.target_id);
      assert.ok(!kept.includes('old0') && !kept.includes('old4'), 'entries past retention are gone');
      assert.ok(kept.includes('young') && kept.includes('new'), 'entries within retention stay');
      assert.ok(kept.includes('old-but-sealed-late'), 'an old entry chained after a young one waits for the next sweep');
      assert.equal(before.length - mine.deleted, after.length - 1, 'the sweep records itself');
      assert.ok(after.some((r) => r.action === 'audit.retention.sweep'));

      const report = await timed.verify(t);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(report.lastVerifiedCheckpoint?.chainSeq !== undefined, true);
      await haven.platform.db.withTenant(t, (tx) => timed.record(tx, member(t), { action: 'video.update' }));
      assert.equal((await timed.verify(t)).ok, true, 'the chain goes on after the cut');
      assert.deepEqual((await timed.sweep(now)).filter((r) => r.tenantId === t), [], 'nothing more to sweep');
    });

    test('deleting entries after the cut is still detected', async () => {
      const t = randomUUID();
      const day = 86_400_000;
      let clock = new Date(Date.now() - 400 * day);
      const timed = createAuditService(withClock(haven.platform, () => clock));
      for (let i = 0; i < 3; i++) await haven.platform.db.withTenant(t, (tx) => timed.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: `o${i}` } }));
      clock = new Date();
      for (let i = 0; i < 3; i++) await haven.platform.db.withTenant(t, (tx) => timed.record(tx, member(t), { action: 'video.update', target: { type: 'video', id: `n${i}` } }));
      const [swept] = (await timed.sweep(clock)).filter((r) => r.tenantId === t);
      assert.ok(swept);
      await haven.platform.db.ownerPool.query(`
        begin; alter table audit_events disable trigger user;
        delete from audit_events where tenant_id = '${t}' and chain_seq = ${swept.cutSeq + 1};
        alter table audit_events enable trigger user; commit;`);
      const report = await timed.verify(t);
      assert.equal(report.ok, false);
      assert.equal(report.firstBroken?.chainSeq, swept.cutSeq + 2);
      assert.equal(report.firstBroken?.reason, 'sequence_break');
      assert.equal(report.lastVerifiedCheckpoint?.kind, 'cut');
    });
  });

  describe('foundation events', () => {
    test('configuration changes are recorded as changed keys, values never', async () => {
      // Start-up recorded the baseline of every key; the same configuration again records nothing.
      const { items: baseline } = await audit.search(PLATFORM_TENANT_ID, { action: 'platform.config' });
      assert.ok(baseline.some((e) => (e.details as { baseline?: boolean } | null)?.baseline === true), 'start-up recorded a baseline');
      assert.deepEqual(await auditConfiguration(audit, haven.config, haven.platform.pseudonymize), [], 'nothing changed');
      const changed = await auditConfiguration(audit, { ...haven.config, logLevel: 'debug', rateLimitPerMinute: 7 }, haven.platform.pseudonymize);
      assert.deepEqual(changed, ['logLevel', 'rateLimitPerMinute']);
      const { items } = await audit.search(PLATFORM_TENANT_ID, { action: 'platform.config' });
      assert.ok(items.length >= 2);
      assert.ok(!JSON.stringify(items).includes(haven.platform.signingKey.toString('base64')), 'no secret');
      assert.ok(!JSON.stringify(items).includes(haven.database.url), 'no connection string');
    });

    test('job failures land in the platform chain without their message', async () => {
      const failing = defineJob({ name: `test.audit-fails-${randomUUID().slice(0, 8)}`, schema: z.object({}).passthrough(), retryLimit: 0 });
      watchJobFailures(haven.platform.jobs, audit, haven.platform.log);
      await haven.platform.jobs.work(failing, async () => { throw new Error(`could not mail ${EMAIL}`); });
      const jobId = await haven.platform.jobs.send(failing, {});
      const entry = await waitFor(async () => (await audit.search(PLATFORM_TENANT_ID, { action: 'job.failed', targetType: 'job', targetId: jobId! })).items[0], 30_000, 'job.failed entry');
      assert.equal(entry.outcome, 'failed');
      assert.ok(!JSON.stringify(entry).includes(EMAIL));
    });

    test('tenant creation is the first entry of the tenant\'s chain', async () => {
      const t = await newTenant();
      await audit.seal(t);
      const rows = (await rawRows(haven, t)).sort((a, b) => Number(a.chain_seq) - Number(b.chain_seq));
      assert.equal(rows[0]!.action, 'tenant.create');
    });
  });
});
