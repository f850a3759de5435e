import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertChunkIndex,
  DEFAULT_CHUNK_SIZE,
  decryptBuffer,
  decryptRange,
  decryptStream,
  encryptBuffer,
  encryptedSize,
  encryptStream,
  HEADER_LENGTH,
  openKey,
  sealKey,
} from '../src/platform/crypto/stream.ts';

const C = DEFAULT_CHUNK_SIZE;
const TAG = 16;
const key = randomBytes(32);

/** Deterministic PRNG so a failing piece pattern can be replayed from its seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `bytes` into pieces of random sizes from 1 to maxPiece. */
function pieces(bytes: Buffer, seed: number, maxPiece: number): Buffer[] {
  const random = prng(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxPiece);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** Writes `input` piece by piece through `transform`, collecting what comes out in `received`. */
async function through(transform: Transform, input: Buffer[], received: Buffer[] = []): Promise<Buffer> {
  await pipeline(Readable.from(input, { objectMode: false }), transform, async (source) => {
    for await (const bytes of source) received.push(bytes as Buffer);
  });
  return Buffer.concat(received);
}

const encryptPieces = (input: Buffer[], chunkSize?: number) => through(encryptStream(key, { chunkSize }), input);
const decryptPieces = (input: Buffer[], withKey = key) => through(decryptStream(withKey), input);

/** Decrypts through both the stream and the buffer helper and expects the same error code from each. */
async function assertRejected(ciphertext: Buffer, codes: string | string[], withKey = key): Promise<void> {
  const allowed = ([] as string[]).concat(codes);
  const matches = (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.ok(allowed.includes((err as Error & { code?: string }).code ?? ''), `unexpected error ${String(err)} (${(err as { code?: string }).code})`);
    return true;
  };
  await assert.rejects(decryptPieces(pieces(ciphertext, 7, 5000), withKey), matches);
  assert.throws(() => decryptBuffer(withKey, ciphertext), matches);
}

// Chunk i starts here in the ciphertext.
const chunkOffset = (i: number, chunkSize = C) => HEADER_LENGTH + i * (chunkSize + TAG);

// An independent encoder and decoder written from the format description in
// stream.ts, so a change to the byte layout (IV, AAD, flag) cannot pass
// unnoticed just because both directions changed together.
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

function specSeal(plaintext: Buffer, chunkSize: number, isFinalFlag = (i: number, last: number) => i === last): Buffer {
  const prefix = randomBytes(8);
  const header = Buffer.concat([Buffer.from('HVN1'), Buffer.from([1, Math.log2(chunkSize)]), prefix]);
  const last = Math.floor(plaintext.length / chunkSize);
  const out = [header];
  for (let i = 0; i <= last; i++) {
    const cipher = createCipheriv('aes-256-gcm', key, Buffer.concat([prefix, u32(i)]));
    cipher.setAAD(Buffer.concat([header, u32(i), Buffer.from([isFinalFlag(i, last) ? 1 : 0])]));
    out.push(cipher.update(plaintext.subarray(i * chunkSize, (i + 1) * chunkSize)), cipher.final(), cipher.getAuthTag());
  }
  return Buffer.concat(out);
}

function specOpen(ciphertext: Buffer): Buffer {
  const header = ciphertext.subarray(0, 14);
  assert.deepEqual(header.subarray(0, 5), Buffer.from('HVN1\x01', 'latin1'));
  const recordSize = 2 ** header[5]! + 16;
  const body = ciphertext.subarray(14);
  const last = Math.floor(body.length / recordSize);
  const out: Buffer[] = [];
  for (let i = 0; i <= last; i++) {
    const record = body.subarray(i * recordSize, (i + 1) * recordSize);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.concat([header.subarray(6), u32(i)]), { authTagLength: 16 });
    decipher.setAAD(Buffer.concat([header, u32(i), Buffer.from([i === last ? 1 : 0])]));
    decipher.setAuthTag(record.subarray(record.length - 16));
    out.push(decipher.update(record.subarray(0, record.length - 16)), decipher.final());
  }
  return Buffer.concat(out);
}

