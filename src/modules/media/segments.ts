// A rendition's objects as they leave the private work directory: segments
// encrypted with the ladder's HLS key, and the figures the master playlist
// states (bit rates, codecs) computed from what was stored.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AAC_LC_CODEC, avcCodecString, encryptSegment, type Rung } from '../../platform/ffmpeg/index.ts';
import type { ObjectStore } from '../../platform/storage/index.ts';

const SEGMENT_NAME = /^seg-\d{5}\.m4s$/;

/** Encrypts one segment ffmpeg wrote and stores it under the rendition's prefix; returns the stored size. */
export async function storeSegment(store: ObjectStore, prefix: string, dir: string, uri: string, key: { hlsKey: Buffer; iv: Buffer }): Promise<number> {
  if (!SEGMENT_NAME.test(uri)) throw new Error(`unexpected segment name ${uri}`);
  const ciphertext = encryptSegment(await readFile(join(dir, uri)), key.hlsKey, key.iv);
  await store.put(`${prefix}${uri}`, ciphertext, { contentType: 'video/iso.segment' });
  return ciphertext.length;
}

/** Peak and average bit rate of stored segments (bits per second). */
export function bitRates(segments: { duration: number; size: number }[]): { bandwidth: number; averageBandwidth: number } {
  const seconds = segments.reduce((sum, s) => sum + s.duration, 0);
  const bytes = segments.reduce((sum, s) => sum + s.size, 0);
  // Peak over full-length segments: a short last segment says little about the rate.
  const rates = segments.map((s) => ({ rate: (s.size * 8) / Math.max(s.duration, 0.001), full: s.duration >= 1 }));
  const peak = Math.max(...(rates.some((r) => r.full) ? rates.filter((r) => r.full) : rates).map((r) => r.rate));
  return { bandwidth: Math.ceil(peak), averageBandwidth: Math.ceil((bytes * 8) / Math.max(seconds, 0.001)) };
}

/** The CODECS attribute of a rendition, from its init segment. */
export function codecsOf(rung: Rung, init: Buffer): string {
  return rung.kind === 'audio' ? AAC_LC_CODEC : [avcCodecString(init) ?? 'avc1.640028', ...(rung.audioBitrate ? [AAC_LC_CODEC] : [])].join(',');
}
