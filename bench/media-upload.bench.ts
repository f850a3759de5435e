// Upload throughput (issue 5): a 1 GiB file of random bytes sent with the
// tus client to a Haven started as an operator starts it, against `cp` of the
// same file on the same disk. Target: tus throughput ≥ 0.5 of cp's. Runs
// alternate; medians count. (Random bytes are not a video: each upload then
// fails validation, which also clears it from staging before the next run.)
//
// A third figure shows the floor any HTTP upload has here: the same file
// streamed over loopback HTTP into a file by a bare Node.js server (no tus,
// no Haven). cp copies inside the kernel, from the page cache; an upload
// cannot, so the share of that floor which Haven keeps is printed too.
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { initializedDataDir } from './lib/haven.ts';
import { runHavenCli, type SignedIn, signIn, startConfiguredHaven } from './lib/identity.ts';
import { runBenchmark, sleep, terminate, track } from './lib/processes.ts';
import { emitResult, median } from './lib/result.ts';

const SIZE = 1024 ** 3;
const RUNS = 3;
const TARGET = 0.5;
const PASSWORD = 'correct horse battery staple';

async function writeRandomFile(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  try {
    for (let written = 0; written < SIZE; written += chunk.length) await handle.write(randomFillSync(chunk));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function timedCopy(from: string, to: string): number {
  const started = performance.now();
  const r = spawnSync('cp', [from, to]);
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
  return performance.now() - started;
}

async function timedUpload(url: string, session: SignedIn, file: string): Promise<{ ms: number; videoId: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let videoId = '';
    new Upload(createReadStream(file), {
      endpoint: `${url}/api/v1/uploads`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      metadata: { filename: 'random.bin' },
      onAfterResponse: (_req, res) => { videoId ||= res.getHeader('Haven-Video-Id') ?? ''; },
      onSuccess: () => resolve({ ms: performance.now() - started, videoId }),
      onError: reject,
    }).start();
  });
}

const BARE_SERVER = `
const { createServer } = require('node:http');
const { createWriteStream } = require('node:fs');
const { pipeline } = require('node:stream/promises');
const server = createServer(async (req, res) => {
  await pipeline(req, createWriteStream(process.argv[1]));
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;

/** A bare HTTP server in its own process, as Haven is: the floor of an upload over loopback. */
async function startBareServer(target: string): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => terminate(child, 5000);
  track({ stop });
  const port = await new Promise<number>((resolve) => createInterface({ input: child.stdout! }).on('line', (l) => { const m = /^listening (\d+)$/.exec(l); if (m) resolve(Number(m[1])); }));
  return { port, stop };
}

function timedBareUpload(port: number, file: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/', headers: { 'content-length': SIZE } }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

/** The upload is not media: wait for validation to fail it (and clear staging) before the next run. */
async function settled(url: string, session: SignedIn, videoId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const video = await (await fetch(`${url}/api/v1/videos/${videoId}`, { headers: { cookie: session.cookie } })).json() as { status: string };
    if (video.status === 'failed' || video.status === 'ready') return;
    await sleep(100);
  }
  throw new Error(`video ${videoId} never settled`);
}

await runBenchmark(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haven-bench-upload-'));
  track({ stop: () => rm(dir, { recursive: true, force: true }) });
  const source = join(dir, 'random.bin');
  process.stdout.write('writing 1 GiB of random bytes…\n');
  await writeRandomFile(source);

  const haven = await startConfiguredHaven(await initializedDataDir(), {});
  await runHavenCli(haven, ['setup', '--tenant', 'Bench', '--admin-email', 'bench@media.test', '--admin-password', PASSWORD]);
  const session = await signIn(haven.url, 'bench@media.test', PASSWORD);

  const copy = join(dir, 'copy.bin');
  const bare = await startBareServer(copy);
  const copies: number[] = [];
  const bareUploads: number[] = [];
  const uploads: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    copies.push(timedCopy(source, copy));
    await rm(copy);
    bareUploads.push(await timedBareUpload(bare.port, source));
    await rm(copy);
    const upload = await timedUpload(haven.url, session, source);
    uploads.push(upload.ms);
    await settled(haven.url, session, upload.videoId);
    process.stdout.write(`run ${i}: cp ${(copies.at(-1)! / 1000).toFixed(2)} s, bare HTTP ${(bareUploads.at(-1)! / 1000).toFixed(2)} s, tus upload to Haven ${(upload.ms / 1000).toFixed(2)} s\n`);
  }
  await bare.stop();
  await haven.stop();

  const mib = SIZE / 1024 ** 2;
  const cpRate = mib / (median(copies) / 1000);
  const bareRate = mib / (median(bareUploads) / 1000);
  const tusRate = mib / (median(uploads) / 1000);
  const ratio = tusRate / cpRate;
  emitResult({
    name: 'media upload: 1 GiB over tus vs cp on the same disk',
    issue: '#5',
    metrics: [
      { label: 'cp', value: cpRate, unit: 'MiB/s' },
      { label: 'bare HTTP upload (Node.js client → Node.js server → file)', value: bareRate, unit: 'MiB/s' },
      { label: 'tus upload (tus-js-client → Haven → staging)', value: tusRate, unit: 'MiB/s' },
      { label: 'tus upload as a share of the bare HTTP upload', value: tusRate / bareRate, unit: '' },
      { label: 'runs (medians)', value: RUNS, unit: '' },
    ],
    targets: [{ label: 'tus throughput as a share of cp', target: `≥ ${TARGET}`, actual: ratio.toFixed(2), met: ratio >= TARGET, ratio: ratio / TARGET }],
  });
});
