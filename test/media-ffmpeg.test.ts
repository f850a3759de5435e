// The ffmpeg layer on real ffmpeg/ffprobe with generated media: probing and
// its refusals, validation, the ladder, transcoding (aligned keyframes, no
// metadata), images, HLS encryption, and the supervision of child processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  decryptSegment, encryptSegment, fitWidth, isProblem, keyTagOf, MediaRejected, parseMediaPlaylist, planLadder, poster, probe, renderMasterPlaylist,
  renderMediaPlaylist, reniceTool, runTool, rungsOf, storyboard, storyboardLayout, thumbnails, ToolError, transcodeRenditions, validateProbe, type ProbeSummary,
} from '../src/platform/ffmpeg/index.ts';
import { progressParser, type ToolProgress } from '../src/platform/ffmpeg/process.ts';
import { makeAudioOnly, makeClip, makeHugeDeclaredVideo, makeOnePixelVideo, makeTextFile, makeThousandFps, makeTruncatedMp4 } from './fixtures/media-clips.ts';

let dir: string;
let clip: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'haven-ffmpeg-'));
  clip = makeClip(dir, 'tagged', { metadata: { location: '+59.3293+018.0686/', make: 'HavenTestCam', model: 'Model-X9', 'com.apple.quicktime.make': 'HavenTestCam' } });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const rejects = (code: string) => (err: unknown) => err instanceof MediaRejected && err.code === code && err.message.length > 10;

function summary(overrides: Partial<ProbeSummary> & { video?: Record<string, unknown> | null; audio?: Record<string, unknown> | null } = {}): ProbeSummary {
  const { video, audio, ...rest } = overrides;
  const streams = [
    ...(video === null ? [] : [{ index: 0, type: 'video' as const, codec: 'h264', width: 1920, height: 1080, displayWidth: 1920, displayHeight: 1080, fps: 30, rotation: 0, attachedPicture: false, ...video }]),
    ...(audio === null ? [] : [{ index: 1, type: 'audio' as const, codec: 'aac', rotation: 0, attachedPicture: false, channels: 2, sampleRate: 48000, ...audio }]),
  ];
  return { container: 'mov,mp4,m4a,3gp,3g2,mj2', durationMs: 60_000, sizeBytes: 40_000_000, bitRate: 5_000_000, streams, chapters: 0, tagKeys: [], ...rest } as ProbeSummary;
}

describe('probe', () => {
  test('summarizes streams and keeps metadata keys, never their values', async () => {
    const s = await probe(clip);
    assert.match(s.container, /mov/);
    assert.ok(Math.abs(s.durationMs! - 4000) < 100, `duration ${s.durationMs}`);
    const video = s.streams.find((x) => x.type === 'video')!;
    assert.deepEqual([video.codec, video.width, video.height, video.fps, video.rotation], ['h264', 320, 240, 25, 0]);
    assert.ok(s.streams.some((x) => x.type === 'audio' && x.codec === 'aac'));
    for (const key of ['location', 'make', 'model', 'com.apple.quicktime.make']) assert.ok(s.tagKeys.includes(key), `${key} in ${s.tagKeys}`);
    const text = JSON.stringify(s);
    for (const value of ['HavenTestCam', 'Model-X9', '59.3293']) assert.ok(!text.includes(value), `${value} must not be kept`);
  });

  test('refuses what is not media, cut short, or empty, with a reason', async () => {
    await assert.rejects(probe(makeTextFile(dir)), rejects('not_media'));
    await assert.rejects(probe(makeTruncatedMp4(dir)), rejects('truncated'));
    const empty = join(dir, 'empty.mp4');
    spawnSync('truncate', ['-s', '0', empty]);
    await assert.rejects(probe(empty), (err) => rejects('not_media')(err) && /empty/.test((err as Error).message));
  });
});