test('the byte layout matches the documented HVN1 format', async () => {
  for (const [size, chunkSize] of [[0, C], [3 * C + 5, C], [2048, 1024], [5000, 1024]] as const) {
    const plaintext = randomBytes(size);
    const ours = encryptBuffer(key, plaintext, { chunkSize });
    assert.deepEqual(ours.subarray(0, 6), Buffer.from([0x48, 0x56, 0x4e, 0x31, 1, Math.log2(chunkSize)]));
    assert.deepEqual(specOpen(ours), plaintext);
    assert.deepEqual(specOpen(await encryptPieces(pieces(plaintext, 3, 3000), chunkSize)), plaintext);
    const theirs = specSeal(plaintext, chunkSize);
    assert.deepEqual(decryptBuffer(key, theirs), plaintext);
    assert.deepEqual(await decryptPieces(pieces(theirs, 4, 3000)), plaintext);
  }
});

test('a chunk authenticated with the wrong final flag is ciphertext_tampered', async () => {
  const plaintext = randomBytes(3 * C + 5);
  // The short last chunk sealed as "not final", as if more were to follow.
  await assertRejected(specSeal(plaintext, C, () => false), 'ciphertext_tampered');
  // A full chunk sealed as "final".
  await assertRejected(specSeal(plaintext, C, (i, last) => i === last || i === 1), 'ciphertext_tampered');
});

test('round-trips sizes around chunk boundaries, streamed in random pieces and as buffers', async () => {
  for (const size of [0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 5]) {
    const plaintext = randomBytes(size);
    const streamed = await encryptPieces(pieces(plaintext, size, 20_000));
    assert.equal(streamed.length, encryptedSize(size), `size ${size}`);
    assert.deepEqual(await decryptPieces(pieces(streamed, size + 1, 20_000)), plaintext, `size ${size}`);
    // The helpers and the streams speak the same format.
    assert.deepEqual(decryptBuffer(key, streamed), plaintext);
    const buffered = encryptBuffer(key, plaintext);
    assert.equal(buffered.length, encryptedSize(size));
    assert.deepEqual(await decryptPieces([buffered]), plaintext);
  }
});

test('round-trips ~10 MB written in random pieces from 1 byte to 3 MB', async () => {
  const plaintext = randomBytes(10 * 1024 * 1024 + 12_345);
  const input = [plaintext.subarray(0, 1), plaintext.subarray(1, 2), ...pieces(plaintext.subarray(2), 42, 3 * 1024 * 1024)];
  const ciphertext = await encryptPieces(input);
  assert.equal(ciphertext.length, encryptedSize(plaintext.length));
  assert.deepEqual(await decryptPieces(pieces(ciphertext, 43, 3 * 1024 * 1024)), plaintext);
});

test('round-trips one byte at a time with a small chunk size', async () => {
  const chunkSize = 1024;
  const plaintext = randomBytes(3 * chunkSize + 5);
  const ciphertext = await encryptPieces(pieces(plaintext, 1, 1), chunkSize);
  assert.equal(ciphertext.length, encryptedSize(plaintext.length, chunkSize));
  assert.equal(ciphertext[5], 10); // log2(1024) in the header
  assert.deepEqual(await decryptPieces(pieces(ciphertext, 2, 1)), plaintext);
});

test('every encryption uses a fresh nonce prefix', () => {
  const plaintext = Buffer.from('same input');
  const a = encryptBuffer(key, plaintext);
  const b = encryptBuffer(key, plaintext);
  assert.notDeepEqual(a.subarray(6, HEADER_LENGTH), b.subarray(6, HEADER_LENGTH));
  assert.notDeepEqual(a.subarray(HEADER_LENGTH), b.subarray(HEADER_LENGTH));
});

