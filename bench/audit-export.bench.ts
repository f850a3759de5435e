// Export of 1,000,000 audit entries as NDJSON by a Haven process, the way an
// administrator's download streams: throughput and the exporting process's
// peak resident memory (target < 200 MB). The export runs in a fresh process
// so the figure is not inflated by the seeding; it is measured once with
// Node's default heap settings (the target) and once with a 16 MB young
// generation (--max-semi-space-size=16), which is where the difference goes.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { seedFillerHistory, startStandaloneHaven } from '../test/helpers/audit.ts';
import { repoRoot } from './lib/haven.ts';
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

    const plain = runExport(standalone.env, script, []);
    const small = runExport(standalone.env, script, ['--max-semi-space-size=16']);
    for (const [label, run] of [['default heap', plain], ['--max-semi-space-size=16', small]] as const) {
      process.stdout.write(`${label}: ${run.lines} lines, ${(run.bytes / 1e6).toFixed(0)} MB in ${run.seconds.toFixed(1)} s, RSS ${run.rssBeforeMb.toFixed(0)} MB before, peak ${run.peakMb.toFixed(0)} MB\n`);
      if (run.lines < ENTRIES) throw new Error(`the export returned ${run.lines} lines`);
    }
    emitResult({
      name: 'Audit export (NDJSON)',
      issue: 'audit trail',
      metrics: [
        { label: 'entries exported', value: plain.lines, unit: 'entries' },
        { label: 'bytes exported', value: plain.bytes / 1e6, unit: 'MB' },
        { label: 'throughput', value: plain.bytes / 1e6 / plain.seconds, unit: 'MB/s' },
        { label: 'throughput', value: plain.lines / plain.seconds, unit: 'entries/s' },
        { label: 'exporting process RSS before the export', value: plain.rssBeforeMb, unit: 'MB' },
        { label: 'exporting process peak RSS (VmHWM), default heap', value: plain.peakMb, unit: 'MB' },
        { label: 'exporting process peak RSS, --max-semi-space-size=16', value: small.peakMb, unit: 'MB' },
        { label: 'throughput, --max-semi-space-size=16', value: small.bytes / 1e6 / small.seconds, unit: 'MB/s' },
      ],
      targets: [{
        label: `peak RSS of the process exporting ${ENTRIES.toLocaleString('en')} entries (default Node settings)`,
        target: `< ${TARGET_PEAK_MB} MB`,
        actual: `${plain.peakMb.toFixed(0)} MB`,
        met: plain.peakMb < TARGET_PEAK_MB,
        ratio: plain.peakMb / TARGET_PEAK_MB,
      }],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
