// Audit append throughput: 4 concurrent writers record events inside their
// own transactions, as modules do. Measured twice on the same database:
// without the chain (plain inserts, the sealer off) and with it (the sealing
// loop running as on a worker node; the clock stops when every event is
// sealed). Targets: ≥ 5,000 events/s with the chain, and the chained rate at
// least 0.7 of the plain one. Two transaction shapes: one event per
// transaction (a typical request) and ten (a bulk operation). Plain and
// chained runs alternate for three rounds and the medians are reported, so
// load from other processes does not favour one side.
//
// Each round also writes the same rows with plain SQL from the same process,
// to show what is physically possible here: "plain SQL" sends exactly the
// statements a Haven transaction sends (begin with the row-level-security
// scope in one query, one insert of the transaction's events, commit) with the
// rows built beforehand; "one round trip" sends
// the whole transaction as one simple query. Haven ÷ plain SQL is the cost of
// Haven's own code; plain SQL ÷ one round trip is the cost of round trips; what
// is left is the commit itself (a WAL flush, which an audit trail must keep).
import { randomUUID } from 'node:crypto';
import { buildRow } from '../src/modules/audit/events.ts';
import type { AuditEvent, AuditService } from '../src/modules/audit/service.ts';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import { beginScoped, type Database } from '../src/platform/db/database.ts';
import type { Platform } from '../src/platform/platform.ts';
import { startStandaloneHaven } from '../test/helpers/audit.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult, median, type Metric, type Target } from './lib/result.ts';

const WRITERS = 4;
const EVENTS = 15_000;
const ROUNDS = 3;
const TARGET_RATE = 5000;
const TARGET_RATIO = 0.7;

function context(tenantId: string): RequestContext {
  return { actor: { type: 'user', userId: randomUUID(), tenantId, role: 'editor', platformRoles: [] }, tenantId, requestId: `req-${randomUUID()}`, ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (bench)' };
}

const event = (): AuditEvent => ({
  action: 'video.update',
  target: { type: 'video', id: randomUUID() },
  diff: { before: { title: 'Draft', visibility: 'private' }, after: { title: 'Quarterly results', visibility: 'unlisted' } },
});

/** Each writer takes the next transaction's worth of events until EVENTS are written. */
async function write(db: Database, audit: AuditService, tenantId: string, perTransaction: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < EVENTS) {
      next += perTransaction;
      await db.withTenant(tenantId, async (tx) => {
        for (let i = 0; i < perTransaction; i++) {
          await audit.record(tx, context(tenantId), event());
        }
      });
    }
  }));
}

const columns = ['tenant_id', 'occurred_at', 'action', 'outcome', 'actor_type', 'actor_id', 'actor_ref', 'actor_via', 'actor_tenant_id',
  'target_type', 'target_id', 'target_ref', 'request_id', 'ip_pseudonym', 'ua_pseudonym', 'diff', 'details'] as const;
type Row = ReturnType<typeof buildRow>;
/** One parameterized INSERT of n rows, as Haven sends a transaction's events just before its commit. */
const insertSql = (n: number) => `insert into audit_events (${columns.join(', ')}) values ${Array.from({ length: n }, (_, row) =>
  `(${columns.map((c, i) => `$${row * columns.length + i + 1}${c === 'diff' || c === 'details' ? '::jsonb' : ''}`).join(', ')})`).join(', ')}`;
const literal = (v: unknown) => (v === null ? 'null' : `'${String(v instanceof Date ? v.toISOString() : v).replaceAll("'", "''")}'`);

/** The rows a Haven run would write, built before the clock starts. */
function prebuiltRows(platform: Platform, tenantId: string): Row[] {
  return Array.from({ length: EVENTS }, () => buildRow(context(tenantId), event(), platform.clock.now(), platform.pseudonymize));
}

/** The same rows and transactions without Haven: 'statements' as Haven sends them, or 'single' as one simple query per transaction. */
async function writePlain(db: Database, rows: Row[], perTransaction: number, shape: 'statements' | 'single'): Promise<void> {
  const tenantId = rows[0]!.tenant_id;
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    const client = await db.appPool.connect();
    try {
      while (next < rows.length) {
        const batch = rows.slice(next, next + perTransaction);
        next += perTransaction;
        if (shape === 'single') {
          const inserts = batch.map((r) => `insert into audit_events (${columns.join(', ')}) values (${columns.map((c) => literal(r[c])).join(', ')});`);
          await client.query(`${beginScoped('tenant', tenantId)}; ${inserts.join(' ')} commit;`);
          continue;
        }
        await client.query(beginScoped('tenant', tenantId));
        await client.query(insertSql(batch.length), batch.flatMap((r) => columns.map((c) => r[c])));
        await client.query('commit');
      }
    } finally {
      client.release();
    }
  }));
}

