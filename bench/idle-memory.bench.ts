// Idle memory: resident set of the Haven node process (PostgreSQL's processes
// not counted) after start-up and about 10 s idle; target under 150 MB.
import { type BenchDataDir, initializedDataDir, startHavenProcess } from './lib/haven.ts';
import { residentKb, runBenchmark, sleep } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const IDLE_SECONDS = 10;
const TARGET_MB = 150;

/** kB as /proc reports them (KiB) to decimal megabytes, the unit of the target. */
const megabytes = (kb: number) => (kb * 1024) / 1e6;

async function measureIdle(dataDir: BenchDataDir) {
  const haven = await startHavenProcess(dataDir);
  try {
    const atReady = residentKb(haven.pid);
    const samples: number[] = [];
    for (let s = 1; s <= IDLE_SECONDS; s++) {
      await sleep(1000);
      samples.push(residentKb(haven.pid));
    }
    process.stdout.write(`RSS each second while idle (MB): ${samples.map((kb) => megabytes(kb).toFixed(1)).join(' ')}\n`);
    return {
      atReady,
      afterIdle: samples.at(-1)!,
      anonymous: residentKb(haven.pid, 'RssAnon'),
      fileBacked: residentKb(haven.pid, 'RssFile'),
      peak: residentKb(haven.pid, 'VmHWM'),
    };
  } finally {
    await haven.stop();
  }
}

await runBenchmark(async () => {
  process.stdout.write('initializing a data dir (first start: initdb, migrations, secrets)…\n');
  const dataDir = await initializedDataDir();
  const rss = await measureIdle(dataDir);
  const afterIdle = megabytes(rss.afterIdle);
  emitResult({
    name: 'Idle memory of the Haven process',
    issue: 'platform foundation',
    metrics: [
      { label: 'RSS when /readyz first answers 200', value: megabytes(rss.atReady), unit: 'MB' },
      { label: `RSS after ${IDLE_SECONDS} s idle`, value: afterIdle, unit: 'MB' },
      { label: 'RSS after idle, of which anonymous (JavaScript heap, compiled code, buffers)', value: megabytes(rss.anonymous), unit: 'MB' },
      { label: 'RSS after idle, of which file-backed (node binary, native add-ons; shared, reclaimable)', value: megabytes(rss.fileBacked), unit: 'MB' },
      { label: 'peak RSS since start (VmHWM)', value: megabytes(rss.peak), unit: 'MB' },
    ],
    targets: [{
      label: `RSS of the node process after start-up and ${IDLE_SECONDS} s idle (serve with workers, without PostgreSQL)`,
      target: `< ${TARGET_MB} MB`,
      actual: `${afterIdle.toFixed(1)} MB`,
      met: afterIdle < TARGET_MB,
      ratio: afterIdle / TARGET_MB,
    }],
  });
});
