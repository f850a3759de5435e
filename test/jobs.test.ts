// The job queue against real PostgreSQL: typed payloads, retries with backoff,
// dead letters (and the operator's `haven jobs` view of them), cron schedules,
// graceful stop, regional workers, and a worker process killed mid-job.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import { createPseudonymizer, scrubText } from '../src/platform/crypto/pseudonym.ts';
import { AppError } from '../src/platform/errors.ts';
import { defineJob, JobQueue, type JobQueueOptions } from '../src/platform/jobs.ts';
import { createLogger } from '../src/platform/log.ts';
import { renderJob, renderTables } from './fixtures/job-worker.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { runHavenCommand } from './helpers/cli.ts';
import { waitFor } from './helpers/process.ts';

const workerScript = fileURLToPath(new URL('./fixtures/job-worker.ts', import.meta.url));

let db: TestDatabase;
let pool: pg.Pool;
const running: JobQueue[] = [];
const logs: string[] = [];

before(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
});

after(async () => {
  await Promise.allSettled(running.map((q) => q.stop(2000)));
  await pool.end();
  await db.drop();
});

const pseudonymize = createPseudonymizer(randomBytes(32));

/** A started queue on the test database, with supervision fast enough for tests. */
async function startQueue(opts: Partial<JobQueueOptions> = {}): Promise<JobQueue> {
  const log = createLogger({ level: 'warn', pseudonymize, destination: { write: (line: string) => void logs.push(line) } });
  const jobs = new JobQueue({ connectionString: db.url, log, regions: ['eu', 'us'], superviseIntervalSeconds: 1, pollingIntervalSeconds: 0.5, ...opts });
  await jobs.start();
  running.push(jobs);
  return jobs;
}

async function jobRow(id: string): Promise<{ state: string; retry_count: number; output: unknown } | undefined> {
  const { rows } = await pool.query('select state::text as state, retry_count, output from pgboss.job where id = $1', [id]);
  return rows[0];
}

const inState = (id: string, state: string) => async () => ((await jobRow(id))?.state === state ? true : undefined);

