// Processing time of a 60 s 1080p clip (issue 5), on a Haven started as an
// operator starts it. Clock from "upload complete" (the tus client's last
// response) until the video is ready, against the reference: one raw ffmpeg
// command producing the same ladder with the same encoder settings, plus the
// same AES-128 encryption of its segments (ffmpeg 5.1 cannot encrypt fMP4
// HLS itself). Targets: pipeline ÷ reference ≤ 1.15; the first playable
// rendition within 15 % of the full time. Runs alternate; medians count.
// CPU time (user + system of every process involved) is reported beside
// the wall-clock figures: on a shared machine it is the steadier measure.
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { encryptSegment, planLadder, probe, rungsOf, runTool } from '../src/platform/ffmpeg/index.ts';
import { transcodeArgs } from '../src/platform/ffmpeg/transcode.ts';
import { initializedDataDir } from './lib/haven.ts';
import { runHavenCli, type SignedIn, signIn, startConfiguredHaven } from './lib/identity.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult, median } from './lib/result.ts';

// MEDIA_LADDER_RUNS shortens a run while iterating; the recorded figures use 3.
const RUNS = Number(process.env.MEDIA_LADDER_RUNS) || 3;
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds of a process and of its children it has reaped (ffmpeg runs, for both Haven and this script). */
function cpuSeconds(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}
const RATIO_TARGET = 1.15;
const FIRST_PLAYABLE_TARGET = 0.15;
const PASSWORD = 'correct horse battery staple';

async function makeSourceClip(dir: string): Promise<string> {
  const file = join(dir, 'clip-1080p-60s.mp4');
  process.stdout.write('generating a 60 s 1080p test clip…\n');
  await runTool('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=60',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=60', '-c:v', 'libx264', '-preset', 'superfast', '-b:v', '6M', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-shortest', file,
  ], { timeoutMs: 15 * 60_000 });
  return file;
}

/** One ffmpeg run for the whole ladder, then every segment encrypted as the pipeline encrypts it. */
async function reference(clip: string, dir: string): Promise<{ ms: number; cpu: number }> {
  const summary = await probe(clip);
  const cpuBefore = cpuSeconds('self');
  const outputDir = join(dir, `reference-${randomBytes(4).toString('hex')}`);
  const rungs = rungsOf(planLadder(summary));
  for (const rung of rungs) await mkdir(join(outputDir, rung.name), { recursive: true });
  const started = performance.now();
  await runTool('ffmpeg', transcodeArgs({ input: clip, outputDir, rungs, hasAudio: true, preset: 'veryfast', sourceShortSide: 1080 }), { timeoutMs: 30 * 60_000 });
  const key = randomBytes(16);
  for (const rung of rungs) {
    const iv = randomBytes(16);
    for (const file of (await readdir(join(outputDir, rung.name))).filter((f) => f.endsWith('.m4s'))) {
      const path = join(outputDir, rung.name, file);
      await writeFile(`${path}.enc`, encryptSegment(await readFile(path), key, iv));
    }
  }
  const ms = performance.now() - started;
  const cpu = cpuSeconds('self') - cpuBefore;
  await rm(outputDir, { recursive: true, force: true });
  return { ms, cpu };
}

interface PipelineRun { readyMs: number; firstPlayableMs: number; cpu: number }

