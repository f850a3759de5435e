// Time to first playable: the video's first rendition is published while
// ffmpeg is still encoding it. ffmpeg rewrites its playlist after every
// segment; each pass here reads it, encrypts and stores the segments not
// stored yet, and rewrites the stored EVENT playlist (no end: players reload
// it and play from the start while it grows). Once a few seconds are stored
// the rendition is offered (publishStreaming): the master playlist lists it
// and the video is playable. When ffmpeg ends, the normal path stores the
// rest with the final playlist and marks the rendition ready.
//
// A retried encode of a rendition already offered overwrites its segments in
// place (same names, same key and IV, so either version plays) and leaves the
// longer playlist already offered alone until its own is longer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMediaPlaylist, renderMediaPlaylist, type Rung } from '../../platform/ffmpeg/index.ts';
import type { Logger } from '../../platform/log.ts';
import type { ObjectStore } from '../../platform/storage/index.ts';
import type { PublishedRendition } from './store.ts';
import { bitRates, codecsOf, storeSegment } from './segments.ts';

const PASS_MS = 500;
/** Stored before the rendition is offered: what players buffer before they start (3 segments of 2 s). */
const OFFER_AFTER_SEGMENTS = 3;

export interface StoredSegment { uri: string; duration: number; size: number }

export interface ProgressiveRun {
  rung: Rung;
  store: ObjectStore;
  /** ffmpeg's output directory for this rendition. */
  dir: string;
  /** Where the rendition's objects are stored. */
  prefix: string;
  key: { hlsKey: Buffer; iv: Buffer; uri: string };
  /** Segments in the playlist already offered by an earlier attempt (0 when it was not offered). */
  offeredBefore: number;
  /** Offers the rendition to viewers (publishStreaming), with bit rates measured so far. */
  offer: (estimate: Pick<PublishedRendition, 'bandwidth' | 'averageBandwidth' | 'codecs'>) => Promise<unknown>;
  log: Logger;
}

export interface ProgressivePublisher {
  /** Stops after the pass in progress; returns the segments stored, by name. */
  finish(): Promise<Map<string, StoredSegment>>;
}

export function publishWhileEncoding(run: ProgressiveRun): ProgressivePublisher {
  const stored: StoredSegment[] = [];
  let init: Buffer | undefined;
  let offered = run.offeredBefore > 0;
  let stopped = false;

  async function pass(): Promise<void> {
    const text = await readFile(join(run.dir, 'index.m3u8'), 'utf8').catch(() => undefined);
    if (!text) return;
    const playlist = parseMediaPlaylist(text);
    const fresh = playlist.segments.slice(stored.length);
    if (fresh.length === 0) return;
    if (!init) {
      init = await readFile(join(run.dir, 'init.mp4'));
      await run.store.put(`${run.prefix}init.mp4`, init, { contentType: 'video/mp4' });
    }
    for (const segment of fresh) {
      if (stopped) return;
      stored.push({ ...segment, size: await storeSegment(run.store, run.prefix, run.dir, segment.uri, run.key) });
    }
    if (stored.length <= run.offeredBefore) return;
    const growing = renderMediaPlaylist({ targetDuration: playlist.targetDuration, map: 'init.mp4', segments: stored }, run.key.uri, run.key.iv, { growing: true });
    await run.store.put(`${run.prefix}index.m3u8`, Buffer.from(growing), { contentType: 'application/vnd.apple.mpegurl' });
    if (!offered && stored.length >= OFFER_AFTER_SEGMENTS) {
      offered = true;
      await run.offer({ ...bitRates(stored), codecs: codecsOf(run.rung, init) });
    }
  }

  let current: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    current = current.then(() => (stopped ? undefined : pass())).catch((err) => {
      run.log.warn({ err, rendition: run.rung.name }, 'could not publish the segments encoded so far; the rendition is published when its encode ends');
    });
  }, PASS_MS);

  return {
    async finish() {
      stopped = true;
      clearInterval(timer);
      await current;
      return new Map(stored.map((s) => [s.uri, s]));
    },
  };
}