describe('validateProbe', () => {
  test('real files: a tiny, a huge and a too fast picture are refused; sound alone is audio', async () => {
    const verdict = async (file: string) => {
      const result = validateProbe(await probe(file));
      return isProblem(result) ? result.code : result.kind;
    };
    assert.equal(await verdict(clip), 'video');
    assert.equal(await verdict(makeOnePixelVideo(dir)), 'resolution_too_small');
    assert.equal(await verdict(makeHugeDeclaredVideo(dir)), 'resolution_too_large');
    assert.equal(await verdict(makeThousandFps(dir)), 'frame_rate_invalid');
    assert.equal(await verdict(makeAudioOnly(dir)), 'audio');
  });

  test('every problem has its code and a sentence', () => {
    const cases: [ProbeSummary, string][] = [
      [summary({ video: null, audio: null, streams: [{ index: 0, type: 'subtitle', codec: 'mov_text', rotation: 0, attachedPicture: false }] }), 'no_video_stream'],
      [summary({ durationMs: 5 * 3600_000 }), 'duration_too_long'],
      [summary({ video: { codec: 'unknown' } }), 'unsupported_codec'],
      [summary({ video: { displayWidth: 12000, displayHeight: 6000 } }), 'resolution_too_large'],
      [summary({ video: { fps: undefined } }), 'frame_rate_invalid'],
      [summary({ durationMs: 40 }), 'not_media'],
      // 8K at 120 fps for an hour in 100 kB: decodes to 10^8 pixels per stored byte.
      [summary({ durationMs: 3600_000, sizeBytes: 100_000, video: { displayWidth: 7680, displayHeight: 4320, fps: 120 } }), 'decompression_bomb'],
    ];
    for (const [input, code] of cases) {
      const result = validateProbe(input);
      assert.ok(isProblem(result), `${code}: got ${JSON.stringify(result)}`);
      assert.equal(result.code, code);
      assert.ok(result.message.length > 20, result.message);
    }
    assert.deepEqual(validateProbe(summary()), { kind: 'video' });
    assert.equal((validateProbe(summary({ durationMs: 5 * 60_000 }), { ...defaults(), maxDurationSeconds: 60 }) as { code: string }).code, 'duration_too_long');
  });
});

function defaults() {
  return { maxDurationSeconds: 14400, maxDimension: 8192, maxPixels: 8192 * 4320, minDimension: 16, maxFps: 240, maxPixelsPerByte: 1e6 };
}

describe('planLadder', () => {
  const shape = (s: ProbeSummary) => rungsOf(planLadder(s)).map((r) => (r.kind === 'video' ? `${r.name}:${r.width}x${r.height}` : r.name));

  test('standard rungs up to the source, never above, lowest first, audio last', () => {
    assert.deepEqual(shape(summary()), ['240p:426x240', '360p:640x360', '480p:854x480', '720p:1280x720', '1080p:1920x1080', 'audio']);
    assert.deepEqual(shape(summary({ video: { displayWidth: 1280, displayHeight: 720 } })), ['240p:426x240', '360p:640x360', '480p:854x480', '720p:1280x720', 'audio']);
    assert.deepEqual(shape(summary({ video: { displayWidth: 320, displayHeight: 240 }, audio: null })), ['240p:320x240']);
  });

  test('keeps the shape: portrait, 4:3, and sources below the lowest rung', () => {
    assert.deepEqual(shape(summary({ video: { displayWidth: 1080, displayHeight: 1920 }, audio: null })), ['240p:240x426', '360p:360x640', '480p:480x854', '720p:720x1280', '1080p:1080x1920']);
    assert.deepEqual(shape(summary({ video: { displayWidth: 640, displayHeight: 480 }, audio: null })), ['240p:320x240', '360p:480x360', '480p:640x480']);
    assert.deepEqual(shape(summary({ video: { displayWidth: 201, displayHeight: 151 }, audio: null })), ['151p:202x152']);
  });

  test('bitrates follow the HLS authoring figures, raised above 30 fps, capped at 60 fps', () => {
    const at30 = planLadder(summary()).video;
    assert.deepEqual(at30.map((r) => r.videoBitrate / 1000), [300, 600, 1100, 3000, 6000]);
    const at60 = planLadder(summary({ video: { fps: 120 } })).video;
    assert.deepEqual(at60.map((r) => r.videoBitrate / 1000), [450, 900, 1650, 4500, 9000]);
    assert.ok(at60.every((r) => r.fps === 60 && r.capFps));
    assert.ok(at30.every((r) => r.maxRate > r.videoBitrate && r.width % 2 === 0 && r.height % 2 === 0));
  });
});

