// A video's images: a poster, thumbnails and a storyboard (sprite + WebVTT),
// taken from the decoded frames of the transcode run that encodes the top
// rendition, so they cost no decode of their own. The JPEGs are encrypted at
// rest with the video's data key (HVN1), like the original, and are served
// only through authorized routes; the storyboard's WebVTT holds only times
// and tile coordinates and is stored in the clear.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encryptBuffer } from '../../platform/crypto/stream.ts';
import { fitWidth, type ImageSize, type StillRequest, type StoryboardLayout, storyboardLayout, storyboardVtt } from '../../platform/ffmpeg/index.ts';
import type { StoryboardRequest } from '../../platform/ffmpeg/index.ts';
import { imageKey } from './objects.ts';
import type { PipelineDeps } from './pipeline.ts';
import type { PipelineVideo } from './store.ts';

const THUMBNAILS = 3;
const POSTER_WIDTH = 1280;
const THUMBNAIL_WIDTH = 320;
const TILE_WIDTH = 160;

export interface StoredImage { key: string; width: number; height: number; bytes: number }

export interface VideoAssets {
  /** True once the images are stored (or the video has no picture to take them from). */
  complete: true;
  poster?: StoredImage;
  thumbnails?: StoredImage[];
  storyboard?: { vtt: string; sprite: StoredImage; interval: number; columns: number; rows: number; tileWidth: number; tileHeight: number };
}

export interface ImagePlan {
  poster: StillRequest;
  thumbnails: StillRequest[];
  storyboard: StoryboardRequest;
}

export function planImages(video: PipelineVideo, workDir: string): ImagePlan {
  const size = { width: video.width!, height: video.height! };
  const seconds = (video.duration_ms ?? 0) / 1000;
  const thumb = fitWidth(size, THUMBNAIL_WIDTH);
  return {
    poster: { file: join(workDir, 'poster.jpg'), atSeconds: Math.min(seconds * 0.1, 30), size: fitWidth(size, POSTER_WIDTH) },
    thumbnails: Array.from({ length: THUMBNAILS }, (_, i) => ({ file: join(workDir, `thumb-${i}.jpg`), atSeconds: ((i + 1) / (THUMBNAILS + 1)) * seconds, size: thumb })),
    storyboard: { file: join(workDir, 'storyboard.jpg'), layout: storyboardLayout(video.duration_ms ?? 0, fitWidth(size, TILE_WIDTH)) },
  };
}

/** Encrypts and stores the images ffmpeg wrote; returns what the video row records. */
export async function storeImages(deps: PipelineDeps, video: PipelineVideo, plan: ImagePlan, dataKey: Buffer): Promise<{ assets: VideoAssets; bytes: number }> {
  const store = deps.platform.storage.forRegion(video.region);
  let bytes = 0;
  const put = async (request: { file: string }, name: string, shape: ImageSize): Promise<StoredImage> => {
    const sealed = encryptBuffer(dataKey, await readFile(request.file));
    const key = imageKey(video.tenant_id, video.id, `${name}.hvn`);
    await store.put(key, sealed, { contentType: 'application/octet-stream' });
    bytes += sealed.length;
    return { key, ...shape, bytes: sealed.length };
  };
  const layout: StoryboardLayout = plan.storyboard.layout;
  const vtt = storyboardVtt(layout, video.duration_ms ?? 0, 'storyboard.jpg');
  const vttKey = imageKey(video.tenant_id, video.id, 'storyboard.vtt');
  await store.put(vttKey, Buffer.from(vtt), { contentType: 'text/vtt' });
  bytes += Buffer.byteLength(vtt);
  const assets: VideoAssets = {
    complete: true,
    poster: await put(plan.poster, 'poster.jpg', plan.poster.size),
    thumbnails: await Promise.all(plan.thumbnails.map((t, i) => put(t, `thumb-${i}.jpg`, t.size))),
    storyboard: {
      vtt: vttKey,
      sprite: await put(plan.storyboard, 'storyboard.jpg', { width: layout.columns * layout.tile.width, height: layout.rows * layout.tile.height }),
      interval: layout.interval, columns: layout.columns, rows: layout.rows, tileWidth: layout.tile.width, tileHeight: layout.tile.height,
    },
  };
  return { assets, bytes };
}