describe('job queue', () => {
  test('payloads are typed: an invalid one is refused before queueing, handlers get parsed data', async () => {
    const jobs = await startQueue();
    const publish = defineJob({
      name: 'test.publish',
      schema: z.object({ videoId: z.uuid(), title: z.string().trim().min(1), priority: z.number().int().default(5) }),
    });

    await assert.rejects(jobs.send(publish, { videoId: 'not-a-uuid', title: 'x' }), (err) => err instanceof AppError && err.code === 'job_payload_invalid');
    const { rows: queued } = await pool.query("select count(*)::int as n from pgboss.job where name like 'test.publish%'");
    assert.equal(queued[0].n, 0);

    const received: unknown[] = [];
    await jobs.work(publish, async (data) => { received.push(data); });
    const videoId = randomUUID();
    const id = (await jobs.send(publish, { videoId, title: '  Launch  ' }))!;
    await waitFor(inState(id, 'completed'), 10_000, 'the valid job to complete');
    assert.deepEqual(received, [{ videoId, title: 'Launch', priority: 5 }]);

    // A payload that slipped past send() (an older producer, a hand-made job) is not retried: retrying cannot fix it.
    const bad = (await jobs.boss.send('test.publish', { videoId: 'garbage' }))!;
    const [dead] = await waitFor(async () => {
      const found = await jobs.deadJobs({ queue: 'test.publish' });
      return found.length ? found : undefined;
    }, 10_000, 'the unparseable job to be dead-lettered');
    assert.equal(dead!.originalId, bad);
    assert.equal(dead!.attempts, 1);
    assert.match(dead!.error!, /videoId/);
    assert.equal(received.length, 1, 'the handler never saw the bad payload');
  });

  test('a failing job is retried with growing delays and completes on the third attempt', async () => {
    const jobs = await startQueue();
    const flaky = defineJob({ name: 'test.flaky', schema: z.object({ clip: z.string() }), retryLimit: 2, retryDelaySeconds: 1 });
    const runs: { attempt: number; at: number }[] = [];
    const retries: boolean[] = [];
    jobs.onFailure((queue, _id, _err, willRetry) => { if (queue === 'test.flaky') retries.push(willRetry); });
    await jobs.work(flaky, async (_data, ctx) => {
      runs.push({ attempt: ctx.attempt, at: performance.now() });
      if (ctx.attempt < 3) throw new Error(`encoder busy (attempt ${ctx.attempt})`);
      return { encoded: true };
    });

    const id = (await jobs.send(flaky, { clip: 'a' }))!;
    await waitFor(inState(id, 'completed'), 20_000, 'the flaky job to complete');
    const row = await jobRow(id);
    assert.equal(row!.retry_count, 2);
    assert.deepEqual(row!.output, { encoded: true });
    assert.deepEqual(runs.map((r) => r.attempt), [1, 2, 3]);
    assert.deepEqual(retries, [true, true]);
    // Backoff of 1 s doubles: the first retry waits 1–2 s, the second 2–4 s. A
    // fixed 1 s delay would start the third attempt well under 2 s after the second.
    const [first, second, third] = runs.map((r) => r.at) as [number, number, number];
    assert.ok(second - first >= 950, `first retry after ${second - first} ms`);
    assert.ok(third - second >= 1950, `second retry after ${third - second} ms`);
  });

  test('a job failing past its retries is dead-lettered, listed (also by `haven jobs`), and can be redriven', async () => {
    const jobs = await startQueue({ scrubErrorText: (text) => scrubText(text, pseudonymize) });
    const doomed = defineJob({ name: 'test.doomed', schema: z.object({ n: z.number() }), retryLimit: 1, retryDelaySeconds: 1 });
    let fixed = false;
    await jobs.work(doomed, async (data) => {
      if (!fixed) throw new Error('transcoder exploded while notifying alice@example.com');
      return { n: data.n };
    });
    const id = (await jobs.send(doomed, { n: 7 }))!;
    const [dead] = await waitFor(async () => {
      const found = await jobs.deadJobs({ queue: 'test.doomed' });
      return found.length ? found : undefined;
    }, 15_000, 'the job to be dead-lettered');
    assert.equal(dead!.queue, 'test.doomed');
    assert.equal(dead!.deadLetterQueue, 'test.doomed.dead');
    assert.equal(dead!.originalId, id);
    assert.equal(dead!.attempts, 2);
    assert.match(dead!.error!, /^transcoder exploded while notifying p_/);
    assert.ok(Date.now() - dead!.failedAt.getTime() < 60_000);
    assert.equal((await jobRow(id))!.state, 'failed');
    assert.deepEqual((await jobs.deadJobs()).map((j) => j.id).filter((j) => j === dead!.id), [dead!.id]);
    await assert.rejects(jobs.deadJobs({ queue: 'test.no-such-queue' }), (err) => err instanceof AppError && err.status === 404);

    // The operator's view: the CLI's jobs command (in this process) on the same database.
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-jobs-cli-'));
    try {
      const env = { DATABASE_URL: db.url, HAVEN_DATA_DIR: dataDir, HAVEN_LOG_LEVEL: 'warn' };
      const listed = await runHavenCommand(['jobs', 'dead', '--queue', 'test.doomed'], env);
      assert.equal(listed.status, 0, listed.stderr);
      const lines = listed.stdout.trim().split('\n');
      assert.equal(lines.length, 1, listed.stdout);
      assert.match(lines[0]!, new RegExp(`^${dead!.id}  test\\.doomed  ${dead!.failedAt.toISOString().replace(/\./g, '\\.')}  2 attempts  transcoder exploded while notifying p_`));
      assert.doesNotMatch(listed.stdout, /alice@example\.com/);

      const status = await runHavenCommand(['jobs', 'status'], env);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /^test\.doomed +failed +1$/m);
      assert.match(status.stdout, /^test\.doomed\.dead +created +1$/m);

      fixed = true;
      const redriven = await runHavenCommand(['jobs', 'redrive', '--queue', 'test.doomed'], env);
      assert.equal(redriven.status, 0, redriven.stderr);
      assert.match(redriven.stdout, /^sent 1 dead-lettered job of test\.doomed back/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const { rows } = await waitFor(async () => {
      const r = await pool.query("select id, output from pgboss.job where name = 'test.doomed' and state = 'completed'");
      return r.rows.length ? r : undefined;
    }, 10_000, 'the redriven job to complete');
    assert.deepEqual(rows.map((r) => r.output), [{ n: 7 }]);
    assert.deepEqual(await jobs.deadJobs({ queue: 'test.doomed' }), []);
  });

  test('a cron definition registers a schedule row per queue without waiting for it to fire', async () => {
    const jobs = await startQueue();
    await jobs.register(defineJob({ name: 'test.nightly', schema: z.object({}), cron: '30 2 * * *' }));
    await jobs.register(defineJob({ name: 'test.sweep', schema: z.object({}), regional: true, cron: '*/10 * * * *' }));
    const { rows } = await pool.query("select name, cron, timezone, data from pgboss.schedule where name like 'test.%' order by name");
    assert.deepEqual(rows, [
      { name: 'test.nightly', cron: '30 2 * * *', timezone: 'UTC', data: {} },
      { name: 'test.sweep.eu', cron: '*/10 * * * *', timezone: 'UTC', data: {} },
      { name: 'test.sweep.us', cron: '*/10 * * * *', timezone: 'UTC', data: {} },
    ]);
    // A cron job is sent with {}, so a schema that refuses it is a broken definition.
    const broken = defineJob({ name: 'test.broken-cron', schema: z.object({ videoId: z.string() }), cron: '* * * * *' });
    await assert.rejects(jobs.register(broken), (err) => err instanceof AppError && err.code === 'job_definition_invalid');
  });

  test('stop() lets a running handler finish and commit, fetches nothing more, then resolves', async () => {
    const jobs = await startQueue();
    await pool.query('create table slow_effects (job_id uuid primary key)');
    const slow = defineJob({ name: 'test.slow', schema: z.object({ n: z.number() }) });
    const started = Promise.withResolvers<string>();
    const release = Promise.withResolvers<void>();
    await jobs.work(slow, async (_data, ctx) => {
      started.resolve(ctx.id);
      await release.promise;
      await pool.query('insert into slow_effects (job_id) values ($1)', [ctx.id]);
    });
    const first = (await jobs.send(slow, { n: 1 }))!;
    const second = (await jobs.send(slow, { n: 2 }))!;
    assert.equal(await started.promise, first);

    let stopped = false;
    const stopping = jobs.stop(10_000).then(() => { stopped = true; });
    await sleep(1000);
    assert.equal(stopped, false, 'stop() waits for the running handler');
    release.resolve();
    await stopping;

    const { rows } = await pool.query('select job_id from slow_effects');
    assert.deepEqual(rows, [{ job_id: first }]);
    assert.equal((await jobRow(first))!.state, 'completed');
    assert.equal((await jobRow(second))!.state, 'created');
  });

  test('a regional job runs only on a worker of its region', async () => {
    const euWorker = await startQueue();
    const usWorker = await startQueue();
    const transcode = defineJob({ name: 'test.transcode', schema: z.object({ videoId: z.string() }), regional: true });
    const ran: { worker: string; region?: string; videoId: string }[] = [];
    await euWorker.work(transcode, async (data, ctx) => { ran.push({ worker: 'eu', region: ctx.region, videoId: data.videoId }); }, { region: 'eu' });
    await usWorker.work(transcode, async (data, ctx) => { ran.push({ worker: 'us', region: ctx.region, videoId: data.videoId }); }, { region: 'us' });

    const expected: typeof ran = [];
    for (const region of ['eu', 'us', 'eu', 'us', 'eu', 'us']) {
      const videoId = `${region}-${expected.length}`;
      await euWorker.send(transcode, { videoId }, { region });
      expected.push({ worker: region, region, videoId });
    }
    await waitFor(async () => (ran.length === expected.length ? true : undefined), 15_000, 'every regional job to run');
    const byVideo = (a: { videoId: string }, b: { videoId: string }) => a.videoId.localeCompare(b.videoId);
    assert.deepEqual([...ran].sort(byVideo), [...expected].sort(byVideo));

    await assert.rejects(euWorker.send(transcode, { videoId: 'x' }), (err) => err instanceof AppError && err.code === 'job_region_invalid');
    await assert.rejects(euWorker.send(transcode, { videoId: 'x' }, { region: 'mars' }), (err) => err instanceof AppError && err.code === 'job_region_invalid');
  });

  test('a worker killed with SIGKILL mid-job: another worker completes the job exactly once', async () => {
    await pool.query(renderTables);
    const workers: { child: ChildProcess; output: string; exited: Promise<unknown> }[] = [];
    const startWorker = () => {
      const child = spawn(process.execPath, [workerScript], { env: { ...process.env, DATABASE_URL: db.url }, stdio: ['ignore', 'pipe', 'pipe'] });
      const worker = { child, output: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
      child.stdout!.on('data', (d) => { worker.output += d; });
      child.stderr!.on('data', (d) => { worker.output += d; });
      workers.push(worker);
      return worker;
    };
    try {
      startWorker();
      startWorker();
      await waitFor(async () => (workers.every((w) => w.output.includes('ready')) ? true : undefined), 20_000, 'both workers to be ready');

      const sender = await startQueue();
      const id = (await sender.send(renderJob, { label: 'intro' }))!;
      const firstStart = await waitFor(async () => (await pool.query('select pid from render_starts where job_id = $1', [id])).rows[0] as { pid: number } | undefined, 10_000, 'a worker to start the job');
      const victim = workers.find((w) => w.child.pid === firstStart.pid)!;
      const survivor = workers.find((w) => w !== victim)!;
      victim.child.kill('SIGKILL');
      await victim.exited;

      // The victim stops heartbeating; after heartbeatSeconds the supervisor retries the job.
      const completion = await waitFor(async () => (await pool.query('select pid, label from render_completions where job_id = $1', [id])).rows[0] as { pid: number; label: string } | undefined, 40_000, 'the job to be completed by the other worker');
      assert.deepEqual(completion, { pid: survivor.child.pid, label: 'intro' });
      await waitFor(inState(id, 'completed'), 5000, 'pg-boss to mark the job completed');

      const { rows: starts } = await pool.query('select pid, attempt from render_starts where job_id = $1 order by started_at', [id]);
      assert.deepEqual(starts, [{ pid: victim.child.pid, attempt: 1 }, { pid: survivor.child.pid, attempt: 2 }]);
      const { rows: completions } = await pool.query('select count(*)::int as n from render_completions');
      assert.equal(completions[0].n, 1);
    } catch (err) {
      for (const w of workers) process.stderr.write(`--- worker ${w.child.pid} output ---\n${w.output}\n`);
      throw err;
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
    }
  });
});
