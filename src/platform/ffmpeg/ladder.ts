// The rendition ladder for a source: the standard rungs up to the source's
// size, never above it, in the source's shape. Sizes name the short side
// ("720p" of a portrait phone video is 720 wide), as players and users do.
// Bitrates follow Apple's HLS authoring specification for H.264 at 30 fps
// (416x234 145k … 1920x1080 6000k), raised by half above 30 fps, scaled by
// picture area for shapes other than 16:9.
import { primaryAudio, primaryVideo, type ProbeSummary } from './probe.ts';

export interface VideoRung {
  kind: 'video';
  name: string;
  width: number;
  height: number;
  /** Average video bitrate, bits per second. */
  videoBitrate: number;
  /** Peak: the VBV rate and buffer x264 keeps to. */
  maxRate: number;
  bufferSize: number;
  profile: 'main' | 'high';
  /** Output frame rate (the source's, capped at 60). */
  fps: number;
  /** The source is faster than MAX_OUTPUT_FPS and must be resampled to fps. */
  capFps: boolean;
  /** Bits per second of the AAC track muxed in; 0 without audio. */
  audioBitrate: number;
}

export interface AudioRung {
  kind: 'audio';
  name: 'audio';
  audioBitrate: number;
}

export type Rung = VideoRung | AudioRung;

export interface Ladder {
  /** Lowest first: the first to be published. */
  video: VideoRung[];
  /** Present when the source has sound: an audio-only rendition for poor connections and audio-only sources. */
  audio?: AudioRung;
}

/** Short side → kbps at 30 fps, 16:9. */
const STANDARD = [
  { short: 240, kbps: 300 },
  { short: 360, kbps: 600 },
  { short: 480, kbps: 1100 },
  { short: 720, kbps: 3000 },
  { short: 1080, kbps: 6000 },
] as const;

export const MAX_OUTPUT_FPS = 60;
const AUDIO_ONLY_BITRATE = 64_000;

export function planLadder(summary: ProbeSummary): Ladder {
  const source = primaryVideo(summary);
  const hasAudio = primaryAudio(summary) !== undefined;
  const audio: AudioRung | undefined = hasAudio ? { kind: 'audio', name: 'audio', audioBitrate: AUDIO_ONLY_BITRATE } : undefined;
  if (!source?.displayWidth || !source.displayHeight) return { video: [], audio };

  const w = source.displayWidth;
  const h = source.displayHeight;
  const sourceShort = Math.min(w, h);
  const capFps = (source.fps ?? 30) > MAX_OUTPUT_FPS;
  const fps = Math.min(source.fps ?? 30, MAX_OUTPUT_FPS);
  const shorts: number[] = STANDARD.map((s) => s.short).filter((s) => s <= sourceShort);
  // A source smaller than the lowest rung is kept at its own size.
  if (shorts.length === 0) shorts.push(sourceShort);

  const video = shorts.map((short): VideoRung => {
    const scale = short / sourceShort;
    const width = even(w * scale);
    const height = even(h * scale);
    const kbps = bitrateFor(short, width * height, fps);
    return {
      kind: 'video',
      name: `${short}p`,
      width,
      height,
      videoBitrate: kbps * 1000,
      maxRate: Math.round(kbps * 1100),
      bufferSize: kbps * 2000,
      profile: short <= 360 ? 'main' : 'high',
      fps,
      capFps,
      audioBitrate: hasAudio ? (short <= 360 ? 96_000 : 128_000) : 0,
    };
  });
  return { video, audio };
}

function bitrateFor(short: number, pixels: number, fps: number): number {
  const standard = STANDARD.find((s) => s.short >= short) ?? STANDARD[0];
  const reference = STANDARD.find((s) => s.short === short);
  // Between rungs (a small source), interpolate by area from the rung above.
  const base = reference ? reference.kbps : standard.kbps * (short / standard.short) ** 2;
  const sixteenByNine = short * short * (16 / 9);
  // Rounded so that 854×480 (a hair over 16:9) gets exactly the 16:9 figure.
  const areaFactor = Math.min(1.5, Math.max(0.5, Math.round((pixels / sixteenByNine) * 20) / 20));
  const fpsFactor = fps > 30 ? 1.5 : 1;
  return Math.max(100, Math.round(base * areaFactor * fpsFactor));
}

/** Nearest even number, at least 2 (H.264 with 4:2:0 chroma needs even sizes). */
function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/** The rungs in publishing order: the lowest video rung first, then the rest, then audio. */
export function rungsOf(ladder: Ladder): Rung[] {
  return [...ladder.video, ...(ladder.audio ? [ladder.audio] : [])];
}
