// 500 simulated viewers on loopback for 60 s (issue 6): each starts playback
// (GET /playback), reads the master and media playlists, fetches the key,
// then plays — one segment per second, twice real time for 2 s segments —
// from the shared segment path, looping over the video, and refetches the
// playlist and key every 20 s as a player that seeks or switches would.
// Target: zero errors. Reports the request rate and latency percentiles.
import { playableVideo } from './lib/playback.ts';
import { percentile } from './lib/identity.ts';
import { runBenchmark, sleep } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const VIEWERS = 500;
const SECONDS = 60;
const SEGMENT_INTERVAL_MS = 1000;

interface Tally { requests: number; errors: number; firstErrors: string[]; latencies: number[]; byKind: Record<string, number> }

await runBenchmark(async () => {
  process.stdout.write('starting Haven and transcoding a clip…\n');
  const v = await playableVideo();
  const base = v.haven.url;
  const tally: Tally = { requests: 0, errors: 0, firstErrors: [], latencies: [], byKind: {} };

  async function request(kind: string, url: string): Promise<Response | undefined> {
    const started = performance.now();
    try {
      const res = await fetch(url);
      await res.clone().arrayBuffer();
      tally.requests += 1;
      tally.byKind[kind] = (tally.byKind[kind] ?? 0) + 1;
      tally.latencies.push(performance.now() - started);
      if (res.status !== 200) {
        tally.errors += 1;
        if (tally.firstErrors.length < 5) tally.firstErrors.push(`${kind} ${res.status} ${(await res.text()).slice(0, 200)}`);
        return undefined;
      }
      return res;
    } catch (err) {
      tally.requests += 1;
      tally.errors += 1;
      if (tally.firstErrors.length < 5) tally.firstErrors.push(`${kind} ${(err as Error).message}`);
      return undefined;
    }
  }

  async function viewer(until: number): Promise<void> {
    await sleep(Math.random() * 5000); // viewers arrive over the first 5 s
    const start = await request('playback', `${base}/api/v1/videos/${v.videoId}/playback`);
    if (!start) return;
    const { url } = await start.json() as { url: string };
    const masterUrl = new URL(url, base);
    const master = await (await request('master', masterUrl.href))?.text();
    if (!master) return;
    const renditionUrl = new URL(master.split('\n').find((l) => l && !l.startsWith('#'))!, masterUrl);
    let segments: URL[] = [];
    let refreshedAt = 0;
    for (let i = 0; Date.now() < until; i++) {
      if (Date.now() - refreshedAt > 20_000) {
        const playlist = await (await request('playlist', renditionUrl.href))?.text();
        if (!playlist) return;
        segments = playlist.split('\n').filter((l) => l && !l.startsWith('#')).map((s) => new URL(s, renditionUrl));
        const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
        await request('init', new URL(init, renditionUrl).href);
        await request('key', new URL('../key', renditionUrl).href);
        refreshedAt = Date.now();
      }
      await request('segment', segments[i % segments.length]!.href);
      await sleep(SEGMENT_INTERVAL_MS);
    }
  }

  const startedAt = Date.now();
  const until = startedAt + SECONDS * 1000;
  await Promise.all(Array.from({ length: VIEWERS }, () => viewer(until)));
  const elapsed = (Date.now() - startedAt) / 1000;
  const rate = tally.requests / elapsed;
  for (const e of tally.firstErrors) process.stdout.write(`error: ${e}\n`);
  process.stdout.write(`requests by kind: ${JSON.stringify(tally.byKind)}\n`);
  emitResult({
    name: 'playback soak: 500 viewers for 60 s',
    issue: 'issue 6: playback',
    metrics: [
      { label: 'viewers', value: VIEWERS, unit: '' },
      { label: 'requests', value: tally.requests, unit: '' },
      { label: 'request rate', value: rate, unit: 'req/s' },
      { label: 'errors (non-200 or failed)', value: tally.errors, unit: '' },
      { label: 'latency p50', value: percentile(tally.latencies, 50), unit: 'ms' },
      { label: 'latency p99', value: percentile(tally.latencies, 99), unit: 'ms' },
    ],
    targets: [{ label: 'errors over the soak', target: '0', actual: String(tally.errors), met: tally.errors === 0 && tally.requests > VIEWERS * 10 }],
  });
  await v.haven.stop();
});
