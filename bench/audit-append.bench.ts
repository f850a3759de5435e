// Audit append throughput: 4 concurrent writers record events inside their
// own transactions, as modules do. Measured twice on the same database:
// without the chain (plain inserts, the sealer off) and with it (the sealing
// loop running as on a worker node; the clock stops when every event is
// sealed). Targets: ≥ 5,000 events/s with the chain, and the chained rate at
// least 0.7 of the plain one. Two transaction shapes: one event per
// transaction (a typical request) and ten (a bulk operation). Plain and
// chained runs alternate for three rounds and the medians are reported, so
// load from other processes does not favour one side.
import { randomUUID } from 'node:crypto';
import type { AuditService } from '../src/modules/audit/service.ts';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import type { Database } from '../src/platform/db/database.ts';
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

/** Each writer takes the next transaction's worth of events until EVENTS are written. */
async function write(db: Database, audit: AuditService, tenantId: string, perTransaction: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < EVENTS) {
      next += perTransaction;
      await db.withTenant(tenantId, async (tx) => {
        for (let i = 0; i < perTransaction; i++) {
          await audit.record(tx, context(tenantId), {
            action: 'video.update',
            target: { type: 'video', id: randomUUID() },
            diff: { before: { title: 'Draft', visibility: 'private' }, after: { title: 'Quarterly results', visibility: 'unlisted' } },
          });
        }
      });
    }
  }));
}

interface Round { plain: number; chained: number; sealingLagMs: number }

async function round(db: Database, audit: AuditService, perTransaction: number): Promise<Round> {
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
  return { plain, chained: EVENTS / ((sealed - start) / 1000), sealingLagMs: sealed - written };
}

async function measure(db: Database, audit: AuditService, perTransaction: number) {
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(db, audit, perTransaction));
  return {
    plain: median(rounds.map((r) => r.plain)),
    chained: median(rounds.map((r) => r.chained)),
    ratio: median(rounds.map((r) => r.chained / r.plain)),
    sealingLagMs: median(rounds.map((r) => r.sealingLagMs)),
  };
}

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const { db } = standalone.haven.platform;
    const audit = standalone.haven.modules.audit;
    await write(db, audit, randomUUID(), 10); // warm-up: JIT, connections, caches
    const metrics: Metric[] = [];
    const targets: Target[] = [];
    for (const perTransaction of [1, 10]) {
      const run = await measure(db, audit, perTransaction);
      const shape = `${perTransaction} event${perTransaction > 1 ? 's' : ''} per transaction`;
      process.stdout.write(`${shape} (medians of ${ROUNDS} rounds): plain ${run.plain.toFixed(0)}/s, chained ${run.chained.toFixed(0)}/s, ratio ${run.ratio.toFixed(2)}, sealed ${run.sealingLagMs.toFixed(0)} ms after the last write\n`);
      const { ratio } = run;
      metrics.push(
        { label: `${shape}: events/s without the chain`, value: run.plain, unit: 'events/s' },
        { label: `${shape}: events/s with the chain (until all sealed)`, value: run.chained, unit: 'events/s' },
        { label: `${shape}: sealing lag after the last write`, value: run.sealingLagMs, unit: 'ms' },
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
