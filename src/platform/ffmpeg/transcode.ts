// Renditions as fragmented-MP4 HLS, several from one ffmpeg run: the source
// is decoded once per run, and stills (poster, thumbnails) and a storyboard
// sprite can be taken from the same decoded frames. Keyframes sit exactly
// every SEGMENT_SECONDS in every rendition, so players can switch between
// them at any segment. Outputs carry no metadata from the source.
//
// ffmpeg 5.1 refuses to encrypt fMP4 HLS ("Encrypted fmp4 not yet
// supported"), so segments are written in the clear into the caller's
// private work directory and encrypted by hls.ts before they leave it.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanOutputArgs, jpegOutputArgs, stillFilter, storyboardFilter } from './args.ts';
import type { ImageSize, StoryboardLayout } from './images.ts';
import type { Rung, VideoRung } from './ladder.ts';
import { parseMediaPlaylist, type MediaPlaylist } from './hls.ts';
import { untrustedInputArgs } from './probe.ts';
import { runTool, type ToolProgress } from './process.ts';

export const SEGMENT_SECONDS = 2;

export interface StillRequest { file: string; atSeconds: number; size: ImageSize }
export interface StoryboardRequest { file: string; layout: StoryboardLayout }

export interface TranscodeInput {
  input: string;
  /** Each rung is written to `<outputDir>/<rung.name>/` (index.m3u8, init.mp4, seg-NNNNN.m4s). */
  outputDir: string;
  rungs: Rung[];
  /** The source has an audio stream to map into video rungs. */
  hasAudio: boolean;
  /** Source duration, for progress and the timeout. */
  durationMs: number;
  /** The source's shorter side in pixels, to pick the scaler (area for large reductions); bicubic without it. */
  sourceShortSide?: number;
  /** JPEG frames to take from this run's decode (each the first frame at or after atSeconds). */
  stills?: StillRequest[];
  /** A storyboard sprite from this run's decode. */
  storyboard?: StoryboardRequest;
  /** libx264 preset; veryfast unless the operator chooses otherwise. */
  preset?: string;
  signal?: AbortSignal;
  /** 0..1 of the source encoded so far. */
  onProgress?: (fraction: number) => void;
  timeoutMs?: number;
  /** Run ffmpeg at this nice value (process.ts); onStart gets its pid, e.g. to renice it later. */
  niceness?: number;
  onStart?: (pid: number) => void;
}

export interface RenditionOutput {
  name: string;
  dir: string;
  playlist: MediaPlaylist;
}

export async function transcodeRenditions(job: TranscodeInput): Promise<RenditionOutput[]> {
  for (const rung of job.rungs) await mkdir(join(job.outputDir, rung.name), { recursive: true });
  const onProgress = job.onProgress && ((p: ToolProgress) => job.onProgress!(p.done ? 1 : Math.min(1, p.outTimeMs / Math.max(job.durationMs, 1))));
  await runTool('ffmpeg', transcodeArgs(job), {
    signal: job.signal, onProgress, timeoutMs: job.timeoutMs ?? defaultTimeoutMs(job.durationMs, job.rungs.length), niceness: job.niceness, onStart: job.onStart,
  });
  return Promise.all(job.rungs.map(async (rung) => {
    const dir = join(job.outputDir, rung.name);
    return { name: rung.name, dir, playlist: parseMediaPlaylist(await readFile(join(dir, 'index.m3u8'), 'utf8')) };
  }));
}

/** One rendition on its own (the same encode as within a group). */
export async function transcodeRendition(job: Omit<TranscodeInput, 'rungs'> & { rung: Rung }): Promise<RenditionOutput> {
  const [output] = await transcodeRenditions({ ...job, rungs: [job.rung] });
  return output!;
}

/** Generous: catching a hung encoder, not a slow machine. */
export function defaultTimeoutMs(durationMs: number, rungs: number): number {
  return Math.min(23 * 3600_000, 120_000 + durationMs * 5 * Math.max(1, rungs));
}

