// Start-up: `node bin/haven.js serve` on an initialized data dir until /readyz
// answers 200; median of 5 restarts, target under 3 s. Each run is split into
// phases so the embedded PostgreSQL's share is visible, and one extra run goes
// through `npm start` to show what npm itself adds.
import { emitResult, median, type Metric } from './lib/result.ts';
import { type BenchDataDir, type HavenProcess, initializedDataDir, npmStartWouldInstall, postmasterPid, startHavenProcess } from './lib/haven.ts';
import { processStartMs, runBenchmark } from './lib/processes.ts';

const RUNS = 5;
const TARGET_MS = 3000;

interface StartupRun {
  total: number;
  /** npm and scripts/bootstrap.sh until the Haven node process starts (0 without npm). */
  launcher: number;
  /** Node boot, imports, config and secrets, until the postmaster is launched. */
  beforePostgres: number;
  /** Postmaster launch until it accepts connections (as `pg_ctl start -w` reports it). */
  postgres: number;
  /** Migrations check, job queue, modules, HTTP server: PostgreSQL ready → /readyz 200. */
  afterPostgres: number;
  /** Spawn until PostgreSQL accepts connections. */
  untilPostgresAccepts: number;
  /** Spawn until Haven logged 'Haven is serving' (it may come just after /readyz already answers). */
  untilServingLogged: number;
}

/**
 * Phases from three clocks that agree: the bench's wall clock at spawn and at
 * the first 200, Haven's own log timestamps, and the kernel's process start
 * times (node vs postmaster), which need no log line at all.
 */
async function phases(haven: HavenProcess, dataDir: BenchDataDir): Promise<StartupRun> {
  const postgresListening = await haven.loggedAt('embedded PostgreSQL listening');
  const serving = await haven.loggedAt('Haven is serving');
  const launched = processStartMs(haven.launcherPid);
  const nodeStarted = processStartMs(haven.pid);
  const postmasterStarted = processStartMs(postmasterPid(dataDir));
  const untilPostgresAccepts = postgresListening - haven.spawnedAt;
  return {
    total: haven.readyAt - haven.spawnedAt,
    launcher: nodeStarted - launched,
    beforePostgres: postmasterStarted - nodeStarted,
    postgres: untilPostgresAccepts - (postmasterStarted - launched),
    afterPostgres: haven.readyAt - postgresListening,
    untilPostgresAccepts,
    untilServingLogged: serving - haven.spawnedAt,
  };
}

function describeRun(label: string, run: StartupRun): string {
  const launcher = run.launcher ? `${run.launcher} npm+bootstrap, ` : '';
  return `${label}: ${run.total} ms to /readyz = ${launcher}${run.beforePostgres} node+imports, ${run.postgres} PostgreSQL start, ` +
    `${run.afterPostgres} Haven bring-up after PostgreSQL`;
}

/** One run through `npm start`, unless npm would install something first. */
async function measureNpmStart(dataDir: BenchDataDir): Promise<StartupRun | undefined> {
  const reason = npmStartWouldInstall();
  if (reason) {
    process.stdout.write(`npm start not measured: ${reason} (npm run bench installs it first)\n`);
    return undefined;
  }
  const npm = await startHavenProcess(dataDir, { viaNpm: true });
  const run = await phases(npm, dataDir);
  await npm.stop();
  process.stdout.write(`${describeRun('npm start', run)}\n`);
  return run;
}

await runBenchmark(async () => {
  process.stdout.write('initializing a data dir (first start: initdb, migrations, secrets)…\n');
  const dataDir = await initializedDataDir();
  const runs: StartupRun[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const haven = await startHavenProcess(dataDir);
    const run = await phases(haven, dataDir);
    await haven.stop();
    runs.push(run);
    process.stdout.write(`${describeRun(`run ${i}`, run)}\n`);
  }

  const npmRun = await measureNpmStart(dataDir);

  const m = (pick: (r: StartupRun) => number) => median(runs.map(pick));
  const total = m((r) => r.total);
  const postgresShare = median(runs.map((r) => (r.postgres / r.total) * 100));
  const metrics: Metric[] = [
    { label: `start-up to /readyz 200, median of ${RUNS}`, value: total, unit: 'ms' },
    { label: 'fastest run', value: Math.min(...runs.map((r) => r.total)), unit: 'ms' },
    { label: 'slowest run', value: Math.max(...runs.map((r) => r.total)), unit: 'ms' },
    { label: 'spawn → PostgreSQL accepts connections, median', value: m((r) => r.untilPostgresAccepts), unit: 'ms' },
    { label: 'phase: node start-up and imports until postmaster launch, median', value: m((r) => r.beforePostgres), unit: 'ms' },
    { label: 'phase: embedded PostgreSQL start (postmaster launch → accepting), median', value: m((r) => r.postgres), unit: 'ms' },
    { label: 'phase: Haven bring-up (PostgreSQL ready → /readyz 200), median', value: m((r) => r.afterPostgres), unit: 'ms' },
    { label: "spawn → 'Haven is serving' logged, median", value: m((r) => r.untilServingLogged), unit: 'ms' },
    { label: 'embedded PostgreSQL start, share of start-up (median)', value: postgresShare, unit: '%' },
  ];
  if (npmRun) {
    metrics.push(
      { label: 'via npm start: to /readyz 200 (one run)', value: npmRun.total, unit: 'ms' },
      { label: 'via npm start: npm and bootstrap.sh before node starts', value: npmRun.launcher, unit: 'ms' },
    );
  }
  emitResult({
    name: 'Start-up to /readyz',
    issue: 'platform foundation',
    metrics,
    targets: [{
      label: `median start-up to /readyz 200 (node bin/haven.js serve, initialized data dir, ${RUNS} runs)`,
      target: `< ${TARGET_MS / 1000} s`,
      actual: `${(total / 1000).toFixed(2)} s`,
      met: total < TARGET_MS,
      ratio: total / TARGET_MS,
    }],
  });
});
