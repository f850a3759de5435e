// Segment delivery (issue 6): a 1 MB segment served by Haven — the token
// verified on every request — against nginx sending the same file with
// sendfile, 100 connections from autocannon. A third run puts nginx in front
// of Haven in X-Accel-Redirect mode (HAVEN_PLAYBACK_OFFLOAD): Haven checks
// the token, nginx sends the bytes — the proof that the offload works end to
// end. Targets: Haven ÷ nginx ≥ 0.5 req/s, Haven p99 ≤ 50 ms.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConfiguredHaven } from './lib/identity.ts';
import { type LoadResult, loadTest } from './lib/load.ts';
import { BENCH_SETTINGS, playableVideo, startNginx } from './lib/playback.ts';
import { processCpuMs, runBenchmark } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const CONNECTIONS = 100;
const SECONDS = 10;
const SEGMENT = 'seg-90000.m4s';

async function measure(name: string, url: string, pid: number): Promise<LoadResult & { cpuUs: number }> {
  await loadTest(url, CONNECTIONS, 3);
  const cpu = processCpuMs(pid);
  const r = await loadTest(url, CONNECTIONS, SECONDS);
  const cpuUs = ((processCpuMs(pid) - cpu) * 1000) / Math.max(r.requests, 1);
  process.stdout.write(`${name}: ${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ${cpuUs.toFixed(0)} µs CPU/request, ${r.failed} failed\n`);
  return { ...r, cpuUs };
}

await runBenchmark(async () => {
  process.stdout.write('starting Haven and transcoding a clip…\n');
  const v = await playableVideo();
  // A 1 MB stand-in for a high-rendition segment, in the rendition's own directory (segments are opaque ciphertext).
  writeFileSync(join(v.renditionDir, SEGMENT), randomBytes(1024 * 1024));
  const relative = `t/${v.tenantId}/v/${v.videoId}/hls/${v.rendition}/${SEGMENT}`;
  const storageRoot = join(v.dataDir.path, 'storage', 'default');
  const tokenQuery = `?token=${v.playback.token}`;
  const segmentPath = `/play/v/${v.videoId}/${v.rendition}/${SEGMENT}${tokenQuery}`;

  const check = await fetch(`${v.haven.url}${segmentPath}`);
  if (check.status !== 200 || (await check.arrayBuffer()).byteLength !== 1024 * 1024) throw new Error(`Haven answered ${check.status} for the segment`);

  const nginx = await startNginx(() => `    location / { root ${storageRoot}; }`);
  const reference = await measure('nginx sendfile', `${nginx.url}/${relative}`, nginx.pid);
  const haven = await measure('Haven', `${v.haven.url}${segmentPath}`, v.haven.pid);
  await nginx.stop();

  // Same data dir, restarted in offload mode, behind nginx.
  await v.haven.stop();
  const offloaded = await startConfiguredHaven(v.dataDir, { ...BENCH_SETTINGS, HAVEN_PLAYBACK_OFFLOAD: 'x-accel-redirect' });
  const front = await startNginx(() => `
    location /_haven_media/ { internal; alias ${join(v.dataDir.path, 'storage')}/; }
    location / { proxy_pass ${offloaded.url}; proxy_http_version 1.1; proxy_set_header Connection ""; }`);
  const viaProxy = await fetch(`${front.url}${segmentPath}`);
  const proxiedBytes = (await viaProxy.arrayBuffer()).byteLength;
  const forged = await fetch(`${front.url}/play/v/${v.videoId}/${v.rendition}/${SEGMENT}?token=${v.playback.token.slice(0, -2)}AA`);
  await forged.arrayBuffer();
  if (viaProxy.status !== 200 || proxiedBytes !== 1024 * 1024 || forged.status !== 403) {
    throw new Error(`X-Accel-Redirect end to end: ${viaProxy.status} with ${proxiedBytes} bytes, forged token ${forged.status}`);
  }
  process.stdout.write('X-Accel-Redirect end to end: nginx sent the 1 MB segment after Haven checked the token; a forged token got 403\n');
  const accel = await measure('nginx + Haven X-Accel-Redirect', `${front.url}${segmentPath}`, offloaded.pid);

  const ratio = haven.requestsPerSecond / reference.requestsPerSecond;
  const accelRatio = accel.requestsPerSecond / reference.requestsPerSecond;
  const allOk = haven.failed === 0 && reference.failed === 0;
  emitResult({
    name: 'playback segments (1 MB) vs nginx sendfile',
    issue: 'issue 6: playback',
    metrics: [
      { label: `Haven, ${CONNECTIONS} connections, ${SECONDS} s`, value: haven.requestsPerSecond, unit: 'req/s' },
      { label: 'Haven p99 latency', value: haven.p99Ms, unit: 'ms' },
      { label: 'Haven CPU per request', value: haven.cpuUs, unit: 'µs' },
      { label: 'Haven failed or non-2xx', value: haven.failed, unit: '' },
      { label: `nginx sendfile, ${CONNECTIONS} connections, ${SECONDS} s`, value: reference.requestsPerSecond, unit: 'req/s' },
      { label: 'nginx p99 latency', value: reference.p99Ms, unit: 'ms' },
      { label: 'nginx failed or non-2xx', value: reference.failed, unit: '' },
      { label: 'nginx + Haven X-Accel-Redirect', value: accel.requestsPerSecond, unit: 'req/s' },
      { label: 'nginx + Haven X-Accel-Redirect p99', value: accel.p99Ms, unit: 'ms' },
      { label: 'nginx + Haven X-Accel-Redirect failed', value: accel.failed, unit: '' },
      { label: 'ratio Haven / nginx', value: ratio, unit: '' },
      { label: 'ratio X-Accel-Redirect / nginx', value: accelRatio, unit: '' },
    ],
    targets: [
      { label: 'Haven segment req/s ÷ nginx sendfile req/s (all 2xx)', target: '≥ 0.5', actual: ratio.toFixed(2), met: allOk && ratio >= 0.5, ratio: ratio / 0.5 },
      { label: 'Haven segment p99 latency', target: '≤ 50 ms', actual: `${haven.p99Ms} ms`, met: haven.p99Ms <= 50, ratio: haven.p99Ms / 50 },
    ],
  });
  await front.stop();
  await offloaded.stop();
});