describe('transcodeRenditions', () => {
  test('fMP4 HLS with keyframes every 2 s in every rendition, and no trace of the source metadata', async () => {
    const out = join(dir, 'hls');
    const source = makeClip(dir, 'ladder', { width: 640, height: 360, seconds: 4, fps: 30, gop: 90, metadata: { location: '+59.3293+018.0686/', make: 'HavenTestCam', model: 'Model-X9' } });
    const s = await probe(source);
    const progress: number[] = [];
    const layout = storyboardLayout(s.durationMs!, { width: 160, height: 90 });
    const outputs = await transcodeRenditions({
      input: source, outputDir: out, rungs: rungsOf(planLadder(s)), hasAudio: true, durationMs: s.durationMs!, preset: 'ultrafast', onProgress: (f) => progress.push(f),
      stills: [{ file: join(out, 'poster.jpg'), atSeconds: 1.5, size: { width: 640, height: 360 } }, { file: join(out, 'thumb.jpg'), atSeconds: 3, size: { width: 320, height: 180 } }],
      storyboard: { file: join(out, 'sprite.jpg'), layout },
    });
    assert.deepEqual(outputs.map((o) => o.name), ['240p', '360p', 'audio']);
    assert.equal(progress.at(-1), 1);
    // Stills and the storyboard come from the same decode as the renditions.
    assert.deepEqual([dimensions(join(out, 'poster.jpg')), dimensions(join(out, 'thumb.jpg')), dimensions(join(out, 'sprite.jpg'))], ['640x360', '320x180', '640x90']);
    for (const o of outputs) {
      assert.equal(o.playlist.map, 'init.mp4');
      assert.deepEqual(o.playlist.segments.map((x) => x.uri).slice(0, 2), ['seg-00000.m4s', 'seg-00001.m4s']);
      const whole = join(o.dir, 'whole.mp4');
      spawnSync('sh', ['-c', `cat init.mp4 seg-*.m4s > whole.mp4`], { cwd: o.dir });
      const bytes = readFileSync(whole).toString('latin1');
      for (const value of ['HavenTestCam', 'Model-X9', '59.3293']) assert.ok(!bytes.includes(value), `${o.name} carries ${value}`);
      const tags = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format_tags:stream_tags', '-of', 'json', whole], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(tags, /location|make|model/i, tags);
      if (o.name === 'audio') continue;
      const frames = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', whole], { encoding: 'utf8' }).stdout;
      const keyframes = frames.split('\n').map((t) => Number.parseFloat(t)).filter((t) => !Number.isNaN(t));
      assert.deepEqual(keyframes.map((t) => t.toFixed(1)), ['0.0', '2.0'], `${o.name} keyframes`);
    }
  });
});

