// Export of 1,000,000 audit entries as NDJSON by a Haven process, the way an
// administrator's download streams: throughput and the exporting process's
// peak resident memory (target < 200 MB). The export runs in a fresh process
// so the figure is not inflated by the seeding. The target is judged on the
// process as Haven runs (the V8 flags of `npm start` and the haven command,
// and its compile cache — bin/haven.js, docs/decisions/0004-memory.md); the
// same export with Node's default settings is reported beside it, since the
// difference is where the young generation grows.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { seedFillerHistory, startStandaloneHaven } from '../test/helpers/audit.ts';
import { HAVEN_NODE_FLAGS, repoRoot } from './lib/haven.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const ENTRIES = 1_000_000;
const TARGET_PEAK_MB = 200;

interface ExportRun { lines: number; bytes: number; seconds: number; rssBeforeMb: number; peakMb: number }

/** The exporting process: starts Haven, streams the range into a counter, reports. */
const exporter = (tenantId: string, from: string, to: string) => `
  import { Writable } from 'node:stream';
  import { pipeline } from 'node:stream/promises';
  import { readFileSync } from 'node:fs';
  import { loadConfig } from ${JSON.stringify(`${repoRoot}src/config.ts`)};
  import { startHaven } from ${JSON.stringify(`${repoRoot}src/main.ts`)};
  const kb = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  const haven = await startHaven(loadConfig(process.env), { workers: false, http: false, logDestination: { write: () => undefined } });
  const rssBefore = kb('VmRSS');
  let lines = 0, bytes = 0;
  const t0 = performance.now();
  const stream = await haven.modules.audit.exportEvents(${JSON.stringify(tenantId)}, { from: ${JSON.stringify(from)}, to: ${JSON.stringify(to)} }, 'ndjson', { actor: { type: 'system', job: 'bench' }, tenantId: ${JSON.stringify(tenantId)} });
  await pipeline(stream, new Writable({ write(chunk, _enc, done) { bytes += chunk.length; for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++; done(); } }));
  const seconds = (performance.now() - t0) / 1000;
  const peak = kb('VmHWM');
  await haven.close();
  process.stdout.write(JSON.stringify({ lines, bytes, seconds, rssBeforeMb: rssBefore * 1024 / 1e6, peakMb: peak * 1024 / 1e6 }) + '\\n');`;

function runExport(env: Record<string, string>, script: string, nodeFlags: string[]): ExportRun {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`the export process exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ExportRun;
}

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const tenantId = randomUUID();
    const start = new Date(Date.now() - 3 * 86_400_000);
    process.stdout.write(`writing ${ENTRIES.toLocaleString('en')} entries…\n`);
    await seedFillerHistory(standalone.haven.platform, tenantId, ENTRIES, { start, stepMs: 200, actorId: randomUUID(), actorRef: 'p_benchactor' });
    const script = exporter(tenantId, start.toISOString(), new Date(Date.now() + 3_600_000).toISOString());

    // As bin/haven.js runs: its flags, and the compile cache it turns on (warmed by the first run).
    const asHaven = { ...standalone.env, NODE_COMPILE_CACHE: `${repoRoot}node_modules/.cache/haven-compile` };
    runExport(asHaven, script, HAVEN_NODE_FLAGS);
    const haven = runExport(asHaven, script, HAVEN_NODE_FLAGS);
    const plain = runExport(standalone.env, script, []);
    for (const [label, run] of [[`as Haven runs (${HAVEN_NODE_FLAGS.join(' ')}, compile cache)`, haven], ['default Node settings', plain]] as const) {
      process.stdout.write(`${label}: ${run.lines} lines, ${(run.bytes / 1e6).toFixed(0)} MB in ${run.seconds.toFixed(1)} s, RSS ${run.rssBeforeMb.toFixed(0)} MB before, peak ${run.peakMb.toFixed(0)} MB\n`);
      if (run.lines < ENTRIES) throw new Error(`the export returned ${run.lines} lines`);
    }
    emitResult({
      name: 'Audit export (NDJSON)',
      issue: 'audit trail',
      metrics: [
        { label: 'entries exported', value: haven.lines, unit: 'entries' },
        { label: 'bytes exported', value: haven.bytes / 1e6, unit: 'MB' },
        { label: 'throughput', value: haven.bytes / 1e6 / haven.seconds, unit: 'MB/s' },
        { label: 'throughput', value: haven.lines / haven.seconds, unit: 'entries/s' },
        { label: 'exporting process RSS before the export', value: haven.rssBeforeMb, unit: 'MB' },
        { label: 'exporting process peak RSS (VmHWM)', value: haven.peakMb, unit: 'MB' },
        { label: 'default Node settings: RSS before the export', value: plain.rssBeforeMb, unit: 'MB' },
        { label: 'default Node settings: peak RSS', value: plain.peakMb, unit: 'MB' },
        { label: 'default Node settings: throughput', value: plain.bytes / 1e6 / plain.seconds, unit: 'MB/s' },
      ],
      targets: [{
        label: `peak RSS of the process exporting ${ENTRIES.toLocaleString('en')} entries (as Haven runs)`,
        target: `< ${TARGET_PEAK_MB} MB`,
        actual: `${haven.peakMb.toFixed(0)} MB`,
        met: haven.peakMb < TARGET_PEAK_MB,
        ratio: haven.peakMb / TARGET_PEAK_MB,
      }],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
