// Command-line pieces shared by every ffmpeg run that writes an output.
import type { ImageSize } from './images.ts';

/** Nothing of the source's metadata reaches an output: no tags (GPS, device, names), no chapters, no encoder stamp. */
export function cleanOutputArgs(): string[] {
  return ['-map_metadata', '-1', '-map_chapters', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact'];
}

/** A filter chain keeping the first frame at or after `at` seconds, scaled (commas in expressions escaped for filtergraphs). */
export function stillFilter(at: number, size: ImageSize): string {
  return `select=gte(t\\,${at.toFixed(3)}),trim=end_frame=1,scale=${size.width}:${size.height}:flags=bicubic,setsar=1`;
}

/** One frame every `interval` seconds, scaled to a tile and laid out in a grid. */
export function storyboardFilter(interval: number, tile: ImageSize, columns: number, rows: number): string {
  return `fps=1/${interval},scale=${tile.width}:${tile.height}:flags=bicubic,setsar=1,tile=${columns}x${rows}`;
}

/** A single JPEG output. */
export function jpegOutputArgs(file: string, quality = 3): string[] {
  return ['-frames:v', '1', '-q:v', String(quality), ...cleanOutputArgs(), '-f', 'image2', file];
}
