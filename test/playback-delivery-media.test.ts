// The segment reader behind /play/…/seg-N.m4s (delivery/media-file.ts): whole
// files and ranges read into pooled buffers with the filesystem driver, the
// pool's reuse, budget and idle trim, and the stream path for large files
// and drivers without local files.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { createFsStore } from '../src/platform/storage/fs.ts';
import { ObjectNotFoundError, type ObjectStore } from '../src/platform/storage/types.ts';
import { createMediaReader, POOLED_MAX_BYTES } from '../src/modules/playback/delivery/media-file.ts';

const root = mkdtempSync(join(tmpdir(), 'haven-media-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
const store = createFsStore(root);

async function bytesOf(payload: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(payload)) return payload;
  const chunks: Buffer[] = [];
  for await (const c of payload) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('segment reader', () => {
  test('reads a whole file and a range into a pooled buffer, and reuses it only once released', async () => {
    const bytes = randomBytes(300_000);
    await store.put('t/a/seg-00001.m4s', bytes);
    const reader = createMediaReader();
    const whole = await reader.read(store, 't/a/seg-00001.m4s', 0, bytes.length, bytes.length);
    assert.ok(Buffer.isBuffer(whole.payload) && whole.release);
    assert.deepEqual(whole.payload, bytes);

    // Not released yet: the next read must not write into the buffer still being sent.
    const part = await reader.read(store, 't/a/seg-00001.m4s', 1000, 5000, bytes.length);
    assert.ok(Buffer.isBuffer(part.payload));
    assert.deepEqual(part.payload, bytes.subarray(1000, 6000));
    assert.notEqual(part.payload.buffer, whole.payload.buffer);
    assert.deepEqual(whole.payload, bytes, 'the first payload is untouched by the second read');

    whole.release!();
    assert.equal(reader.pooledBytes(), 512 * 1024, 'a 300 kB read uses the 512 KiB class');
    const again = await reader.read(store, 't/a/seg-00001.m4s', 10, 290_000, bytes.length);
    assert.ok(Buffer.isBuffer(again.payload));
    assert.equal(again.payload.buffer, whole.payload.buffer, 'the released buffer of the same size class is reused');
    assert.deepEqual(again.payload, bytes.subarray(10, 290_010));
    assert.equal(reader.pooledBytes(), 0);
  });

  test('keeps at most the budget in idle buffers, and none after the idle time', async () => {
    await store.put('t/b/seg-00001.m4s', randomBytes(100_000));
    const reader = createMediaReader({ budgetBytes: 300 * 1024, idleMs: 50 });
    const bodies = await Promise.all([1, 2, 3].map(() => reader.read(store, 't/b/seg-00001.m4s', 0, 100_000, 100_000)));
    for (const b of bodies) b.release!();
    assert.equal(reader.pooledBytes(), 256 * 1024, 'two 128 KiB buffers fit the budget, the third is left to the GC');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(reader.pooledBytes(), 0);
  });

  test('a missing file is ObjectNotFoundError, as from the store', async () => {
    const reader = createMediaReader();
    await assert.rejects(reader.read(store, 't/c/seg-00001.m4s', 0, 10, 10), ObjectNotFoundError);
  });

  test('a file shorter than head() said fails rather than sending stale bytes', async () => {
    await store.put('t/d/seg-00001.m4s', randomBytes(1000));
    const reader = createMediaReader();
    await assert.rejects(reader.read(store, 't/d/seg-00001.m4s', 0, 2000, 2000), /ended after 1000 bytes/);
    assert.equal(reader.pooledBytes(), 64 * 1024, 'the buffer went back to the pool');
  });

  test('files above the pooled size, and stores without local files, stream through get()', async () => {
    const big = randomBytes(POOLED_MAX_BYTES + 1);
    await store.put('t/e/seg-00001.m4s', big);
    const reader = createMediaReader();
    const body = await reader.read(store, 't/e/seg-00001.m4s', 0, big.length, big.length);
    assert.ok(!Buffer.isBuffer(body.payload) && !body.release);
    assert.deepEqual(await bytesOf(body.payload), big);

    const calls: unknown[] = [];
    const remote: ObjectStore = { ...store, localPath: undefined, get: async (key, range) => { calls.push([key, range]); return store.get(key, range); } };
    const ranged = await reader.read(remote, 't/e/seg-00001.m4s', 5, 10, big.length);
    assert.deepEqual(await bytesOf(ranged.payload), big.subarray(5, 15));
    const whole = await reader.read(remote, 't/e/seg-00001.m4s', 0, big.length, big.length);
    assert.equal((await bytesOf(whole.payload)).length, big.length);
    assert.deepEqual(calls, [['t/e/seg-00001.m4s', { start: 5, end: 14 }], ['t/e/seg-00001.m4s', undefined]]);
  });
});
