// The two per-viewer requests a CDN cannot take off Haven (issue 6): the HLS
// key (token verified, grant rechecked against the policy, key from the
// in-memory cache) and the tokenized media playlist (token verified, stored
// playlist read and rewritten). autocannon, 50 connections, 10 s each after
// a warm-up. Target: ≥ 5,000 req/s each.
import { playableVideo } from './lib/playback.ts';
import { loadTest } from './lib/load.ts';
import { processCpuMs, runBenchmark } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const CONNECTIONS = 50;
const SECONDS = 10;
const TARGET = 5000;

await runBenchmark(async () => {
  process.stdout.write('starting Haven and transcoding a clip…\n');
  const v = await playableVideo();
  const keyUrl = `${v.haven.url}/play/${v.playback.token}/key`;
  const playlistUrl = `${v.haven.url}/play/${v.playback.token}/${v.rendition}/index.m3u8`;
  const measure = async (name: string, url: string) => {
    await loadTest(url, CONNECTIONS, 3);
    const cpu = processCpuMs(v.haven.pid);
    const r = await loadTest(url, CONNECTIONS, SECONDS);
    const cpuUs = ((processCpuMs(v.haven.pid) - cpu) * 1000) / Math.max(r.requests, 1);
    process.stdout.write(`${name}: ${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ${cpuUs.toFixed(0)} µs Haven CPU/request, ${r.failed} failed\n`);
    return { ...r, cpuUs };
  };
  const key = await measure('key', keyUrl);
  const playlist = await measure('media playlist', playlistUrl);
  emitResult({
    name: 'playback key and playlist throughput',
    issue: 'issue 6: playback',
    metrics: [
      { label: `key, ${CONNECTIONS} connections, ${SECONDS} s`, value: key.requestsPerSecond, unit: 'req/s' },
      { label: 'key p99 latency', value: key.p99Ms, unit: 'ms' },
      { label: 'key Haven CPU per request', value: key.cpuUs, unit: 'µs' },
      { label: 'key failed or non-2xx', value: key.failed, unit: '' },
      { label: `media playlist, ${CONNECTIONS} connections, ${SECONDS} s`, value: playlist.requestsPerSecond, unit: 'req/s' },
      { label: 'media playlist p99 latency', value: playlist.p99Ms, unit: 'ms' },
      { label: 'media playlist Haven CPU per request', value: playlist.cpuUs, unit: 'µs' },
      { label: 'media playlist failed or non-2xx', value: playlist.failed, unit: '' },
    ],
    targets: [
      { label: 'key endpoint req/s (all 2xx)', target: `≥ ${TARGET}`, actual: key.requestsPerSecond.toFixed(0), met: key.failed === 0 && key.requestsPerSecond >= TARGET, ratio: key.requestsPerSecond / TARGET },
      { label: 'tokenized media playlist req/s (all 2xx)', target: `≥ ${TARGET}`, actual: playlist.requestsPerSecond.toFixed(0), met: playlist.failed === 0 && playlist.requestsPerSecond >= TARGET, ratio: playlist.requestsPerSecond / TARGET },
    ],
  });
});
