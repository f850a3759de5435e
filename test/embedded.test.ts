// Haven's lifecycle as an operator meets it: the embedded PostgreSQL starts and
// stops with `haven serve`, survives kill -9 of either process, and in-flight
// requests finish when Haven is told to stop.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { startTestHaven } from './helpers/haven.ts';
import { freePort, type HavenProcess, postgresPidsFor, runHaven, spawnHaven, waitFor, waitReady } from './helpers/process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The promise's value, or `late` if it takes longer than ms (without holding the process open). */
async function within<T>(promise: Promise<T>, ms: number, late: string): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => { timer = setTimeout(() => resolve(late), ms); });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every process whose working directory is the cluster's data dir: the postmaster and all its children. */
function clusterProcesses(pgData: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === pgData) pids.push(Number(entry));
    } catch { /* exited or not ours to read */ }
  }
  return pids;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** postmaster.pid: pid, data dir, start time, port, socket dir, listen address, … */
function postmasterInfo(pgData: string): { pid: number; port: number; listen: string } {
  const lines = readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]), listen: lines[5]!.trim() };
}

describe('embedded PostgreSQL lifecycle', () => {
  test('starts and stops with Haven, reuses its data and recovers from kill -9', { timeout: 300_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'haven-embedded-'));
    const pgData = join(dataDir, 'postgres');
    const httpPort = freePort();
    let dbPort = freePort();
    while (dbPort === httpPort) dbPort = freePort();
    const env = { HAVEN_DATA_DIR: dataDir, HAVEN_PORT: String(httpPort), HAVEN_EMBEDDED_DB_PORT: String(dbPort) };
    const base = `http://127.0.0.1:${httpPort}`;
    const running = new Set<HavenProcess>();
    const impostorDir = mkdtempSync(join(tmpdir(), 'haven-impostor-'));
    let impostor: ChildProcess | undefined;

    const serve = async (): Promise<HavenProcess> => {
      const p = spawnHaven(['serve'], env);
      running.add(p);
      void p.exited.then(() => running.delete(p));
      const died = p.exited.then((code) => { throw new Error(`haven exited with ${code} before it was ready:\n${p.output()}`); });
      await Promise.race([waitReady(base, 120_000), died]);
      died.catch(() => undefined);
      return p;
    };

    const stopCleanly = async (p: HavenProcess, signal: NodeJS.Signals) => {
      p.child.kill(signal);
      const code = await within(p.exited, 60_000, 'still running after 60 s');
      assert.equal(code, 0, `exit code after ${signal}:\n${p.output()}`);
      assert.deepEqual(postgresPidsFor(dataDir), [], `no postmaster left after ${signal}`);
      assert.deepEqual(clusterProcesses(pgData), [], `no postgres process left after ${signal}`);
      assert.equal(existsSync(join(dataDir, 'haven.pid')), false, 'the data dir lock is released');
    };

    const kill9 = async (p: HavenProcess) => {
      p.child.kill('SIGKILL');
      await p.exited;
    };

    try {
      // First start: initdb, bound to loopback on the configured port.
      let haven = await serve();
      const first = postmasterInfo(pgData);
      assert.equal(first.port, dbPort);
      assert.equal(first.listen, '127.0.0.1', 'listens on loopback only');
      assert.deepEqual(postgresPidsFor(dataDir), [first.pid]);
      const secrets = join(dataDir, 'secrets');
      assert.equal(statSync(secrets).mode & 0o777, 0o700);
      assert.equal(statSync(join(secrets, 'embedded-db-password')).mode & 0o777, 0o600);

      // A CLI command beside the server attaches to its database.
      let cli = runHaven(['setup', '--tenant', 'Lifecycle Org', '--admin-email', 'owner@lifecycle.test', '--admin-password', 'a long enough passphrase'], env);
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /created tenant lifecycle-org/);
      assert.deepEqual(postgresPidsFor(dataDir), [first.pid], 'the CLI used the running postmaster');

      // A second server on the same data dir is refused and leaves the first alone.
      cli = runHaven(['serve'], { ...env, HAVEN_PORT: String(freePort()) });
      assert.equal(cli.status, 2, cli.stderr);
      assert.match(cli.stderr, /in use by another Haven process/);
      assert.deepEqual(postgresPidsFor(dataDir), [first.pid]);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);

      await stopCleanly(haven, 'SIGTERM');

      // Second start reuses the data.
      haven = await serve();
      cli = runHaven(['tenant', 'list'], env);
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /lifecycle-org\s+default\s+active\b.*Lifecycle Org/);

      // kill -9 of Haven leaves its postmaster behind; the next start stops it and takes over.
      const orphan = postmasterInfo(pgData).pid;
      await kill9(haven);
      assert.ok(isRunning(orphan), 'the postmaster outlives a killed Haven');
      // Meanwhile the dead Haven's pid went to another Node process (this one): still not a live Haven.
      const lock = join(dataDir, 'haven.pid');
      writeFileSync(lock, readFileSync(lock, 'utf8').replace(/^\d+/, String(process.pid)));
      haven = await serve();
      assert.equal(isRunning(orphan), false, 'the orphaned postmaster was stopped');
      const restarted = postmasterInfo(pgData).pid;
      assert.notEqual(restarted, orphan);

      // The postmaster dies under a running Haven: readiness turns 503, then the watchdog restarts it.
      process.kill(restarted, 'SIGKILL');
      // Readiness turns 503; on a saturated machine the watchdog may have restarted the server before a poll lands, so its log line is evidence too.
      const seen: string[] = [];
      const down = await waitFor(async () => {
        // Readiness gives up on a check after 2 s; a loaded machine can take longer than that to answer.
        const status = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, (err: Error) => err.name);
        if (seen.at(-1)?.endsWith(` ${status}`) !== true) seen.push(`${new Date().toISOString()} ${status}`);
        return status === 503 || /restarting it/.test(haven.output()) ? true : undefined;
      }, 60_000, '/readyz 503').catch((err) => {
        throw new Error(`${err.message}; /readyz answered: ${seen.join(', ')}; postgres processes: ${clusterProcesses(pgData).join(' ') || 'none'}; Haven said:\n${haven.output().split('\n').slice(-40).join('\n')}`);
      });
      assert.equal(down, true);
      await waitReady(base, 60_000).catch((err) => { throw new Error(`${err.message}; Haven said:\n${haven.output().split('\n').filter((l) => !l.includes('"reqId"')).slice(-30).join('\n')}`); });
      assert.notEqual(postmasterInfo(pgData).pid, restarted);
      assert.match(haven.output(), /restarting it/);
      cli = runHaven(['tenant', 'list'], env);
      assert.match(cli.stdout, /lifecycle-org/, 'the data survived the crash');

      await stopCleanly(haven, 'SIGINT');

      // A stale postmaster.pid whose pid now belongs to another postgres-named
      // process (pid reuse): Haven must not signal that process.
      chmodSync(impostorDir, 0o755);
      copyFileSync('/bin/sleep', join(impostorDir, 'postgres'));
      chmodSync(join(impostorDir, 'postgres'), 0o755);
      const owner = statSync(pgData);
      // Same user as the cluster, as a reused pid of another PostgreSQL would be.
      const asOwner = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
      impostor = spawn(join(impostorDir, 'postgres'), ['300'], { cwd: '/', stdio: 'ignore', ...asOwner });
      await waitFor(async () => (readFileSync(`/proc/${impostor!.pid}/comm`, 'utf8').trim() === 'postgres' ? true : undefined), 5000, 'impostor');
      writeFileSync(join(pgData, 'postmaster.pid'), `${impostor.pid}\n${pgData}\n${Math.floor(Date.now() / 1000)}\n${dbPort}\n\n127.0.0.1\n  1234567      7\nready\n`);
      haven = await serve();
      assert.ok(isRunning(impostor.pid!), 'an unrelated process named postgres was left alone');

      // kill -9 of both Haven and its postmaster: the dead pid in postmaster.pid is recovered.
      const dead = postmasterInfo(pgData).pid;
      await kill9(haven);
      process.kill(dead, 'SIGKILL');
      await waitFor(async () => (clusterProcesses(pgData).length === 0 ? true : undefined), 20_000, 'the crashed cluster to exit');
      assert.ok(existsSync(join(pgData, 'postmaster.pid')), 'the stale pid file is still there');
      haven = await serve();
      cli = runHaven(['tenant', 'list'], env);
      assert.match(cli.stdout, /lifecycle-org/);
      await stopCleanly(haven, 'SIGTERM');

      // The embedded port taken by something else: a clear configuration error, nothing left running.
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(dbPort, '127.0.0.1', resolve));
      try {
        const r = runHaven(['serve'], env);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`port ${dbPort}.*HAVEN_EMBEDDED_DB_PORT`));
        assert.deepEqual(clusterProcesses(pgData), []);
      } finally {
        blocker.close();
      }
    } finally {
      for (const p of running) await kill9(p);
      for (const pid of clusterProcesses(pgData)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      if (impostor?.pid && isRunning(impostor.pid)) impostor.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(impostorDir, { recursive: true, force: true });
    }
  });
});