test('rejects invalid keys and chunk sizes', () => {
  assert.throws(() => encryptStream(randomBytes(16)), { code: 'invalid_key' });
  assert.throws(() => decryptStream(randomBytes(31)), { code: 'invalid_key' });
  for (const chunkSize of [0, 512, 1000, 3 * 1024, 32 * 1024 * 1024]) {
    assert.throws(() => encryptStream(key, { chunkSize }), { code: 'invalid_chunk_size' }, String(chunkSize));
  }
});

test('a changed byte in the header, a chunk body or a tag is ciphertext_tampered', async () => {
  const ciphertext = encryptBuffer(key, randomBytes(3 * C + 5));
  const flipped = (at: number) => {
    const copy = Buffer.from(ciphertext);
    copy[at]! ^= 0x01;
    return copy;
  };
  for (let at = 0; at < HEADER_LENGTH; at++) await assertRejected(flipped(at), 'ciphertext_tampered');
  await assertRejected(flipped(chunkOffset(0)), 'ciphertext_tampered'); // first body byte
  await assertRejected(flipped(chunkOffset(1) + 1000), 'ciphertext_tampered'); // a middle chunk
  await assertRejected(flipped(chunkOffset(1) - 1), 'ciphertext_tampered'); // last tag byte of chunk 0
  await assertRejected(flipped(chunkOffset(3)), 'ciphertext_tampered'); // the short final chunk
  await assertRejected(flipped(ciphertext.length - 1), 'ciphertext_tampered'); // final tag
});

test('never emits plaintext from a chunk whose tag failed', async () => {
  const plaintext = randomBytes(3 * C + 5);
  const ciphertext = encryptBuffer(key, plaintext);
  ciphertext[chunkOffset(1) + 7]! ^= 0x80;
  const received: Buffer[] = [];
  await assert.rejects(through(decryptStream(key), pieces(ciphertext, 9, 40_000), received), { code: 'ciphertext_tampered' });
  // Chunk 0 is good and may be passed on; nothing of chunk 1 may be.
  const emitted = Buffer.concat(received);
  assert.ok(emitted.length <= C, `emitted ${emitted.length} bytes, more than the one good chunk`);
  assert.deepEqual(emitted, plaintext.subarray(0, emitted.length));
});

test('truncation at a chunk boundary is ciphertext_truncated', async () => {
  for (const size of [0, 5, C, 3 * C + 5]) {
    const ciphertext = encryptBuffer(key, randomBytes(size));
    const chunks = Math.floor(size / C) + 1;
    // Drop the final chunk (for sizes that are multiples of C, the empty one).
    await assertRejected(ciphertext.subarray(0, chunkOffset(chunks - 1)), 'ciphertext_truncated');
  }
  const ciphertext = encryptBuffer(key, randomBytes(3 * C + 5));
  await assertRejected(ciphertext.subarray(0, chunkOffset(2)), 'ciphertext_truncated');
  await assertRejected(ciphertext.subarray(0, HEADER_LENGTH), 'ciphertext_truncated');
  await assertRejected(ciphertext.subarray(0, 9), 'ciphertext_truncated'); // inside the header
  await assertRejected(Buffer.alloc(0), 'ciphertext_truncated');
});

test('a cut inside a chunk is ciphertext_truncated or ciphertext_tampered', async () => {
  const ciphertext = encryptBuffer(key, randomBytes(3 * C + 5));
  const either = ['ciphertext_truncated', 'ciphertext_tampered'];
  for (const cut of [chunkOffset(1) + 1, chunkOffset(1) + 10, chunkOffset(2) - 1, chunkOffset(2) - TAG, ciphertext.length - 1]) {
    await assertRejected(ciphertext.subarray(0, cut), either);
  }
});

