// The object-storage contract every driver fulfils. Callers name objects by
// key only; whether bytes live on a disk or in a bucket is the driver's concern.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Opaque validator that changes whenever the content is replaced; not necessarily a content hash. */
  etag: string;
  modified: Date;
}

export interface ByteRange {
  start: number;
  /** Inclusive; omitted means "to the end". Clamped to the last byte like HTTP Range. */
  end?: number;
}

export interface ObjectStore {
  readonly driver: 'fs' | 's3';
  /** Replaces the object atomically: readers see the old or the new bytes, never a mix. */
  put(key: string, body: Readable | Buffer, opts?: { contentType?: string }): Promise<ObjectInfo>;
  /** Throws ObjectNotFoundError, or ByteRangeNotSatisfiableError when range.start is past the end. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Idempotent: deleting a missing object succeeds. */
  delete(key: string): Promise<void>;
  /** Removes every object under the prefix, including ones list() would skip; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** All objects under the prefix at any depth, in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Absolute file path for X-Accel-Redirect/sendfile serving; fs driver only. */
  localPath?(key: string): string;
}

export class ObjectNotFoundError extends Error {
  readonly code = 'object_not_found';
  readonly key: string;

  constructor(key: string) {
    super(`No object is stored under key "${key}".`);
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}

export class InvalidObjectKeyError extends Error {
  readonly code = 'invalid_object_key';
  readonly key: string;

  constructor(key: string, reason: string) {
    // JSON quoting makes NUL and control characters visible; long keys are cut so logs stay readable.
    const shown = key.length > 120 ? `${key.slice(0, 120)}…` : key;
    super(`Invalid object key ${JSON.stringify(shown)}: ${reason}.`);
    this.name = 'InvalidObjectKeyError';
    this.key = key;
  }
}

/** The range is malformed or starts at or past the end of the object (HTTP 416). */
export class ByteRangeNotSatisfiableError extends Error {
  readonly code = 'range_not_satisfiable';
  readonly key: string;

  constructor(key: string, range: ByteRange, reason: string) {
    super(`Byte range ${range.start}-${range.end ?? ''} of "${key}" ${reason}.`);
    this.name = 'ByteRangeNotSatisfiableError';
    this.key = key;
  }
}
