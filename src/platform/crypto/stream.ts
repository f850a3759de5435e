// Authenticated streaming encryption for objects at rest (originals,
// renditions, backups), plus the small key-wrapping helpers the keyring uses.
// node:crypto only. Each stream draws a random 8-byte nonce prefix, so (key, IV)
// pairs stay unique even when one key encrypts many streams (a collision
// becomes likely only around 2^32 streams under the same key; Haven uses one
// data key per object).
//
// Format "HVN1"
//
//   header (14 bytes) = 'HVN1' | version 0x01 | log2(chunkSize) | nonce prefix (8 random bytes)
//   body              = chunk 0 | chunk 1 | … | chunk n      (n = floor(plainSize / chunkSize))
//   chunk i           = AES-256-GCM ciphertext | 16-byte tag
//     IV  = nonce prefix (8) | uint32BE(i)
//     AAD = header (14) | uint32BE(i) | final flag (1 for chunk n, else 0)
//
// Every chunk but the last holds exactly chunkSize plaintext bytes; the last
// holds fewer, possibly zero. An empty final chunk is written when the
// plaintext is empty or a multiple of chunkSize, so "the final chunk" is
// always the one shorter than chunkSize + 16 bytes, and both sides can tell a
// full chunk is not final without looking ahead: the decryptor releases each
// full chunk as soon as it verifies and holds back at most one partial chunk,
// which it opens as the final one when its input ends. The default chunk is
// 64 KiB.
//
// What the format catches: a changed byte anywhere (the header is in every
// chunk's AAD, so a changed header fails the first chunk); reordered chunks
// (the index is in the IV and the AAD); truncation (no chunk authenticated as
// final arrived); extension (bytes after the final chunk make it, or the record
// they land in, fail its tag). A chunk index never exceeds 2^32 - 1.
//
// Failures are AppErrors: 'ciphertext_tampered' (bad header, bad tag, extra
// data) and 'ciphertext_truncated' (the stream stopped where a chunk boundary
// could be, or inside the header or a tag). A cut inside a chunk body cannot be
// told from tampering and reports 'ciphertext_tampered'.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.ts';

const MAGIC = Buffer.from('HVN1', 'latin1');
const VERSION = 1;
const NONCE_PREFIX_LENGTH = 8;
export const HEADER_LENGTH = MAGIC.length + 2 + NONCE_PREFIX_LENGTH; // 14
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
// Below 1 KiB the per-chunk tag and cipher setup dominate. Above 16 MiB the
// decryptor's one-chunk buffer gets large, and it is sized from a header that
// is not authenticated until the first chunk has been read.
const MIN_CHUNK_LOG2 = 10;
const MAX_CHUNK_LOG2 = 24;
const LAST_CHUNK_INDEX = 0xffff_ffff;

const tampered = () =>
  new AppError('ciphertext_tampered', 500, 'Stored encrypted data failed its integrity check.');
const truncated = () =>
  new AppError('ciphertext_truncated', 500, 'Stored encrypted data is incomplete.');

// ---------------------------------------------------------------------------
// Chunk sealing and opening

/** Everything needed to seal or open the chunks of one stream. */
interface StreamContext {
  key: KeyObject;
  chunkSize: number;
  /** Scratch buffers, rewritten per chunk; createCipheriv/setAAD copy them synchronously. */
  iv: Buffer;
  aad: Buffer;
}

function importKey(key: Buffer): KeyObject {
  if (key.length !== KEY_LENGTH) {
    throw new AppError('invalid_key', 500, `An AES-256 key must be ${KEY_LENGTH} bytes, got ${key.length}.`);
  }
  return createSecretKey(key);
}

function chunkLog2(chunkSize: number): number {
  const log2 = Math.log2(chunkSize);
  if (!Number.isInteger(log2) || log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) {
    throw new AppError(
      'invalid_chunk_size',
      500,
      `Chunk size must be a power of two from ${2 ** MIN_CHUNK_LOG2} to ${2 ** MAX_CHUNK_LOG2} bytes, got ${chunkSize}.`,
    );
  }
  return log2;
}

