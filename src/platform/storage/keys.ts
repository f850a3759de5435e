// Caller input is checked here, before any driver touches a disk or the network.
// The key alphabet is deliberately narrower than S3's: every valid key is also a
// safe relative file path on any filesystem, so the fs driver needs no escaping
// and a key can never climb out of its root or bucket prefix.
import { ByteRangeNotSatisfiableError, InvalidObjectKeyError, type ByteRange } from './types.ts';

/** S3's own limit, measured in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const SEGMENT = /^[A-Za-z0-9._=-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function assertValidKey(key: string): void {
  const reason = keyProblem(key);
  if (reason !== undefined) throw new InvalidObjectKeyError(String(key), reason);
}

export function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** A prefix selects whole "directories": it is '' or a valid key followed by '/'. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  if (typeof prefix !== 'string' || !prefix.endsWith('/')) {
    throw new InvalidObjectKeyError(String(prefix), 'a prefix must be empty or end with "/"');
  }
  const reason = keyProblem(prefix.slice(0, -1));
  if (reason !== undefined) throw new InvalidObjectKeyError(prefix, reason);
}

export function assertValidRange(key: string, range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new ByteRangeNotSatisfiableError(key, range, 'must start at a non-negative integer');
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new ByteRangeNotSatisfiableError(key, range, 'must end at an integer not below its start');
  }
}

function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'must be a string';
  if (key === '') return 'must not be empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes`;
  if (CONTROL.test(key)) return 'must not contain NUL or control characters';
  if (key.includes('\\')) return 'must not contain a backslash';
  if (key.startsWith('/')) return 'must be relative (no leading "/")';
  for (const segment of key.split('/')) {
    if (segment === '') return 'must not contain an empty segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `must not contain a "${segment}" segment`;
    if (!SEGMENT.test(segment)) return `segment ${JSON.stringify(segment.slice(0, 60))} may only use A-Z, a-z, 0-9, ".", "_", "=" and "-"`;
  }
  return undefined;
}
