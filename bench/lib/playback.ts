// What the playback benches share: a Haven started as an operator starts it
// (with the bench's settings), one tenant with a real clip uploaded through
// tus and transcoded, made public and published, and a viewer's playback
// token for it; plus nginx, run unprivileged from a temp prefix.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { type BenchDataDir, initializedDataDir } from './haven.ts';
import { type ConfiguredHaven, callApi, runHavenCli, type SignedIn, signIn, startConfiguredHaven } from './identity.ts';
import { exited, freePort, sleep, terminate, track } from './processes.ts';

const PASSWORD = 'correct horse battery staple';
/** Many simulated viewers share one loopback address; the per-address limit would refuse them. */
export const BENCH_SETTINGS = { HAVEN_RATE_LIMIT_PER_MINUTE: '1000000', HAVEN_LOG_LEVEL: 'warn' };

export interface PlayableVideo {
  haven: ConfiguredHaven;
  dataDir: BenchDataDir;
  session: SignedIn;
  tenantId: string;
  videoId: string;
  /** An anonymous viewer's playback (GET /api/v1/videos/{id}/playback). */
  playback: { url: string; token: string };
  /** Where the fs driver keeps the video's first rendition. */
  renditionDir: string;
  rendition: string;
}

export async function playableVideo(settings: Record<string, string> = {}): Promise<PlayableVideo> {
  const dataDir = await initializedDataDir();
  const haven = await startConfiguredHaven(dataDir, { ...BENCH_SETTINGS, ...settings });
  await runHavenCli(haven, ['setup', '--tenant', 'Bench', '--admin-email', 'bench@playback.test', '--admin-password', PASSWORD]);
  const session = await signIn(haven.url, 'bench@playback.test', PASSWORD);
  const tenant = await callApi(haven.url, session, 'GET', '/api/v1/tenant') as { id: string };
  const clip = makeClip();
  const videoId = await new Promise<string>((resolve, reject) => {
    let id = '';
    const upload = new Upload(readFileSync(clip), {
      endpoint: `${haven.url}/api/v1/uploads`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      metadata: { filename: 'bench.mov', title: 'Bench clip' },
      onAfterResponse: (_req, res) => { id ||= res.getHeader('Haven-Video-Id') ?? ''; },
      onSuccess: () => resolve(id),
      onError: reject,
    });
    upload.start();
  });
  for (const deadline = Date.now() + 120_000; ; await sleep(200)) {
    const video = await callApi(haven.url, session, 'GET', `/api/v1/videos/${videoId}`) as { status: string; error: unknown };
    if (video.status === 'ready') break;
    if (video.status === 'failed' || Date.now() > deadline) throw new Error(`bench clip did not become ready: ${JSON.stringify(video)}`);
  }
  await callApi(haven.url, session, 'PATCH', `/api/v1/videos/${videoId}`, { publishState: 'published' });
  await callApi(haven.url, session, 'PUT', `/api/v1/videos/${videoId}/access`, { audiences: [{ type: 'public' }], conditions: {} });
  const playback = await viewerPlayback(haven.url, videoId);
  const master = await (await fetch(`${haven.url}${playback.url}`)).text();
  const rendition = master.split('\n').find((l) => l && !l.startsWith('#'))!.split('/')[0]!;
  const renditionDir = join(dataDir.path, 'storage', 'default', 't', tenant.id, 'v', videoId, 'hls', rendition);
  return { haven, dataDir, session, tenantId: tenant.id, videoId, playback, renditionDir, rendition };
}

export async function viewerPlayback(url: string, videoId: string): Promise<{ url: string; token: string }> {
  const res = await fetch(`${url}/api/v1/videos/${videoId}/playback`);
  const body = await res.json() as { url: string; token: string };
  if (res.status !== 200) throw new Error(`playback answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

function makeClip(): string {
  const dir = mkdtempSync(join(tmpdir(), 'haven-bench-clip-'));
  track({ stop: async () => rmSync(dir, { recursive: true, force: true }) });
  const file = join(dir, 'bench.mov');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=8',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=8', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return file;
}

export interface Nginx { url: string; pid: number; stop(): Promise<void> }

/** nginx in the foreground from a temp prefix; `server` is the body of one server block, `http` more of the http block (upstreams). */
export async function startNginx(server: (port: number) => string, workers = 1, http = ''): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'haven-bench-nginx-'));
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, `
worker_processes ${workers};
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
${http}
  server {
    listen 127.0.0.1:${port};
${server(port)}
  }
}
`);
  const child = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const stop = async () => {
    await terminate(child, 5000);
    rmSync(prefix, { recursive: true, force: true });
  };
  track({ stop });
  for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen: ${stderr}`);
    }
  }
  void exited(child);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}