function createHeader(chunkSize: number): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(header, 0);
  header[4] = VERSION;
  header[5] = chunkLog2(chunkSize);
  randomBytes(NONCE_PREFIX_LENGTH).copy(header, 6);
  return header;
}

/** Validates a header and returns its chunk size; anything unexpected is tampering. */
function parseHeader(header: Buffer): number {
  const log2 = header[5] ?? -1;
  if (
    header.length !== HEADER_LENGTH ||
    !header.subarray(0, MAGIC.length).equals(MAGIC) ||
    header[4] !== VERSION ||
    log2 < MIN_CHUNK_LOG2 ||
    log2 > MAX_CHUNK_LOG2
  ) {
    throw tampered();
  }
  return 2 ** log2;
}

/** Classifies a stream that ended inside the header. */
function shortHeaderError(partial: Buffer): AppError {
  const magicSeen = partial.subarray(0, MAGIC.length);
  const contradictsFormat =
    !magicSeen.equals(MAGIC.subarray(0, magicSeen.length)) || (partial.length > 4 && partial[4] !== VERSION);
  return contradictsFormat ? tampered() : truncated();
}

function createContext(key: KeyObject, header: Buffer): StreamContext {
  const chunkSize = parseHeader(header);
  const iv = Buffer.alloc(NONCE_PREFIX_LENGTH + 4);
  header.copy(iv, 0, 6, HEADER_LENGTH);
  const aad = Buffer.alloc(HEADER_LENGTH + 5);
  header.copy(aad, 0);
  return { key, chunkSize, iv, aad };
}

/**
 * Throws 'stream_too_long' unless chunk `index` fits the 32-bit counter. The
 * final chunk may take the last index; a non-final one may not, or the final
 * chunk that must follow it would have no index left. Exported so the limit
 * can be tested without writing 2^32 chunks.
 */
export function assertChunkIndex(index: number, final: boolean): void {
  if (!Number.isInteger(index) || index < 0 || index > LAST_CHUNK_INDEX || (!final && index === LAST_CHUNK_INDEX)) {
    throw new AppError('stream_too_long', 500, `Chunk index ${index} is out of range for one encrypted stream.`);
  }
}

function prepareChunk(ctx: StreamContext, index: number, final: boolean): void {
  assertChunkIndex(index, final);
  ctx.iv.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  ctx.aad.writeUInt32BE(index, HEADER_LENGTH);
  ctx.aad[HEADER_LENGTH + 4] = final ? 1 : 0;
}