describe('images', () => {
  test('poster, thumbnails and a storyboard sprite with WebVTT #xywh cues', async () => {
    const size = fitWidth({ width: 320, height: 240 }, 160);
    assert.deepEqual(size, { width: 160, height: 120 });
    await poster(clip, join(dir, 'poster.jpg'), { atSeconds: 1, size: { width: 320, height: 240 } });
    assert.equal(dimensions(join(dir, 'poster.jpg')), '320x240');
    const thumbs = await thumbnails(clip, dir, { count: 3, durationMs: 4000, size });
    assert.deepEqual(thumbs.map(dimensions), ['160x120', '160x120', '160x120']);
    const layout = storyboardLayout(4000, size);
    assert.deepEqual([layout.interval, layout.tiles, layout.columns, layout.rows], [1, 4, 4, 1]);
    const vtt = await storyboard(clip, join(dir, 'sprite.jpg'), 'sprite.jpg', { durationMs: 4000, layout });
    assert.equal(dimensions(join(dir, 'sprite.jpg')), '640x120');
    assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.000\nsprite\.jpg#xywh=0,0,160,120\n/);
    assert.match(vtt, /00:00:03\.000 --> 00:00:04\.000\nsprite\.jpg#xywh=480,0,160,120\n/);
    const spriteTags = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', join(dir, 'poster.jpg')], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(spriteTags, /HavenTestCam|make/i);
  });
});

function dimensions(file: string): string {
  assert.ok(statSync(file).size > 500, `${file} has content`);
  return spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=width,height', '-of', 'csv=s=x:p=0', file], { encoding: 'utf8' }).stdout.trim();
}

describe('HLS encryption', () => {
  test('segments round-trip through AES-128-CBC; the playlist states the key URI and IV', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const plain = randomBytes(10_000);
    const cipher = encryptSegment(plain, key, iv);
    assert.equal(cipher.length, 10_016); // PKCS#7 pads to the next block
    assert.deepEqual(decryptSegment(cipher, key, iv), plain);
    assert.throws(() => decryptSegment(cipher, randomBytes(16), iv));

    const text = renderMediaPlaylist({ targetDuration: 2, map: 'init.mp4', segments: [{ uri: 'seg-00000.m4s', duration: 2 }, { uri: 'seg-00001.m4s', duration: 1.5 }] }, 'haven-key://video/v1', iv);
    assert.deepEqual(keyTagOf(text), { uri: 'haven-key://video/v1', iv });
    assert.ok(text.indexOf('#EXT-X-MAP') < text.indexOf('#EXT-X-KEY'), 'the init segment precedes the key: it stays in the clear');
    assert.deepEqual(parseMediaPlaylist(text).segments, [{ uri: 'seg-00000.m4s', duration: 2 }, { uri: 'seg-00001.m4s', duration: 1.5 }]);
    assert.match(text, /#EXT-X-ENDLIST\n$/);
    const master = renderMasterPlaylist([{ uri: '240p/index.m3u8', bandwidth: 400_000, averageBandwidth: 300_000, codecs: 'avc1.4d401e,mp4a.40.2', width: 426, height: 240, frameRate: 30 }]);
    assert.match(master, /#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=300000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=426x240,FRAME-RATE=30.000\n240p\/index.m3u8/);
  });
});

describe('supervised processes', () => {
  const endless = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=10', '-f', 'null', '-'];

  test('an abort kills the process group once progress is flowing', async () => {
    const controller = new AbortController();
    let pid = 0;
    const run = runTool('ffmpeg', endless, { signal: controller.signal, onStart: (p) => { pid = p; }, onProgress: (p) => { if (p.outTimeMs > 0) controller.abort(); } });
    await assert.rejects(run, (err) => err instanceof ToolError && err.code === 'tool_aborted');
    assert.ok(pid > 0);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the process is gone once the run settles');
  });

  test('a timeout kills it too; a failure reports exit code and stderr tail', async () => {
    await assert.rejects(runTool('ffmpeg', endless, { timeoutMs: 700 }), (err) => err instanceof ToolError && err.code === 'tool_timeout');
    await assert.rejects(runTool('ffmpeg', ['-hide_banner', '-i', join(dir, 'no-such-file.mp4'), '-f', 'null', '-']), (err) =>
      err instanceof ToolError && err.code === 'tool_failed' && err.exitCode !== 0 && /No such file/.test(err.stderrTail));
    await assert.rejects(runTool('ffmpeg-that-is-not-installed', []), (err) => err instanceof ToolError && (err.code === 'tool_missing' || err.code === 'tool_failed'));
  });

  test('a tool started at a lower priority runs at it in every thread, and can be given normal priority back', async () => {
    const controller = new AbortController();
    const niceOf = (tid: string | number, pid: number) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    let seen: number[] = [];
    let restored: number[] = [];
    let permitted = false;
    let pid = 0;
    const run = runTool('ffmpeg', endless, {
      signal: controller.signal, niceness: 10,
      onProgress: (p) => {
        if (p.outTimeMs <= 0 || controller.signal.aborted) return;
        const tasks = readdirSync(`/proc/${pid}/task`);
        seen = tasks.map((t) => niceOf(t, pid));
        permitted = reniceTool(pid, 0);
        restored = tasks.map((t) => niceOf(t, pid));
        controller.abort();
      },
      onStart: (p) => { pid = p; },
    });
    await assert.rejects(run, (err) => err instanceof ToolError && err.code === 'tool_aborted');
    assert.ok(seen.length > 0 && seen.every((n) => n === 10), `every thread at nice 10: ${seen}`);
    // Raising a priority back needs root or CAP_SYS_NICE; without it the tool keeps nice 10 and false says so.
    if (permitted) assert.ok(restored.every((n) => n === 0), `every thread back at 0: ${restored}`);
    else assert.ok(restored.every((n) => n === 10));
  });

  test('-progress blocks are parsed across arbitrary chunk boundaries', () => {
    const seen: ToolProgress[] = [];
    const feed = progressParser((p) => seen.push(p));
    const text = 'frame=10\nout_time_us=400000\nspeed=2.5x\nprogress=continue\nframe=25\nout_time_us=1000000\nspeed=3x\nprogress=end\n';
    for (let i = 0; i < text.length; i += 7) feed(text.slice(i, i + 7));
    assert.deepEqual(seen, [
      { outTimeMs: 400, frame: 10, speed: 2.5, done: false },
      { outTimeMs: 1000, frame: 25, speed: 3, done: true },
    ]);
  });
});
