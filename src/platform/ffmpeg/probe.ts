// ffprobe, summarized into what validation, the ladder and the technical
// record need. Tag VALUES never leave this file: they can be personal data
// (GPS positions, device serial numbers, names), so the summary keeps keys.
import { open, stat } from 'node:fs/promises';
import { z } from 'zod';
import { MediaRejected } from './problems.ts';
import { runTool, ToolError } from './process.ts';

export type StreamType = 'video' | 'audio' | 'subtitle' | 'data' | 'attachment' | 'unknown';

export interface StreamSummary {
  index: number;
  type: StreamType;
  /** ffmpeg's codec name, 'unknown' when ffmpeg has no decoder for it. */
  codec: string;
  profile?: string;
  /** Coded size, as stored. */
  width?: number;
  height?: number;
  /** Size as shown, after the stream's rotation. */
  displayWidth?: number;
  displayHeight?: number;
  fps?: number;
  bitRate?: number;
  /** Degrees clockwise the player must turn the picture (0, 90, 180, 270). */
  rotation: number;
  pixelFormat?: string;
  channels?: number;
  sampleRate?: number;
  durationMs?: number;
  /** A cover image inside an audio file, not a video track. */
  attachedPicture: boolean;
}

export interface ProbeSummary {
  /** ffmpeg's demuxer name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  durationMs: number | null;
  sizeBytes: number;
  bitRate: number | null;
  streams: StreamSummary[];
  chapters: number;
  /** Metadata keys of the file and its streams (lower-cased, sorted, no values). */
  tagKeys: string[];
}

/**
 * Demuxers Haven accepts. Anything else — playlists (hls, concat), image
 * sequences, text formats — is refused before it is opened, so an upload
 * cannot make ffmpeg read other files or URLs.
 */
export const ACCEPTED_DEMUXERS = [
  'mov', 'matroska', 'avi', 'mpegts', 'mpeg', 'flv', 'asf', 'ogg', 'mxf', 'dv', 'yuv4mpegpipe',
  'mp3', 'wav', 'w64', 'flac', 'aac', 'aiff', 'caf', 'amr', 'ac3', 'eac3',
];

/** Input options for every ffmpeg/ffprobe run on an untrusted file. */
export const untrustedInputArgs = ['-protocol_whitelist', 'file,pipe', '-format_whitelist', ACCEPTED_DEMUXERS.join(',')];

const num = z.union([z.number(), z.string()]).optional().transform((v) => {
  const n = typeof v === 'string' ? Number.parseFloat(v) : v;
  return n !== undefined && Number.isFinite(n) ? n : undefined;
});
const tags = z.record(z.string(), z.unknown()).optional();
const ffprobeOutput = z.object({
  format: z.object({ format_name: z.string(), duration: num, size: num, bit_rate: num, tags }).optional(),
  streams: z.array(z.object({
    index: z.number(),
    codec_type: z.string().optional(),
    codec_name: z.string().optional(),
    profile: z.string().optional(),
    width: z.number().optional(),
    height: z.number().optional(),
    pix_fmt: z.string().optional(),
    avg_frame_rate: z.string().optional(),
    r_frame_rate: z.string().optional(),
    bit_rate: num,
    channels: z.number().optional(),
    sample_rate: num,
    duration: num,
    disposition: z.object({ attached_pic: z.number().optional() }).partial().optional(),
    side_data_list: z.array(z.object({ side_data_type: z.string().optional(), rotation: z.number().optional() }).passthrough()).optional(),
    tags,
  })).default([]),
  chapters: z.array(z.unknown()).default([]),
});