/** Encrypts one chunk; returns ciphertext and tag separately so nothing is copied to join them. */
function sealChunk(ctx: StreamContext, index: number, plaintext: Buffer, final: boolean): [Buffer, Buffer] {
  prepareChunk(ctx, index, final);
  const cipher = createCipheriv('aes-256-gcm', ctx.key, ctx.iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(ctx.aad);
  const ciphertext = cipher.update(plaintext);
  cipher.final(); // GCM is a stream mode: final() yields no bytes, it computes the tag.
  return [ciphertext, cipher.getAuthTag()];
}

/**
 * Decrypts and verifies one chunk (ciphertext || tag). The plaintext is only
 * returned after final() has checked the tag, so unauthenticated bytes never
 * leave this function.
 */
function openChunk(ctx: StreamContext, index: number, record: Buffer, final: boolean): Buffer {
  if (record.length < TAG_LENGTH) throw truncated();
  try {
    prepareChunk(ctx, index, final);
  } catch {
    throw tampered(); // a genuine stream never reaches this index
  }
  const bodyLength = record.length - TAG_LENGTH;
  const decipher = createDecipheriv('aes-256-gcm', ctx.key, ctx.iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(ctx.aad);
  decipher.setAuthTag(record.subarray(bodyLength));
  const plaintext = decipher.update(record.subarray(0, bodyLength));
  try {
    decipher.final();
  } catch {
    throw tampered();
  }
  return plaintext;
}

// ---------------------------------------------------------------------------
// Cutting arbitrary pieces into fixed-size records

/**
 * Turns pieces of any size into records of exactly `size` bytes without
 * growing buffers: a record lying wholly inside a piece is handed over as a
 * view of it, and only the bytes straddling piece boundaries are copied into
 * one preallocated buffer. Records are views — consume them before returning.
 */
class RecordAssembler {
  readonly #size: number;
  readonly #partial: Buffer;
  #filled = 0;

  constructor(size: number) {
    this.#size = size;
    this.#partial = Buffer.allocUnsafe(size);
  }

  push(piece: Buffer, onRecord: (record: Buffer) => void): void {
    let offset = 0;
    if (this.#filled > 0) {
      offset = piece.copy(this.#partial, this.#filled, 0, Math.min(piece.length, this.#size - this.#filled));
      this.#filled += offset;
      if (this.#filled < this.#size) return;
      this.#filled = 0;
      onRecord(this.#partial);
    }
    while (piece.length - offset >= this.#size) {
      onRecord(piece.subarray(offset, offset + this.#size));
      offset += this.#size;
    }
    if (offset < piece.length) this.#filled = piece.copy(this.#partial, 0, offset);
  }

  /** The bytes of the record still being assembled (a view). */
  get pending(): Buffer {
    return this.#partial.subarray(0, this.#filled);
  }
}

// ---------------------------------------------------------------------------
// Whole-stream state machines, shared by the Transforms and the Buffer helpers

type Emit = (bytes: Buffer) => void;

/** Either direction's state machine: fed pieces, then told the input ended. */
interface StreamCore {
  write(piece: Buffer): void;
  end(): void;
}

class StreamSealer implements StreamCore {
  readonly #ctx: StreamContext;
  readonly #records: RecordAssembler;
  readonly #emit: Emit;
  #index = 0;

  constructor(key: Buffer, chunkSize: number, emit: Emit) {
    const header = createHeader(chunkSize);
    this.#ctx = createContext(importKey(key), header);
    this.#records = new RecordAssembler(chunkSize);
    this.#emit = emit;
    emit(header);
  }

  write(piece: Buffer): void {
    // A full chunk is never final (the final one is always short), so full
    // chunks can be sealed as soon as they are complete.
    this.#records.push(piece, (chunk) => this.#seal(chunk, false));
  }

  end(): void {
    this.#seal(this.#records.pending, true);
  }

  #seal(chunk: Buffer, final: boolean): void {
    const [ciphertext, tag] = sealChunk(this.#ctx, this.#index, chunk, final);
    this.#index++;
    this.#emit(ciphertext);
    this.#emit(tag);
  }
}

class StreamOpener implements StreamCore {
  readonly #key: KeyObject;
  readonly #emit: Emit;
  readonly #header = Buffer.alloc(HEADER_LENGTH);
  #headerFilled = 0;
  #ctx: StreamContext | undefined;
  #records: RecordAssembler | undefined;
  #index = 0;

  constructor(key: Buffer, emit: Emit) {
    this.#key = importKey(key);
    this.#emit = emit;
  }

  write(piece: Buffer): void {
    if (!this.#records) {
      const taken = piece.copy(this.#header, this.#headerFilled);
      this.#headerFilled += taken;
      if (this.#headerFilled < HEADER_LENGTH) return;
      this.#ctx = createContext(this.#key, this.#header);
      this.#records = new RecordAssembler(this.#ctx.chunkSize + TAG_LENGTH);
      piece = piece.subarray(taken);
    }
    // A full-size record is never the final chunk; the final one is whatever
    // shorter remainder is pending when the input ends.
    this.#records.push(piece, (record) => this.#open(record, false));
  }

  end(): void {
    if (!this.#records) throw shortHeaderError(this.#header.subarray(0, this.#headerFilled));
    const last = this.#records.pending;
    // Nothing pending means the input stopped on a chunk boundary: the final
    // chunk (which always exists, even if empty) was cut off.
    if (last.length === 0) throw truncated();
    this.#open(last, true);
  }

  #open(record: Buffer, final: boolean): void {
    const plaintext = openChunk(this.#ctx!, this.#index, record, final);
    this.#index++;
    if (plaintext.length > 0) this.#emit(plaintext);
  }
}

// ---------------------------------------------------------------------------
// Streams

/** Adapts a StreamCore to a Transform; a thrown error fails the stream. */
class CoreTransform extends Transform {
  readonly #core: StreamCore;

  constructor(createCore: (emit: Emit) => StreamCore) {
    super();
    this.#core = createCore((bytes) => this.push(bytes));
  }

  override _transform(piece: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#core.write(piece);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#core.end();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

export interface EncryptOptions {
  /** Plaintext bytes per chunk: a power of two from 1 KiB to 16 MiB. Default 64 KiB. */
  chunkSize?: number;
}

/** Encrypts whatever is written to it into the HVN1 format. `key` is a 32-byte data key. */
export function encryptStream(key: Buffer, opts: EncryptOptions = {}): Transform {
  return new CoreTransform((emit) => new StreamSealer(key, opts.chunkSize ?? DEFAULT_CHUNK_SIZE, emit));
}

/**
 * Decrypts an HVN1 stream. Every byte it emits belongs to a chunk whose tag
 * has been verified, but the stream as a whole is only proven complete and
 * unaltered when it ends without an error: a consumer must discard (not
 * publish) what it received from a stream that errored.
 */
export function decryptStream(key: Buffer): Transform {
  return new CoreTransform((emit) => new StreamOpener(key, emit));
}

// ---------------------------------------------------------------------------
// Buffers

export function encryptBuffer(key: Buffer, plaintext: Buffer, opts: EncryptOptions = {}): Buffer {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const parts: Buffer[] = [];
  const sealer = new StreamSealer(key, chunkSize, (bytes) => parts.push(bytes));
  sealer.write(plaintext);
  sealer.end();
  return Buffer.concat(parts, encryptedSize(plaintext.length, chunkSize));
}

export function decryptBuffer(key: Buffer, ciphertext: Buffer): Buffer {
  const parts: Buffer[] = [];
  const opener = new StreamOpener(key, (bytes) => parts.push(bytes));
  opener.write(ciphertext);
  opener.end();
  return Buffer.concat(parts);
}

function assertPlainSize(plainSize: number): void {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) {
    throw new AppError('invalid_size', 500, `Plaintext size must be a non-negative integer, got ${plainSize}.`);
  }
}

/** Size of the HVN1 encoding of `plainSize` bytes: header, plaintext, one tag per chunk. */
export function encryptedSize(plainSize: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
  chunkLog2(chunkSize);
  assertPlainSize(plainSize);
  const chunks = Math.floor(plainSize / chunkSize) + 1;
  assertChunkIndex(chunks - 1, true);
  return HEADER_LENGTH + plainSize + chunks * TAG_LENGTH;
}

// ---------------------------------------------------------------------------
// Random access

/** Fetches ciphertext bytes start..endInclusive of the stored object, e.g. `store.get(key, { start, end })`. */
export type ReadCiphertext = (start: number, endInclusive: number) => Promise<Readable>;

export interface DecryptRangeOptions {
  /**
   * The object's first HEADER_LENGTH bytes, if the caller has them (say,
   * cached from an earlier read). Without it the header costs one extra
   * readCiphertext(0, 13) call before the chunks are fetched, because the
   * chunk size it records decides which bytes to fetch.
   */
  header?: Buffer;
}

/**
 * Decrypts plaintext bytes range.start..range.end (inclusive, as in HTTP
 * Range) of an object whose plaintext is `plainSize` bytes, fetching only the
 * chunks that cover the range. `plainSize` comes from the caller's records; if
 * it is wrong the chunk lengths or final flag will not match and the read
 * fails as tampered.
 *
 * Each chunk read is authenticated, but the end of the object is checked only
 * when the range reaches into the final chunk; use decryptStream to prove a
 * whole object intact.
 *
 * Resolves once the header is validated and the chunk request has been made,
 * so bad headers and rejected fetches surface before any response is started.
 */
export async function decryptRange(
  key: Buffer,
  readCiphertext: ReadCiphertext,
  plainSize: number,
  range: { start: number; end: number },
  opts: DecryptRangeOptions = {},
): Promise<Readable> {
  const cryptoKey = importKey(key);
  const { start, end } = range;
  assertPlainSize(plainSize);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= plainSize) {
    throw new AppError('range_not_satisfiable', 416, `Byte range ${start}-${end} is outside the ${plainSize}-byte object.`);
  }

  const header = opts.header ?? (await readExactly(await readCiphertext(0, HEADER_LENGTH - 1), HEADER_LENGTH));
  if (header.length < HEADER_LENGTH) throw shortHeaderError(header);
  const ctx = createContext(cryptoKey, header.subarray(0, HEADER_LENGTH));

  const { chunkSize } = ctx;
  encryptedSize(plainSize, chunkSize); // rejects a size this chunk size cannot encode
  const recordSize = chunkSize + TAG_LENGTH;
  const finalIndex = Math.floor(plainSize / chunkSize);
  const firstIndex = Math.floor(start / chunkSize);
  const lastIndex = Math.floor(end / chunkSize);
  const plainLength = (i: number) => (i < finalIndex ? chunkSize : plainSize - finalIndex * chunkSize);
  const cipherStart = HEADER_LENGTH + firstIndex * recordSize;
  const cipherEnd = HEADER_LENGTH + lastIndex * recordSize + plainLength(lastIndex) + TAG_LENGTH - 1;

  const body = await readCiphertext(cipherStart, cipherEnd);

  async function* plaintextOfRange(): AsyncGenerator<Buffer> {
    const records = new RecordAssembler(recordSize);
    let index = firstIndex;
    let ready: Buffer[] = [];
    // Opens the next chunk and keeps only the part of it inside the range.
    const take = (record: Buffer) => {
      if (index > lastIndex) throw tampered(); // the source sent more than was asked for
      const plaintext = openChunk(ctx, index, record, index === finalIndex);
      const offset = index * chunkSize;
      ready.push(plaintext.subarray(Math.max(start - offset, 0), Math.min(end - offset + 1, plaintext.length)));
      index++;
    };

    for await (const piece of body as AsyncIterable<Buffer>) {
      records.push(piece, take);
      for (const bytes of ready) yield bytes;
      ready = [];
    }
    // Full chunks have all arrived through take(); a short final chunk is
    // still pending, and must be exactly as long as plainSize says.
    const last = records.pending;
    if (index === lastIndex) {
      const expected = plainLength(lastIndex) + TAG_LENGTH;
      if (last.length < expected) throw truncated();
      if (last.length > expected) throw tampered();
      take(last);
      yield* ready;
    } else if (index <= lastIndex) {
      throw truncated();
    } else if (last.length > 0) {
      throw tampered();
    }
  }

  const plaintext = Readable.from(plaintextOfRange(), { objectMode: false });
  // If the consumer gives up before reading, the generator never starts and
  // would never release the ciphertext source.
  plaintext.once('close', () => body.destroy());
  return plaintext;
}

/** Reads up to `length` bytes, then lets go of the source. */
async function readExactly(source: Readable, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let filled = 0;
  try {
    for await (const piece of source as AsyncIterable<Buffer>) {
      filled += piece.copy(out, filled);
      if (filled === length) break;
    }
  } finally {
    source.destroy();
  }
  return out.subarray(0, filled);
}

// ---------------------------------------------------------------------------
// Key wrapping

const IV_LENGTH = 12;

/**
 * Encrypts a small secret (a data key, a TOTP seed) under a 32-byte wrapping
 * key; `aad` binds it to its purpose so a sealed value cannot be moved to
 * another row or tenant. Output: iv (12) | tag (16) | ciphertext.
 */
export function sealKey(wrappingKey: Buffer, key: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', importKey(wrappingKey), iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ciphertext = cipher.update(key);
  cipher.final();
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

/** Reverses sealKey; any mismatch (key, aad, bytes) is 'key_unwrap_failed'. */
export function openKey(wrappingKey: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const cryptoKey = importKey(wrappingKey);
  const failed = () => new AppError('key_unwrap_failed', 500, 'A stored key could not be decrypted.');
  if (sealed.length < IV_LENGTH + TAG_LENGTH) throw failed();
  const decipher = createDecipheriv('aes-256-gcm', cryptoKey, sealed.subarray(0, IV_LENGTH), { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH));
  const key = decipher.update(sealed.subarray(IV_LENGTH + TAG_LENGTH));
  try {
    decipher.final();
  } catch {
    throw failed();
  }
  return key;
}