async function pipeline(url: string, havenPid: number, session: SignedIn, clip: string): Promise<PipelineRun> {
  const { videoId, completedAt } = await new Promise<{ videoId: string; completedAt: number }>((resolve, reject) => {
    let videoId = '';
    const upload = new Upload(createReadStream(clip), {
      endpoint: `${url}/api/v1/uploads`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      metadata: { filename: 'clip-1080p-60s.mp4' },
      onAfterResponse: (_req, res) => { videoId ||= res.getHeader('Haven-Video-Id') ?? ''; },
      onSuccess: () => resolve({ videoId, completedAt: performance.now() }),
      onError: reject,
    });
    upload.start();
  });
  const cpuBefore = cpuSeconds(havenPid);
  let firstPlayable = 0;
  for (;;) {
    const res = await fetch(`${url}/api/v1/videos/${videoId}`, { headers: { cookie: session.cookie } });
    const video = await res.json() as { status: string; playable: boolean; error: unknown };
    const now = performance.now();
    if (video.playable && !firstPlayable) {
      firstPlayable = now;
      await assertPlays(url, session, videoId);
    }
    if (video.status === 'ready') return { readyMs: now - completedAt, firstPlayableMs: firstPlayable - completedAt, cpu: cpuSeconds(havenPid) - cpuBefore };
    if (video.status === 'failed') throw new Error(`the video failed: ${JSON.stringify(video.error)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** At first playable, a player gets the master playlist, a media playlist, the key and the first segment (not timed). */
async function assertPlays(url: string, session: SignedIn, videoId: string): Promise<void> {
  const fetchOk = async (target: URL, headers: Record<string, string> = {}) => {
    const res = await fetch(target, { headers });
    if (!res.ok) throw new Error(`first playable, but ${target.pathname} answered ${res.status}`);
    return res;
  };
  const playback = await (await fetchOk(new URL(`/api/v1/videos/${videoId}/playback`, url), { cookie: session.cookie })).json() as { url: string };
  const master = new URL(playback.url, url);
  const playlistUrl = new URL((await (await fetchOk(master)).text()).split('\n').find((l) => l && !l.startsWith('#'))!, master);
  const playlist = await (await fetchOk(playlistUrl)).text();
  await fetchOk(new URL(/URI="([^"]+)",IV=/.exec(playlist)![1]!, playlistUrl));
  await fetchOk(new URL(playlist.split('\n').find((l) => l && !l.startsWith('#'))!, playlistUrl));
}

await runBenchmark(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haven-bench-media-'));
  track({ stop: () => rm(dir, { recursive: true, force: true }) });
  const clip = await makeSourceClip(dir);
  const haven = await startConfiguredHaven(await initializedDataDir(), {});
  await runHavenCli(haven, ['setup', '--tenant', 'Bench', '--admin-email', 'bench@media.test', '--admin-password', PASSWORD]);
  const session = await signIn(haven.url, 'bench@media.test', PASSWORD);

  const references: { ms: number; cpu: number }[] = [];
  const runs: PipelineRun[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const r = await reference(clip, dir);
    references.push(r);
    process.stdout.write(`run ${i}: reference ${(r.ms / 1000).toFixed(1)} s (${r.cpu.toFixed(1)} s CPU)\n`);
    const p = await pipeline(haven.url, haven.pid, session, clip);
    runs.push(p);
    process.stdout.write(`run ${i}: Haven ready after ${(p.readyMs / 1000).toFixed(1)} s (${p.cpu.toFixed(1)} s CPU), first playable after ${(p.firstPlayableMs / 1000).toFixed(1)} s\n`);
  }
  await haven.stop();

  const ref = median(references.map((r) => r.ms));
  const refCpu = median(references.map((r) => r.cpu));
  const cpu = median(runs.map((r) => r.cpu));
  const ready = median(runs.map((r) => r.readyMs));
  const first = median(runs.map((r) => r.firstPlayableMs));
  const ratio = ready / ref;
  const share = first / ready;
  emitResult({
    name: 'media ladder: upload complete → ready, 60 s 1080p clip',
    issue: '#5',
    metrics: [
      { label: 'reference: one ffmpeg command + segment encryption', value: ref / 1000, unit: 's' },
      { label: 'Haven: upload complete → ready', value: ready / 1000, unit: 's' },
      { label: 'Haven: upload complete → first playable', value: first / 1000, unit: 's' },
      { label: 'reference CPU time (user + system)', value: refCpu, unit: 's' },
      { label: 'Haven CPU time, its ffmpeg runs included', value: cpu, unit: 's' },
      { label: 'CPU ratio Haven ÷ reference', value: cpu / refCpu, unit: '' },
      { label: 'runs (medians)', value: RUNS, unit: '' },
    ],
    targets: [
      { label: 'full ladder vs one raw ffmpeg command', target: `≤ ${RATIO_TARGET}`, actual: ratio.toFixed(2), met: ratio <= RATIO_TARGET, ratio: ratio / RATIO_TARGET },
      { label: 'first playable as share of the full ladder time', target: `≤ ${FIRST_PLAYABLE_TARGET * 100} %`, actual: `${(share * 100).toFixed(1)} %`, met: share <= FIRST_PLAYABLE_TARGET, ratio: share / FIRST_PLAYABLE_TARGET },
    ],
  });
});