test('reordered chunks are ciphertext_tampered', async () => {
  const ciphertext = encryptBuffer(key, randomBytes(3 * C + 5));
  const chunk = (i: number) => ciphertext.subarray(chunkOffset(i), chunkOffset(i + 1));
  const swapped = Buffer.concat([ciphertext.subarray(0, HEADER_LENGTH), chunk(1), chunk(0), ciphertext.subarray(chunkOffset(2))]);
  assert.equal(swapped.length, ciphertext.length);
  await assertRejected(swapped, 'ciphertext_tampered');
  // The final chunk moved up, with a full chunk after it.
  const finalFirst = Buffer.concat([ciphertext.subarray(0, HEADER_LENGTH), ciphertext.subarray(chunkOffset(3)), ciphertext.subarray(chunkOffset(0), chunkOffset(3))]);
  await assertRejected(finalFirst, 'ciphertext_tampered');
});

test('bytes appended after the final chunk are ciphertext_tampered', async () => {
  for (const size of [0, 5, C, 3 * C + 5]) {
    const ciphertext = encryptBuffer(key, randomBytes(size));
    const finalChunk = ciphertext.subarray(chunkOffset(Math.floor(size / C)));
    for (const extra of [Buffer.alloc(1), randomBytes(TAG), randomBytes(C + TAG), randomBytes(3 * C), finalChunk]) {
      await assertRejected(Buffer.concat([ciphertext, extra]), 'ciphertext_tampered');
    }
  }
  // A second complete stream glued on.
  const a = encryptBuffer(key, randomBytes(100));
  await assertRejected(Buffer.concat([a, encryptBuffer(key, randomBytes(100))]), 'ciphertext_tampered');
});

test('a wrong key is ciphertext_tampered', async () => {
  for (const size of [0, 3 * C + 5]) {
    await assertRejected(encryptBuffer(key, randomBytes(size)), 'ciphertext_tampered', randomBytes(32));
  }
});

test('the chunk counter cannot pass 2^32 chunks', () => {
  assertChunkIndex(0, false);
  assertChunkIndex(2 ** 32 - 2, false);
  assertChunkIndex(2 ** 32 - 1, true);
  // A non-final chunk at the last index would leave no index for the final chunk.
  assert.throws(() => assertChunkIndex(2 ** 32 - 1, false), { code: 'stream_too_long' });
  assert.throws(() => assertChunkIndex(2 ** 32, true), { code: 'stream_too_long' });
  const largest = 2 ** 32 * 1024 - 1; // 2^32 chunks of 1 KiB, the last one 1023 bytes
  assert.equal(encryptedSize(largest, 1024), HEADER_LENGTH + largest + 2 ** 32 * TAG);
  assert.throws(() => encryptedSize(largest + 1, 1024), { code: 'stream_too_long' });
});

test('encryptedSize counts the header, one tag per chunk and the final chunk', () => {
  assert.equal(encryptedSize(0), HEADER_LENGTH + TAG);
  assert.equal(encryptedSize(C - 1), HEADER_LENGTH + C - 1 + TAG);
  assert.equal(encryptedSize(C), HEADER_LENGTH + C + 2 * TAG);
  assert.equal(encryptedSize(3 * C + 5), HEADER_LENGTH + 3 * C + 5 + 4 * TAG);
  assert.throws(() => encryptedSize(-1), { code: 'invalid_size' });
  assert.throws(() => encryptedSize(1.5), { code: 'invalid_size' });
});

/** A ciphertext source over a buffer that records what was fetched and serves it in random pieces. */
function storedObject(ciphertext: Buffer) {
  const fetches: Array<[number, number]> = [];
  const read = async (start: number, end: number) => {
    fetches.push([start, end]);
    return Readable.from(pieces(ciphertext.subarray(start, end + 1), start + end, 9000), { objectMode: false });
  };
  return { fetches, read };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const bytes of stream as AsyncIterable<Buffer>) parts.push(bytes);
  return Buffer.concat(parts);
}

