// Still images of a video: a poster, a few thumbnails, and a storyboard (one
// sprite JPEG of small frames at a fixed interval plus a WebVTT file whose
// cues point into it with #xywh=, the format players use for seek previews).
// Like the renditions, images carry no metadata from the source.
import { join } from 'node:path';
import { jpegOutputArgs, stillFilter, storyboardFilter } from './args.ts';
import { untrustedInputArgs } from './probe.ts';
import { runTool } from './process.ts';

export interface ImageSize { width: number; height: number }

interface Common { signal?: AbortSignal; timeoutMs?: number }

/** Fits the source's displayed size into maxWidth without upscaling; even sizes. */
export function fitWidth(source: ImageSize, maxWidth: number): ImageSize {
  const width = Math.min(maxWidth, source.width);
  const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
  return { width: even(width), height: even((source.height * width) / source.width) };
}

/**
 * One frame at atSeconds, seeking (so only a little of the source is
 * decoded). The pipeline takes its stills from the transcode run instead
 * (transcodeRenditions' `stills`), which has every frame decoded anyway.
 */
export async function poster(input: string, output: string, opts: Common & { atSeconds: number; size: ImageSize }): Promise<void> {
  await runTool('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...untrustedInputArgs,
    '-ss', opts.atSeconds.toFixed(3), '-i', input, '-vf', stillFilter(0, opts.size), ...jpegOutputArgs(output),
  ], { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 120_000 });
}

/** `count` frames evenly spread over the video (not its very start or end), as thumb-<i>.jpg. */
export async function thumbnails(input: string, outDir: string, opts: Common & { count: number; durationMs: number; size: ImageSize }): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const file = join(outDir, `thumb-${i}.jpg`);
    await poster(input, file, { ...opts, atSeconds: ((i + 1) / (opts.count + 1)) * (opts.durationMs / 1000) });
    files.push(file);
  }
  return files;
}

export interface StoryboardLayout {
  /** Seconds between frames. */
  interval: number;
  tiles: number;
  columns: number;
  rows: number;
  tile: ImageSize;
}

export function storyboardLayout(durationMs: number, tile: ImageSize, maxTiles = 100, columns = 10): StoryboardLayout {
  const seconds = Math.max(durationMs / 1000, 0.001);
  const interval = Math.max(1, Math.ceil(seconds / maxTiles));
  const tiles = Math.max(1, Math.ceil(seconds / interval));
  const cols = Math.min(columns, tiles);
  return { interval, tiles, columns: cols, rows: Math.ceil(tiles / cols), tile };
}

/** Writes the sprite JPEG (one decode of the whole input) and returns the WebVTT text. */
export async function storyboard(input: string, spriteFile: string, spriteUri: string, opts: Common & { durationMs: number; layout: StoryboardLayout }): Promise<string> {
  const { interval, columns, rows, tile } = opts.layout;
  await runTool('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...untrustedInputArgs, '-i', input,
    '-vf', storyboardFilter(interval, tile, columns, rows), ...jpegOutputArgs(spriteFile, 4),
  ], { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
  return storyboardVtt(opts.layout, opts.durationMs, spriteUri);
}

export function storyboardVtt(layout: StoryboardLayout, durationMs: number, spriteUri: string): string {
  const { interval, tiles, columns, tile } = layout;
  const lines = ['WEBVTT', ''];
  for (let i = 0; i < tiles; i++) {
    const start = i * interval * 1000;
    const end = Math.min((i + 1) * interval * 1000, durationMs);
    const x = (i % columns) * tile.width;
    const y = Math.floor(i / columns) * tile.height;
    lines.push(`${vttTime(start)} --> ${vttTime(Math.max(end, start + 1))}`, `${spriteUri}#xywh=${x},${y},${tile.width},${tile.height}`, '');
  }
  return lines.join('\n');
}

function vttTime(ms: number): string {
  const h = Math.floor(ms / 3600_000);
  const m = Math.floor((ms % 3600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(Math.round(ms % 1000), 3)}`;
}