export async function probe(file: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ProbeSummary> {
  const { size } = await stat(file);
  if (size === 0) throw new MediaRejected('not_media', 'The file is empty: it holds no video or audio at all.');
  let stdout: string;
  try {
    ({ stdout } = await runTool('ffprobe', [
      '-v', 'error', ...untrustedInputArgs, '-print_format', 'json', '-show_format', '-show_streams', '-show_chapters', file,
    ], { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 60_000 }));
  } catch (err) {
    if (err instanceof ToolError && err.code === 'tool_failed') throw await unreadable(file, err.stderrTail);
    throw err;
  }
  return summarize(ffprobeOutput.parse(JSON.parse(stdout)), size);
}

/** Why ffprobe could not read a file: cut short, or not media at all. */
async function unreadable(file: string, stderr: string): Promise<MediaRejected> {
  if (/moov atom not found|partial file|truncat|end of file/i.test(stderr) && (await looksLikeIsoMedia(file))) {
    return new MediaRejected('truncated', 'The file is incomplete: it starts like an MP4/MOV video but its index (moov) is missing. Upload the whole file again.');
  }
  if (/Picture size \d+x\d+ is invalid/.test(stderr)) {
    return new MediaRejected('resolution_too_large', 'The picture size is larger than any video Haven can process.');
  }
  return new MediaRejected('not_media', 'The file is not a video or audio file Haven can read.');
}

/** An ISO base media file (MP4, MOV, 3GP) starts with one of these boxes. */
async function looksLikeIsoMedia(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(12), 0, 12, 0);
    return bytesRead >= 8 && ['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'].includes(buffer.toString('latin1', 4, 8));
  } finally {
    await handle.close();
  }
}

function summarize(out: z.infer<typeof ffprobeOutput>, sizeBytes: number): ProbeSummary {
  const keys = new Set<string>(Object.keys(out.format?.tags ?? {}).map((k) => k.toLowerCase()));
  const streams = out.streams.map((s): StreamSummary => {
    for (const k of Object.keys(s.tags ?? {})) keys.add(k.toLowerCase());
    const rotation = rotationOf(s);
    const turned = rotation === 90 || rotation === 270;
    const type = (['video', 'audio', 'subtitle', 'data', 'attachment'] as const).find((t) => t === s.codec_type) ?? 'unknown';
    return {
      index: s.index,
      type,
      codec: s.codec_name ?? 'unknown',
      profile: s.profile,
      width: s.width || undefined,
      height: s.height || undefined,
      displayWidth: (turned ? s.height : s.width) || undefined,
      displayHeight: (turned ? s.width : s.height) || undefined,
      fps: type === 'video' ? frameRate(s.avg_frame_rate) ?? frameRate(s.r_frame_rate) : undefined,
      bitRate: s.bit_rate,
      rotation,
      pixelFormat: s.pix_fmt,
      channels: s.channels,
      sampleRate: s.sample_rate,
      durationMs: s.duration === undefined ? undefined : Math.round(s.duration * 1000),
      attachedPicture: s.disposition?.attached_pic === 1,
    };
  });
  const duration = out.format?.duration;
  return {
    container: out.format?.format_name ?? 'unknown',
    durationMs: duration === undefined ? null : Math.round(duration * 1000),
    sizeBytes,
    bitRate: out.format?.bit_rate ?? null,
    streams,
    chapters: out.chapters.length,
    tagKeys: [...keys].sort(),
  };
}

/** "30000/1001" → 29.97; "0/0" and nonsense → undefined. */
export function frameRate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const [n, d = '1'] = value.split('/');
  const fps = Number(n) / Number(d);
  return Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

function rotationOf(s: { tags?: Record<string, unknown>; side_data_list?: { side_data_type?: string; rotation?: number }[] }): number {
  const matrix = s.side_data_list?.find((d) => d.side_data_type === 'Display Matrix' && typeof d.rotation === 'number');
  // The display matrix states counter-clockwise degrees; the old "rotate" tag clockwise ones.
  const degrees = matrix ? -matrix.rotation! : Number(s.tags?.rotate ?? 0);
  const normalized = ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
  return Number.isFinite(normalized) ? normalized : 0;
}

/** The first real video stream (cover art in audio files does not count). */
export function primaryVideo(summary: ProbeSummary): StreamSummary | undefined {
  return summary.streams.find((s) => s.type === 'video' && !s.attachedPicture);
}

export function primaryAudio(summary: ProbeSummary): StreamSummary | undefined {
  return summary.streams.find((s) => s.type === 'audio');
}
