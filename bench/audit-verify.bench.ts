// `haven audit verify` over a chain of 1,000,000 entries, end to end as an
// operator runs it (a fresh process: start-up, sealing, signatures, the
// set-based recomputation of every hash and link). Target: ≤ 10 s. Also
// reports verification alone inside a running Haven (median of 3).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { seedSealedHistory, startStandaloneHaven } from '../test/helpers/audit.ts';
import { HAVEN_NODE_FLAGS, repoRoot } from './lib/haven.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult, median } from './lib/result.ts';

const ENTRIES = 1_000_000;
const SEGMENTS = 10;
const TARGET_SECONDS = 10;

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const { platform, modules } = standalone.haven;
    const tenant = await modules.tenants.create({ name: 'Audit verify bench' });
    process.stdout.write(`writing ${ENTRIES.toLocaleString('en')} sealed entries with a signed checkpoint every ${ENTRIES / SEGMENTS}…\n`);
    const start = new Date(Date.now() - 30 * 86_400_000);
    for (let i = 0; i < SEGMENTS; i++) {
      await seedSealedHistory(platform, tenant.id, ENTRIES / SEGMENTS, { start: new Date(start.getTime() + i * 86_400_000), stepMs: 50, actorId: randomUUID(), actorRef: 'p_benchactor' });
      await modules.audit.checkpoint(tenant.id);
    }

    const inProcess: number[] = [];
    let entries = 0;
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const report = await modules.audit.verify(tenant.id);
      inProcess.push((performance.now() - t0) / 1000);
      if (!report.ok) throw new Error(`the seeded chain does not verify: ${JSON.stringify(report)}`);
      entries = report.entries;
    }

    // The haven command itself, as an operator runs it (bin/haven.js, with the flags of npm start).
    const t0 = performance.now();
    const cli = spawnSync(process.execPath, [...HAVEN_NODE_FLAGS, 'bin/haven.js', 'audit', 'verify', '--tenant', tenant.slug], {
      cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH, ...standalone.env }, timeout: 300_000,
    });
    const cliSeconds = (performance.now() - t0) / 1000;
    if (cli.status !== 0) throw new Error(`haven audit verify exited ${cli.status}: ${cli.stdout}${cli.stderr}`);
    process.stdout.write(cli.stdout);

    const verifySeconds = median(inProcess);
    emitResult({
      name: 'Audit chain verification',
      issue: 'audit trail',
      metrics: [
        { label: 'entries verified', value: entries, unit: 'entries' },
        { label: 'signed checkpoints checked', value: SEGMENTS, unit: 'checkpoints' },
        { label: 'verify() in a running Haven (median of 3)', value: verifySeconds, unit: 's' },
        { label: 'verify() throughput', value: entries / verifySeconds, unit: 'entries/s' },
        { label: 'haven audit verify --tenant, whole process', value: cliSeconds, unit: 's' },
      ],
      targets: [{
        label: `haven audit verify over ${ENTRIES.toLocaleString('en')} entries`,
        target: `≤ ${TARGET_SECONDS} s`,
        actual: `${cliSeconds.toFixed(1)} s`,
        met: cliSeconds <= TARGET_SECONDS,
        ratio: cliSeconds / TARGET_SECONDS,
      }],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