describe('graceful shutdown', () => {
  /** A Haven with a route that takes a second and then needs the database. */
  async function havenWithSlowRoute() {
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => { started = resolve; });
    const haven = await startTestHaven({
      haven: {
        beforeListen: async (app) => {
          app.get('/test/slow', async () => {
            started();
            await sleep(1000);
            // Pools close only after HTTP has drained, so the database is still there.
            const { rows } = await haven.platform.db.appPool.query('select 42 as answer');
            return { answer: rows[0].answer };
          });
        },
      },
    });
    return { haven, inFlight };
  }

  test('a request in flight when Haven stops still gets its answer; new ones are turned away', async () => {
    const { haven, inFlight } = await havenWithSlowRoute();
    try {
      const slow = haven.request('/test/slow');
      await inFlight;
      const closing = haven.close();
      await sleep(100);
      const late = await haven.request('/healthz').then((r) => r.status, (err: Error) => err);
      assert.ok(late === 503 || late instanceof Error, `a new request while closing is refused, got ${String(late)}`);
      const res = await slow;
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { answer: 42 });
      haven.app!.server.closeAllConnections(); // the next test covers how long close takes
      await closing;
      await assert.rejects(haven.request('/healthz'), 'nothing listens after close');
    } finally {
      await haven.stop();
    }
  });

  test('shutdown does not wait out the keep-alive timeout of the connection that carried that request', async () => {
    const { haven, inFlight } = await havenWithSlowRoute();
    try {
      const slow = haven.request('/test/slow');
      await inFlight;
      const closing = haven.close();
      const res = await slow;
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const done = Date.now();
      // Orchestrators send SIGKILL ~10 s after SIGTERM; the embedded PostgreSQL must be stopped by then.
      const outcome = await within(closing.then(() => 'closed'), 5000, 'still closing');
      assert.equal(outcome, 'closed', `close() finished ${Date.now() - done} ms after the last response`);
    } finally {
      haven.app!.server.closeAllConnections();
      await haven.stop();
    }
  });
});
