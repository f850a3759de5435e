// Reading a segment or init file to send it. With the filesystem driver a
// file of up to POOLED_MAX_BYTES (a segment) is read in one piece into a
// reused buffer and sent as that buffer; the buffer goes back to the pool
// once the response has finished (every byte handed to the socket).
//
// Why not the store's get() stream: it reads in 64 KiB chunks, each a fresh
// buffer, so a 1 MB segment was 16 thread-pool reads, 16 socket writes and
// 1 MB of short-lived off-heap memory per request — and that churn is what
// made the garbage collector run (external memory counts towards its
// heuristics; each collection walks Haven's whole heap). Measured with wrk
// on 1 MB files, 100 connections, 2 cores: in a plain Node server 2–4 ms of
// CPU per response for the 64 KiB stream, 1.8 ms for one fresh buffer per
// response, 0.7–0.8 ms for one pooled buffer; in Haven 7.9–9.3 ms before,
// 1.7–2.4 ms after (docs/playback.md, Performance).
//
// Larger files, and other drivers (S3), stream through get() as before.
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ObjectNotFoundError, type ObjectStore } from '../../../platform/storage/types.ts';

/** Files (or ranges) up to this size are read whole into a pooled buffer: 2–6 s of a top rendition. */
export const POOLED_MAX_BYTES = 4 * 1024 * 1024;
/** At most this much memory is kept in idle buffers after a busy moment... */
export const POOL_BUDGET_BYTES = 32 * 1024 * 1024;
/** ...and none once no segment was sent from the pool for this long. */
export const POOL_IDLE_MS = 30_000;
const SMALLEST_CLASS_BYTES = 64 * 1024;

export interface MediaBody {
  payload: Buffer | Readable;
  /** Call once the response has finished sending payload (never on an aborted one: the socket may still hold it). */
  release?: () => void;
}

export interface MediaReader {
  /** The bytes [start, start + length) of an object head() has just described (so length fits its size). */
  read(store: ObjectStore, key: string, start: number, length: number, size: number): Promise<MediaBody>;
  /** Idle bytes held by the pool now (for tests). */
  pooledBytes(): number;
}

export function createMediaReader(opts: { budgetBytes?: number; idleMs?: number } = {}): MediaReader {
  const budget = opts.budgetBytes ?? POOL_BUDGET_BYTES;
  const idleMs = opts.idleMs ?? POOL_IDLE_MS;
  // Buffers by size class (powers of two), so a buffer fits every length of its class.
  const free = new Map<number, Buffer[]>();
  let pooled = 0;
  let lastUsed = 0;
  let trimmer: NodeJS.Timeout | undefined;

  const classOf = (length: number) => Math.max(SMALLEST_CLASS_BYTES, 2 ** Math.ceil(Math.log2(length)));

  function acquire(length: number): Buffer {
    const size = classOf(length);
    const buf = free.get(size)?.pop();
    if (!buf) return Buffer.allocUnsafeSlow(size);
    pooled -= size;
    return buf;
  }

  function release(buf: Buffer): void {
    lastUsed = Date.now();
    if (pooled + buf.length > budget) return; // the garbage collector takes it
    let list = free.get(buf.length);
    if (!list) free.set(buf.length, (list = []));
    list.push(buf);
    pooled += buf.length;
    trimmer ??= setInterval(() => {
      if (Date.now() - lastUsed < idleMs) return;
      free.clear();
      pooled = 0;
      clearInterval(trimmer);
      trimmer = undefined;
    }, idleMs).unref();
  }

  async function read(store: ObjectStore, key: string, start: number, length: number, size: number): Promise<MediaBody> {
    if (!store.localPath || length > POOLED_MAX_BYTES) {
      const range = start === 0 && length === size ? undefined : { start, end: start + length - 1 };
      return { payload: await store.get(key, range) };
    }
    const handle = await open(store.localPath(key), 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' || err.code === 'ENOTDIR' ? new ObjectNotFoundError(key) : err;
    });
    const buf = acquire(length);
    try {
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, start + got);
        // Objects are replaced by rename, never rewritten: a short file here is not the object head() saw.
        if (bytesRead === 0) throw new Error(`${key} ended after ${start + got} bytes; ${start + length} expected`);
        got += bytesRead;
      }
    } catch (err) {
      release(buf);
      throw err;
    } finally {
      await handle.close();
    }
    return { payload: buf.subarray(0, length), release: () => release(buf) };
  }

  return { read, pooledBytes: () => pooled };
}