interface Round { plain: number; chained: number; sealingLagMs: number; plainSql: number; oneRoundTrip: number }

async function round(db: Database, audit: AuditService, platform: Platform, perTransaction: number): Promise<Round> {
  const rate = async (write: () => Promise<void>) => {
    const start = performance.now();
    await write();
    return EVENTS / ((performance.now() - start) / 1000);
  };
  const sqlTenant = randomUUID();
  const sqlRows = prebuiltRows(platform, sqlTenant);
  const plainSql = await rate(() => writePlain(db, sqlRows, perTransaction, 'statements'));
  await audit.seal(sqlTenant);
  const singleTenant = randomUUID();
  const singleRows = prebuiltRows(platform, singleTenant);
  const oneRoundTrip = await rate(() => writePlain(db, singleRows, perTransaction, 'single'));
  await audit.seal(singleTenant);

  const plainTenant = randomUUID();
  let start = performance.now();
  await write(db, audit, plainTenant, perTransaction);
  const plain = EVENTS / ((performance.now() - start) / 1000);
  await audit.seal(plainTenant); // not timed: leaves no backlog for the next run

  const chainedTenant = randomUUID();
  audit.startSealer(500);
  start = performance.now();
  await write(db, audit, chainedTenant, perTransaction);
  const written = performance.now();
  await audit.stop();
  await audit.seal(chainedTenant);
  const sealed = performance.now();
  const report = await audit.verify(chainedTenant);
  if (!report.ok || report.entries !== EVENTS) throw new Error(`the chained run did not verify: ${JSON.stringify(report)}`);
  return { plain, chained: EVENTS / ((sealed - start) / 1000), sealingLagMs: sealed - written, plainSql, oneRoundTrip };
}

async function measure(db: Database, audit: AuditService, platform: Platform, perTransaction: number) {
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(db, audit, platform, perTransaction));
  return {
    plain: median(rounds.map((r) => r.plain)),
    chained: median(rounds.map((r) => r.chained)),
    ratio: median(rounds.map((r) => r.chained / r.plain)),
    sealingLagMs: median(rounds.map((r) => r.sealingLagMs)),
    plainSql: median(rounds.map((r) => r.plainSql)),
    oneRoundTrip: median(rounds.map((r) => r.oneRoundTrip)),
    ofPlainSql: median(rounds.map((r) => r.plain / r.plainSql)),
  };
}

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const { platform } = standalone.haven;
    const { db } = platform;
    const audit = standalone.haven.modules.audit;
    await write(db, audit, randomUUID(), 10); // warm-up: JIT, connections, caches
    const metrics: Metric[] = [];
    const targets: Target[] = [];
    for (const perTransaction of [1, 10]) {
      const run = await measure(db, audit, platform, perTransaction);
      const shape = `${perTransaction} event${perTransaction > 1 ? 's' : ''} per transaction`;
      process.stdout.write(`${shape} (medians of ${ROUNDS} rounds): plain ${run.plain.toFixed(0)}/s, chained ${run.chained.toFixed(0)}/s, ratio ${run.ratio.toFixed(2)}, sealed ${run.sealingLagMs.toFixed(0)} ms after the last write; plain SQL ${run.plainSql.toFixed(0)}/s, one round trip ${run.oneRoundTrip.toFixed(0)}/s\n`);
      const { ratio } = run;
      metrics.push(
        { label: `${shape}: events/s without the chain`, value: run.plain, unit: 'events/s' },
        { label: `${shape}: events/s with the chain (until all sealed)`, value: run.chained, unit: 'events/s' },
        { label: `${shape}: sealing lag after the last write`, value: run.sealingLagMs, unit: 'ms' },
        { label: `${shape}: plain SQL, the same statements and rows (ceiling of this transaction shape)`, value: run.plainSql, unit: 'events/s' },
        { label: `${shape}: plain SQL, each transaction one round trip`, value: run.oneRoundTrip, unit: 'events/s' },
        { label: `${shape}: Haven without the chain ÷ plain SQL (median of ${ROUNDS} rounds)`, value: run.ofPlainSql, unit: '' },
      );
      targets.push(
        { label: `${shape}, ${WRITERS} writers: events/s with the chain`, target: `≥ ${TARGET_RATE}/s`, actual: `${run.chained.toFixed(0)}/s`, met: run.chained >= TARGET_RATE, ratio: run.chained / TARGET_RATE },
        { label: `${shape}: with chain ÷ without (median of ${ROUNDS} alternating rounds)`, target: `≥ ${TARGET_RATIO}`, actual: ratio.toFixed(2), met: ratio >= TARGET_RATIO, ratio },
      );
    }
    emitResult({ name: 'Audit append throughput', issue: 'audit trail', metrics, targets });
  } finally {
    untrack();
    await standalone.stop();
  }
});