/** The whole ffmpeg command line (without "ffmpeg"); the benchmark's reference run uses it too. */
export function transcodeArgs(job: Pick<TranscodeInput, 'input' | 'outputDir' | 'rungs' | 'hasAudio' | 'preset' | 'stills' | 'storyboard' | 'sourceShortSide'>): string[] {
  const videoRungs = job.rungs.filter((r): r is VideoRung => r.kind === 'video');
  const stills = job.stills ?? [];
  const branches = [
    ...videoRungs.map((r) => `scale=${r.width}:${r.height}:flags=${scaler(r, job.sourceShortSide)},setsar=1`),
    ...stills.map((s) => stillFilter(s.atSeconds, s.size)),
    ...(job.storyboard ? [storyboardFilter(job.storyboard.layout.interval, job.storyboard.layout.tile, job.storyboard.layout.columns, job.storyboard.layout.rows)] : []),
  ];
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-progress', 'pipe:1', '-nostats', ...untrustedInputArgs, '-i', job.input];
  if (branches.length > 0) args.push('-filter_complex', filterGraph(branches, videoRungs[0]));

  videoRungs.forEach((rung, i) => {
    args.push('-map', `[o${i}]`);
    if (job.hasAudio) args.push('-map', '0:a:0');
    const gop = String(Math.round(rung.fps * SEGMENT_SECONDS));
    args.push(
      '-c:v', 'libx264', '-preset', job.preset ?? 'veryfast', '-profile:v', rung.profile, '-pix_fmt', 'yuv420p',
      '-b:v', String(rung.videoBitrate), '-maxrate', String(rung.maxRate), '-bufsize', String(rung.bufferSize),
      '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`,
    );
    if (job.hasAudio) args.push(...aacArgs(rung.audioBitrate));
    args.push(...cleanOutputArgs(), ...hlsArgs(job.outputDir, rung.name));
  });
  for (const rung of job.rungs) {
    if (rung.kind !== 'audio') continue;
    args.push('-map', '0:a:0', '-vn', ...aacArgs(rung.audioBitrate), ...cleanOutputArgs(), ...hlsArgs(job.outputDir, rung.name));
  }
  stills.forEach((s, i) => args.push('-map', `[o${videoRungs.length + i}]`, ...jpegOutputArgs(s.file)));
  if (job.storyboard) args.push('-map', `[o${branches.length - 1}]`, ...jpegOutputArgs(job.storyboard.file, 4));
  return args;
}

/** The decoded picture, split into one labelled branch per output ([o0], [o1], …). */
function filterGraph(branches: string[], firstRung: VideoRung | undefined): string {
  // Resampling only when capping: an fps filter at the source's own (often
  // fractional) rate would drop and repeat frames for nothing.
  const head = firstRung?.capFps ? `[0:v:0]fps=${firstRung.fps},format=yuv420p` : '[0:v:0]format=yuv420p';
  if (branches.length === 1) return `${head},${branches[0]}[o0]`;
  const split = `${head},split=${branches.length}${branches.map((_, i) => `[s${i}]`).join('')}`;
  return [split, ...branches.map((b, i) => `[s${i}]${b}[o${i}]`)].join(';');
}

/**
 * Area averaging for reductions of half or more: as sharp as bicubic there,
 * free of its aliasing, and about half its cost (the scaler runs in one
 * thread per run, so this is time saved outright). Bicubic for the rest.
 */
function scaler(rung: VideoRung, sourceShortSide: number | undefined): string {
  return sourceShortSide && Math.min(rung.width, rung.height) * 2 <= sourceShortSide ? 'area' : 'bicubic';
}

function aacArgs(bitrate: number): string[] {
  return ['-c:a', 'aac', '-b:a', String(bitrate), '-ac', '2', '-ar', '48000'];
}

function hlsArgs(outputDir: string, name: string): string[] {
  const dir = join(outputDir, name);
  return [
    // An EVENT playlist is rewritten (to a temporary file, then renamed) after every segment, so a
    // rendition can be published while it encodes; at the end it is complete, as a VOD one would be.
    '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'event', '-hls_segment_type', 'fmp4',
    '-hls_flags', 'independent_segments', '-hls_fmp4_init_filename', 'init.mp4', '-start_number', '0',
    '-hls_segment_filename', join(dir, 'seg-%05d.m4s'), join(dir, 'index.m3u8'),
  ];
}