test('decryptRange returns exactly the requested bytes and fetches only covering chunks', async () => {
  const random = prng(2024);
  for (const [size, chunkSize] of [
    [1, C],
    [3 * C + 5, C],
    [5 * 1024 + 100, 1024],
    [4 * 1024, 1024], // a multiple of the chunk size: the empty final chunk is never fetched
  ] as const) {
    const plaintext = randomBytes(size);
    const ciphertext = encryptBuffer(key, plaintext, { chunkSize });
    const ranges: Array<[number, number]> = [
      [0, 0],
      [size - 1, size - 1],
      [0, size - 1],
      [chunkSize - 1, chunkSize],
      [chunkSize, 2 * chunkSize - 1],
      [1, size - 2],
    ];
    for (let i = 0; i < 40; i++) {
      const a = Math.floor(random() * size);
      const b = Math.floor(random() * size);
      ranges.push([Math.min(a, b), Math.max(a, b)]);
    }
    for (const [start, end] of ranges) {
      if (start < 0 || end >= size || start > end) continue;
      const object = storedObject(ciphertext);
      const got = await readAll(await decryptRange(key, object.read, size, { start, end }));
      assert.deepEqual(got, plaintext.subarray(start, end + 1), `${start}-${end} of ${size}`);
      assert.deepEqual(object.fetches[0], [0, HEADER_LENGTH - 1]);
      const [first, last] = [Math.floor(start / chunkSize), Math.floor(end / chunkSize)];
      const [fetchStart, fetchEnd] = object.fetches[1]!;
      assert.equal(fetchStart, chunkOffset(first, chunkSize));
      assert.equal(fetchEnd + 1, Math.min(chunkOffset(last + 1, chunkSize), chunkOffset(last, chunkSize) + (size - last * chunkSize) + TAG));
      assert.equal(object.fetches.length, 2);
    }
  }
});

test('decryptRange skips the header fetch when given the header', async () => {
  const plaintext = randomBytes(3 * C + 5);
  const ciphertext = encryptBuffer(key, plaintext);
  const object = storedObject(ciphertext);
  const header = ciphertext.subarray(0, HEADER_LENGTH);
  const got = await readAll(await decryptRange(key, object.read, plaintext.length, { start: C + 3, end: 2 * C + 9 }, { header }));
  assert.deepEqual(got, plaintext.subarray(C + 3, 2 * C + 10));
  assert.equal(object.fetches.length, 1);
});

