// Decides from a probe alone — before any decoding — whether a file is worth
// processing. The checks run from the cheapest and most telling (is there a
// picture at all, how big is it) to the subtle (does it decode to far more
// than its size suggests), and the first problem found is the answer.
import type { MediaProblem } from './problems.ts';
import { primaryAudio, primaryVideo, type ProbeSummary } from './probe.ts';

export interface MediaLimits {
  maxDurationSeconds: number;
  /** Longest side, in pixels. */
  maxDimension: number;
  maxPixels: number;
  /** Shortest side, in pixels. */
  minDimension: number;
  maxFps: number;
  /**
   * Decoded pixels per stored byte above which a file is treated as a
   * decompression bomb. Ordinary H.264 sits near 100; a still slide encoded
   * at 1080p reaches about 100,000.
   */
  maxPixelsPerByte: number;
}

export const defaultMediaLimits: MediaLimits = {
  maxDurationSeconds: 4 * 3600,
  maxDimension: 8192,
  maxPixels: 8192 * 4320,
  minDimension: 16,
  maxFps: 240,
  maxPixelsPerByte: 1_000_000,
};

/** Codecs ffmpeg decodes reliably and that real cameras, phones and editors produce. */
export const VIDEO_CODECS = new Set([
  'h264', 'hevc', 'av1', 'vp8', 'vp9', 'mpeg4', 'mpeg2video', 'mpeg1video', 'h263', 'mjpeg', 'prores', 'dnxhd',
  'theora', 'vc1', 'wmv1', 'wmv2', 'wmv3', 'msmpeg4v2', 'msmpeg4v3', 'dvvideo', 'ffv1', 'rawvideo', 'flv1', 'cfhd',
]);
export const AUDIO_CODECS = new Set([
  'aac', 'mp3', 'mp2', 'opus', 'vorbis', 'flac', 'alac', 'ac3', 'eac3', 'wmav1', 'wmav2', 'amr_nb', 'amr_wb', 'speex',
  'pcm_s16le', 'pcm_s16be', 'pcm_s24le', 'pcm_s24be', 'pcm_s32le', 'pcm_f32le', 'pcm_f64le', 'pcm_u8', 'pcm_alaw', 'pcm_mulaw',
]);

/** Files below this many decoded pixels are never called bombs, whatever their size. */
const BOMB_FLOOR_PIXELS = 1e10;

export type MediaKind = 'video' | 'audio';

/** The problem with a probed file, or which kind of media it is. */
export function validateProbe(summary: ProbeSummary, limits: MediaLimits = defaultMediaLimits): MediaProblem | { kind: MediaKind } {
  const video = primaryVideo(summary);
  const audio = primaryAudio(summary);
  if (!video && !audio) {
    return { code: 'no_video_stream', message: 'The file contains neither video nor audio.' };
  }
  const durationMs = summary.durationMs ?? video?.durationMs ?? audio?.durationMs ?? 0;
  const length = () => {
    if (durationMs < 100) return { code: 'not_media', message: 'The file has no playable length (a still image or an empty recording?).' } as const;
    if (durationMs > limits.maxDurationSeconds * 1000) {
      return { code: 'duration_too_long', message: `The recording is ${formatDuration(durationMs)} long; this organization accepts up to ${formatDuration(limits.maxDurationSeconds * 1000)}.` } as const;
    }
    return undefined;
  };
  if (!video) {
    if (!AUDIO_CODECS.has(audio!.codec)) return unsupported('audio', audio!.codec);
    return length() ?? { kind: 'audio' };
  }

  const width = video.displayWidth ?? 0;
  const height = video.displayHeight ?? 0;
  if (width > limits.maxDimension || height > limits.maxDimension || width * height > limits.maxPixels) {
    return { code: 'resolution_too_large', message: `The picture is ${width}×${height}; the largest accepted is ${limits.maxDimension} pixels on a side and ${(limits.maxPixels / 1e6).toFixed(1)} megapixels.` };
  }
  if (width < limits.minDimension || height < limits.minDimension) {
    return { code: 'resolution_too_small', message: `The picture is ${width}×${height}; at least ${limits.minDimension}×${limits.minDimension} pixels are needed.` };
  }
  if (!VIDEO_CODECS.has(video.codec)) return unsupported('video', video.codec);
  if (audio && !AUDIO_CODECS.has(audio.codec)) return unsupported('audio', audio.codec);
  const tooShortOrLong = length();
  if (tooShortOrLong) return tooShortOrLong;
  const fps = video.fps;
  if (fps === undefined || fps < 1 || fps > limits.maxFps) {
    return { code: 'frame_rate_invalid', message: fps === undefined ? 'The video has no usable frame rate.' : `The video claims ${Math.round(fps)} frames per second; between 1 and ${limits.maxFps} are accepted.` };
  }
  const decodedPixels = width * height * fps * (durationMs / 1000);
  if (decodedPixels > BOMB_FLOOR_PIXELS && decodedPixels / summary.sizeBytes > limits.maxPixelsPerByte) {
    return { code: 'decompression_bomb', message: 'The file would decode to vastly more picture data than its size allows for an ordinary video; it was refused to protect the service.' };
  }
  return { kind: 'video' };
}

export function isProblem(result: MediaProblem | { kind: MediaKind }): result is MediaProblem {
  return 'code' in result;
}

function unsupported(kind: string, codec: string): MediaProblem {
  const named = codec === 'unknown' ? 'an unknown codec' : `the ${codec} codec`;
  return { code: 'unsupported_codec', message: `The ${kind} uses ${named}, which Haven does not accept. Export it as H.264/AAC MP4 and upload again.` };
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}
