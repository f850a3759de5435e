// Small in-memory caches for the hot per-viewer requests.
//
// Unwrapped video keys are kept briefly so the key endpoint does not open the
// tenant key and the video's keys on every fetch (each an AES-GCM unwrap and
// a database round trip). Bounded (least recently used goes first) and
// short-lived: a crypto-shredded video's keys stay here at most `ttlMs` after
// its tenant key is destroyed, and only in this process's memory. Whether a
// viewer may have the key is never cached: the grant is rechecked per fetch.
//
// Stored playlists are cached the same way for a few seconds: they are
// plaintext, hold no secret, and change only when a rendition is published.
import type { VideoKeys } from '../../media/keys.ts';

export interface TtlCache<T> {
  /** The cached value, or load()'s (concurrent misses share one load; undefined is not cached). */
  get(id: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  forget(id: string): void;
  readonly size: number;
}

export function createTtlCache<T>(opts: { maxEntries: number; ttlMs: number; now?: () => number }): TtlCache<T> {
  const entries = new Map<string, { value: T; expiresAt: number }>();
  const loading = new Map<string, Promise<T | undefined>>();
  const now = opts.now ?? Date.now;
  return {
    async get(id, load) {
      const hit = entries.get(id);
      if (hit && hit.expiresAt > now()) {
        // Re-insert: a Map keeps insertion order, so its first key is the least recently used.
        entries.delete(id);
        entries.set(id, hit);
        return hit.value;
      }
      if (hit) entries.delete(id);
      let pending = loading.get(id);
      if (!pending) {
        pending = load().finally(() => loading.delete(id));
        loading.set(id, pending);
        void pending.then((value) => {
          if (value === undefined) return;
          entries.set(id, { value, expiresAt: now() + opts.ttlMs });
          while (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value!);
        }, () => undefined);
      }
      return pending;
    },
    forget(id) {
      entries.delete(id);
    },
    get size() {
      return entries.size;
    },
  };
}

export type VideoKeyCache = TtlCache<VideoKeys>;

export const createVideoKeyCache = (opts: { maxEntries: number; ttlMs: number; now?: () => number }): VideoKeyCache => createTtlCache<VideoKeys>(opts);