test('decryptRange rejects bad ranges, tampering, a wrong plain size and short reads', async () => {
  const plaintext = randomBytes(3 * C + 5);
  const ciphertext = encryptBuffer(key, plaintext);
  const { read } = storedObject(ciphertext);
  const size = plaintext.length;
  for (const range of [{ start: -1, end: 0 }, { start: 5, end: 4 }, { start: 0, end: size }, { start: 0.5, end: 3 }]) {
    await assert.rejects(decryptRange(key, read, size, range), { code: 'range_not_satisfiable' });
  }
  await assert.rejects(decryptRange(key, read, 0, { start: 0, end: 0 }), { code: 'range_not_satisfiable' });

  const badHeader = Buffer.from(ciphertext);
  badHeader[0] = 0;
  await assert.rejects(decryptRange(key, storedObject(badHeader).read, size, { start: 0, end: 0 }), { code: 'ciphertext_tampered' });

  const badChunk = Buffer.from(ciphertext);
  badChunk[chunkOffset(1) + 5]! ^= 1;
  const tamperedRead = storedObject(badChunk).read;
  await assert.rejects(readAll(await decryptRange(key, tamperedRead, size, { start: C, end: C })), { code: 'ciphertext_tampered' });
  // Chunks outside the range are not read, so their damage does not matter.
  assert.deepEqual(await readAll(await decryptRange(key, tamperedRead, size, { start: 0, end: 10 })), plaintext.subarray(0, 11));

  // A header passed in that is well-formed but not this object's.
  const otherHeader = encryptBuffer(key, Buffer.alloc(0)).subarray(0, HEADER_LENGTH);
  await assert.rejects(readAll(await decryptRange(key, read, size, { start: 0, end: 10 }, { header: otherHeader })), { code: 'ciphertext_tampered' });
  await assert.rejects(decryptRange(key, read, size, { start: 0, end: 10 }, { header: randomBytes(HEADER_LENGTH) }), { code: 'ciphertext_tampered' });

  // A plain size that disagrees with the object is caught when the range
  // reaches the chunk it claims is final: its length or final flag is wrong.
  await assert.rejects(readAll(await decryptRange(key, read, size - 1, { start: size - 2, end: size - 2 })), { code: 'ciphertext_tampered' });
  await assert.rejects(readAll(await decryptRange(key, read, 2 * C + 5, { start: 2 * C + 1, end: 2 * C + 1 })), { code: 'ciphertext_tampered' });
  await assert.rejects(readAll(await decryptRange(key, read, size + 1, { start: size, end: size })), { code: 'ciphertext_truncated' });

  // A store that returns fewer bytes than asked for.
  const short = async (start: number, end: number) => Readable.from([ciphertext.subarray(start, Math.min(end + 1, chunkOffset(2) - 3))]);
  await assert.rejects(readAll(await decryptRange(key, short, size, { start: C, end: 2 * C + 3 })), { code: 'ciphertext_truncated' });
  // A store that sends more than was asked for: one whole chunk too many, or everything from there on.
  const header = ciphertext.subarray(0, HEADER_LENGTH);
  const oneMore = async (start: number, end: number) => Readable.from([ciphertext.subarray(start, end + 1 + C + TAG)]);
  await assert.rejects(readAll(await decryptRange(key, oneMore, size, { start: 0, end: 3 }, { header })), { code: 'ciphertext_tampered' });
  const rest = async (start: number) => Readable.from([ciphertext.subarray(start)]);
  await assert.rejects(readAll(await decryptRange(key, rest, size, { start: 0, end: 3 }, { header })), { code: 'ciphertext_tampered' });
});

test('decryptRange releases the ciphertext source when the reader gives up', async () => {
  const plaintext = randomBytes(3 * C + 5);
  const ciphertext = encryptBuffer(key, plaintext);
  let body: Readable | undefined;
  const read = async (start: number, end: number) => (body = Readable.from(pieces(ciphertext.subarray(start, end + 1), 1, 1000), { objectMode: false }));
  const stream = await decryptRange(key, read, plaintext.length, { start: 0, end: plaintext.length - 1 }, { header: ciphertext.subarray(0, HEADER_LENGTH) });
  stream.destroy();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(body?.destroyed, true);
});

test('sealKey/openKey round-trip and fail closed', () => {
  const wrappingKey = randomBytes(32);
  const dataKey = randomBytes(32);
  const aad = Buffer.from('haven:data-key:tenant-1:original');
  const sealed = sealKey(wrappingKey, dataKey, aad);
  assert.equal(sealed.length, 12 + 16 + 32);
  assert.deepEqual(openKey(wrappingKey, sealed, aad), dataKey);
  assert.notDeepEqual(sealKey(wrappingKey, dataKey, aad), sealed); // random IV
  // Small secrets of any length, not only keys.
  assert.deepEqual(openKey(wrappingKey, sealKey(wrappingKey, Buffer.from('JBSWY3DPEHPK3PXP'), aad), aad).toString(), 'JBSWY3DPEHPK3PXP');

  const unwrapFails = { code: 'key_unwrap_failed' };
  assert.throws(() => openKey(wrappingKey, sealed, Buffer.from('haven:data-key:tenant-2:original')), unwrapFails);
  assert.throws(() => openKey(randomBytes(32), sealed, aad), unwrapFails);
  for (const at of [0, 12, 28, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at]! ^= 1;
    assert.throws(() => openKey(wrappingKey, bad, aad), unwrapFails);
  }
  assert.throws(() => openKey(wrappingKey, sealed.subarray(0, 27), aad), unwrapFails);
  assert.throws(() => sealKey(randomBytes(16), dataKey, aad), { code: 'invalid_key' });
});
