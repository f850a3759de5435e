// One spec for every ObjectStore driver: the fs driver on a temporary
// directory, the s3 driver against a real S3-protocol server (s3rver) on
// loopback. Driver-specific guarantees get their own blocks below.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import {
  ByteRangeNotSatisfiableError,
  createFsStore,
  createObjectStore,
  InvalidObjectKeyError,
  ObjectNotFoundError,
  type ObjectInfo,
  type ObjectStore,
} from '../src/platform/storage/index.ts';
import { createS3Store } from '../src/platform/storage/s3.ts';

const MiB = 1024 * 1024;
const BUCKET = 'haven-test';

interface Harness {
  store: ObjectStore;
  /** A store of the same driver on which any I/O would be observable or fail loudly. */
  untouchable: { store: ObjectStore; assertUntouched(): void };
  /** Debris a failed write could leave: fs staging files, S3 multipart parts. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await collect(store.list(prefix))).map((o) => o.key);
}

/** Yields `total` random bytes in uneven chunks; with failAt, errors once that many bytes are out. */
function generatedStream(total: number, digest: { sha256?: string }, failAt?: number, failure = new Error('source failed mid-stream')): Readable {
  return Readable.from((async function* () {
    const hash = createHash('sha256');
    let sent = 0;
    while (sent < total) {
      if (failAt !== undefined && sent >= failAt) throw failure;
      const chunk = randomBytes(Math.min(total - sent, 61_440 + (sent % 7_919)));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
    digest.sha256 = hash.digest('hex');
  })());
}

const invalidKeys = [
  '',
  '..',
  '.',
  'a/../b',
  '../etc/passwd',
  'a/./b',
  '/etc/passwd',
  'a\u0000b',
  'a\nb',
  'a\\b',
  '..\\..\\windows',
  'a//b',
  'a/',
  'with space',
  'ümlaut',
  'x'.repeat(1025),
];
const invalidPrefixes = ['a', '/', '/a/', '../', 'a/../', 'a//', 'a\u0000/', 'a\\b/'];

function objectStoreSpec(driver: string, open: () => Promise<Harness>): void {
  describe(`ObjectStore contract (${driver})`, () => {
    let h: Harness;
    before(async () => { h = await open(); });
    after(() => h.close());

    test('put/get round-trips a Buffer and head agrees with put', async () => {
      const body = Buffer.from('hello, haven');
      const put = await h.store.put('rt/buffer.txt', body, { contentType: 'text/plain' });
      assert.equal(put.key, 'rt/buffer.txt');
      assert.equal(put.size, body.length);
      assert.ok(put.etag.length > 0);
      assert.ok(put.modified instanceof Date && !Number.isNaN(put.modified.getTime()));
      assert.deepEqual(await readAll(await h.store.get('rt/buffer.txt')), body);
      const head = await h.store.head('rt/buffer.txt');
      assert.deepEqual({ ...head, modified: undefined }, { ...put, modified: undefined });
      assert.equal(head?.modified.getTime(), put.modified.getTime());
    });

    test('put/get round-trips a stream, including an empty one', async () => {
      const digest: { sha256?: string } = {};
      await h.store.put('rt/stream.bin', generatedStream(300_000, digest));
      const got = await readAll(await h.store.get('rt/stream.bin'));
      assert.equal(got.length, 300_000);
      assert.equal(createHash('sha256').update(got).digest('hex'), digest.sha256);

      const empty = await h.store.put('rt/empty', Readable.from([]));
      assert.equal(empty.size, 0);
      assert.equal((await readAll(await h.store.get('rt/empty'))).length, 0);
    });

    test('put replaces an existing object and its etag', async () => {
      const first = await h.store.put('rt/replace', Buffer.from('first version'));
      const second = await h.store.put('rt/replace', Buffer.from('second, longer version'));
      assert.notEqual(second.etag, first.etag);
      assert.equal((await readAll(await h.store.get('rt/replace'))).toString(), 'second, longer version');
    });

    test('keys may use dots, dashes, underscores and equals signs', async () => {
      for (const key of ['..a/b..', '.hidden/x=1', 'a-b_c.d/e.f.g', '...']) {
        await h.store.put(key, Buffer.from(key));
        assert.equal((await readAll(await h.store.get(key))).toString(), key);
      }
    });

    test('range reads return the requested bytes', async () => {
      const body = Buffer.from('0123456789abcdefghij');
      await h.store.put('range/obj', body);
      const read = async (start: number, end?: number) =>
        (await readAll(await h.store.get('range/obj', { start, end }))).toString();
      assert.equal(await read(10), 'abcdefghij');
      assert.equal(await read(2, 5), '2345');
      assert.equal(await read(19, 19), 'j');
      assert.equal(await read(15, 1000), 'fghij', 'end past the object is clamped, as in HTTP');
      await assert.rejects(h.store.get('range/obj', { start: 20 }), ByteRangeNotSatisfiableError);
      await assert.rejects(h.store.get('range/obj', { start: 5, end: 4 }), ByteRangeNotSatisfiableError);
      await assert.rejects(h.store.get('range/obj', { start: -1 }), ByteRangeNotSatisfiableError);
    });

    test('a missing object: head is undefined, get throws ObjectNotFoundError', async () => {
      assert.equal(await h.store.head('missing/nothing-here'), undefined);
      await assert.rejects(h.store.get('missing/nothing-here'), (err: unknown) => {
        assert.ok(err instanceof ObjectNotFoundError);
        assert.equal(err.code, 'object_not_found');
        assert.equal(err.key, 'missing/nothing-here');
        return true;
      });
      await assert.rejects(h.store.get('missing/nothing-here', { start: 0 }), ObjectNotFoundError);
    });

    test('a key that is only a "directory" of other objects is not an object', async () => {
      await h.store.put('dirlike/child', Buffer.from('x'));
      assert.equal(await h.store.head('dirlike'), undefined);
      await assert.rejects(h.store.get('dirlike'), ObjectNotFoundError);
      await h.store.delete('dirlike');
      assert.ok(await h.store.head('dirlike/child'), 'deleting the parent name must not touch children');
    });

    test('delete is idempotent', async () => {
      await h.store.put('del/once', Buffer.from('x'));
      await h.store.delete('del/once');
      assert.equal(await h.store.head('del/once'), undefined);
      await h.store.delete('del/once');
      await h.store.delete('del/never-existed/deep');
    });

    test('list returns every object under a prefix at any depth, and nothing else', async () => {
      await h.store.put('tree/a/1', Buffer.from('1'));
      await h.store.put('tree/a/b/22', Buffer.from('22'));
      await h.store.put('tree/a/b/c/333', Buffer.from('333'));
      await h.store.put('tree/ab/4', Buffer.from('4'));
      await h.store.put('tree/a.txt', Buffer.from('5'));

      const all = await collect(h.store.list('tree/a/'));
      assert.deepEqual(all.map((o) => [o.key, o.size]), [['tree/a/1', 1], ['tree/a/b/22', 2], ['tree/a/b/c/333', 3]]);
      const viaHead = await h.store.head('tree/a/b/22');
      assert.equal(all[1]?.etag, viaHead?.etag);
      assert.deepEqual(await keysUnder(h.store, 'tree/a/b/'), ['tree/a/b/22', 'tree/a/b/c/333']);
      assert.deepEqual(await keysUnder(h.store, 'tree/'), ['tree/a.txt', 'tree/a/1', 'tree/a/b/22', 'tree/a/b/c/333', 'tree/ab/4']);
      assert.deepEqual(await keysUnder(h.store, 'tree/none/'), []);
      assert.deepEqual(await keysUnder(h.store, 'tree/a.txt/'), [], 'an object is not a directory');
      assert.ok((await keysUnder(h.store, '')).includes('tree/ab/4'));
    });

    test('deletePrefix removes the subtree, counts it, and spares siblings', async () => {
      await h.store.put('dp/x/1', Buffer.from('1'));
      await h.store.put('dp/x/y/2', Buffer.from('2'));
      await h.store.put('dp/x/y/z/3', Buffer.from('3'));
      await h.store.put('dp/xy/4', Buffer.from('4'));
      assert.equal(await h.store.deletePrefix('dp/x/'), 3);
      assert.deepEqual(await keysUnder(h.store, 'dp/'), ['dp/xy/4']);
      assert.equal(await h.store.deletePrefix('dp/x/'), 0);
      assert.equal(await h.store.deletePrefix('dp/never/'), 0);
      // The freed name is usable again, as an object this time.
      await h.store.put('dp/x', Buffer.from('now a file'));
      assert.equal((await h.store.head('dp/x'))?.size, 10);
    });

    test('list and deletePrefix handle more than one page (1000) of objects', async () => {
      const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(keys.slice(i, i + 25).map((key) => h.store.put(key, Buffer.from(key))));
      }
      assert.deepEqual(await keysUnder(h.store, 'many/'), keys);
      assert.equal(await h.store.deletePrefix('many/'), 1005);
      assert.deepEqual(await keysUnder(h.store, 'many/'), []);
    });

    test('a 20 MiB streamed object round-trips intact (multipart on S3)', async () => {
      const digest: { sha256?: string } = {};
      const info = await h.store.put('big/20mib.bin', generatedStream(20 * MiB, digest));
      assert.equal(info.size, 20 * MiB);
      const hash = createHash('sha256');
      for await (const chunk of await h.store.get('big/20mib.bin')) hash.update(chunk as Buffer);
      assert.equal(hash.digest('hex'), digest.sha256);
      const tail = await readAll(await h.store.get('big/20mib.bin', { start: 20 * MiB - 10 }));
      assert.equal(tail.length, 10);
    });

    test('a put whose body fails leaves no object, no debris, and the old object intact', async () => {
      await assert.rejects(h.store.put('fail/new', generatedStream(1 * MiB, {}, 300_000)), /source failed mid-stream/);
      assert.equal(await h.store.head('fail/new'), undefined);
      // Past one part, so on S3 this has to abort a started multipart upload.
      await assert.rejects(h.store.put('fail/new', generatedStream(20 * MiB, {}, 10 * MiB)), /source failed mid-stream/);
      assert.equal(await h.store.head('fail/new'), undefined);
      assert.deepEqual(await h.leftovers(), []);

      await h.store.put('fail/existing', Buffer.from('old content'));
      await assert.rejects(h.store.put('fail/existing', generatedStream(1 * MiB, {}, 100_000)), /source failed mid-stream/);
      assert.equal((await readAll(await h.store.get('fail/existing'))).toString(), 'old content');
    });

    test('invalid keys and prefixes are rejected before any I/O', async () => {
      const { store, assertUntouched } = h.untouchable;
      const rejected = (err: unknown) => err instanceof InvalidObjectKeyError && err.code === 'invalid_object_key';
      for (const key of invalidKeys) {
        const body = Readable.from([Buffer.from('must not be read')]);
        await assert.rejects(store.put(key, body), rejected, `put ${JSON.stringify(key)}`);
        await assert.rejects(store.get(key), rejected, `get ${JSON.stringify(key)}`);
        await assert.rejects(store.get(key, { start: 0 }), rejected, `get range ${JSON.stringify(key)}`);
        await assert.rejects(store.head(key), rejected, `head ${JSON.stringify(key)}`);
        await assert.rejects(store.delete(key), rejected, `delete ${JSON.stringify(key)}`);
        if (store.localPath) assert.throws(() => store.localPath!(key), rejected);
      }
      for (const prefix of invalidPrefixes) {
        assert.throws(() => store.list(prefix), rejected, `list ${JSON.stringify(prefix)}`);
        await assert.rejects(store.deletePrefix(prefix), rejected, `deletePrefix ${JSON.stringify(prefix)}`);
      }
      assertUntouched();
    });

    test('error messages name the problem and show control characters', async () => {
      await assert.rejects(h.store.head('a\u0000b'), /"a\\u0000b": must not contain NUL or control characters/);
      await assert.rejects(h.store.head('../etc/passwd'), /must not contain a "\.\." segment/);
      await assert.rejects(h.store.head('/etc/passwd'), /must be relative/);
      await assert.rejects(h.store.head('a//b'), /empty segment/);
      await assert.rejects(h.store.head('x'.repeat(1025)), /at most 1024 bytes/);
    });
  });
}

objectStoreSpec('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'haven-storage-fs-'));
  const neverCreated = join(dir, 'never-created');
  return {
    store: createFsStore(join(dir, 'root')),
    leftovers: () => readdir(join(dir, 'root', '.tmp')),
    untouchable: {
      store: createFsStore(neverCreated),
      assertUntouched: () => assert.equal(existsSync(neverCreated), false, 'an invalid key caused filesystem writes'),
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

objectStoreSpec('s3', async () => {
  const s3 = await startS3rver();
  return {
    store: s3.store(''),
    leftovers: s3.pendingMultipartUploads,
    untouchable: {
      // Nothing listens on port 9 (discard) of loopback: any request would fail with a network error instead.
      store: createS3Store({ ...s3Options('http://127.0.0.1:9'), prefix: '' }),
      assertUntouched: () => {},
    },
    close: s3.close,
  };
});

describe('fs driver specifics', () => {
  let dir: string;
  let root: string;
  let store: ObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'haven-storage-fs-'));
    root = join(dir, 'root');
    store = createFsStore(root);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('localPath is the file under the root that holds the bytes', async () => {
    await store.put('lp/a/b.ts', Buffer.from('segment'));
    const path = store.localPath!('lp/a/b.ts');
    assert.equal(path, join(root, 'lp', 'a', 'b.ts'));
    assert.equal(await readFile(path, 'utf8'), 'segment');
  });

  test('a failed put leaves no temporary file', async () => {
    await assert.rejects(store.put('atomic/x', generatedStream(2 * MiB, {}, MiB)), /source failed mid-stream/);
    assert.equal(await store.head('atomic/x'), undefined);
    assert.deepEqual(await readdir(join(root, '.tmp')), []);
    assert.equal(existsSync(join(root, 'atomic')), false, 'no parent directory is created for a failed put');
  });

  test('the staging directory is neither listable nor addressable', async () => {
    await store.put('visible', Buffer.from('x'));
    assert.ok(existsSync(join(root, '.tmp')));
    assert.deepEqual(await keysUnder(store, ''), ['visible', ...(await keysUnder(store, 'lp/'))].sort());
    await assert.rejects(store.put('.tmp/evil', Buffer.from('x')), InvalidObjectKeyError);
    await assert.rejects(store.get('.tmp'), InvalidObjectKeyError);
    assert.throws(() => store.list('.tmp/'), InvalidObjectKeyError);
    await store.put('deep/.tmp/fine', Buffer.from('only the top level is reserved'));
    assert.equal(await store.deletePrefix(''), 3);
    assert.ok(existsSync(join(root, '.tmp')), 'deletePrefix("") keeps the staging directory');
  });

  test('delete and deletePrefix remove directories they leave empty', async () => {
    await store.put('prune/a/b/c/1', Buffer.from('1'));
    await store.put('prune/a/keep', Buffer.from('2'));
    await store.delete('prune/a/b/c/1');
    assert.equal(existsSync(join(root, 'prune', 'a', 'b')), false);
    assert.ok(existsSync(join(root, 'prune', 'a', 'keep')));
    await store.put('prune/a/x/y/z', Buffer.from('3'));
    assert.equal(await store.deletePrefix('prune/a/'), 2);
    assert.equal(existsSync(join(root, 'prune')), false);
  });

  test('an object and a "directory" cannot share a name on disk', async () => {
    await store.put('clash/a', Buffer.from('file'));
    await assert.rejects(store.put('clash/a/b', Buffer.from('x')), /a file and a directory would share one path/);
    assert.deepEqual(await readdir(join(root, '.tmp')), []);
  });

  test('etag is mtime-and-size based and changes on every put', async () => {
    const a = await store.put('etag/x', Buffer.from('same'));
    const b = await store.put('etag/x', Buffer.from('same'));
    assert.match(a.etag, /^[0-9a-f]+-4$/);
    assert.notEqual(a.etag, b.etag);
  });
});

describe('s3 driver specifics', () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  before(async () => { s3 = await startS3rver(); });
  after(() => s3.close());

  test('a key prefix is prepended on write and stripped from listings', async () => {
    const raw = s3.store('');
    const scoped = s3.store('/installation-1');
    await scoped.put('v/1', Buffer.from('scoped'));
    await raw.put('v/outside', Buffer.from('unscoped'));
    assert.deepEqual(await keysUnder(raw, 'installation-1/'), ['installation-1/v/1']);
    assert.deepEqual(await keysUnder(scoped, ''), ['v/1']);
    assert.equal((await readAll(await scoped.get('v/1'))).toString(), 'scoped');
    assert.equal(await scoped.deletePrefix(''), 1);
    assert.deepEqual(await keysUnder(raw, ''), ['v/outside']);
  });

  test('large bodies are sent as multipart uploads in 8 MiB parts, small ones as one PUT', async () => {
    const store = s3.store('');
    await s3.takeRequests();
    await store.put('mp/small', Buffer.alloc(1024));
    const small = (await s3.takeRequests()).filter((r) => !r.startsWith('HEAD'));
    assert.equal(small.length, 1);
    assert.match(small[0]!, /^PUT \/haven-test\/mp\/small(\?x-id=PutObject)?$/);
    await store.put('mp/large', generatedStream(17 * MiB, {}));
    const requests = await s3.takeRequests();
    assert.equal(requests.filter((r) => r.startsWith('POST /haven-test/mp/large?uploads')).length, 1);
    assert.equal(requests.filter((r) => r.startsWith('PUT /haven-test/mp/large?partNumber=')).length, 3);
  });

  test('when aborting a multipart upload fails too, put still reports the body\'s error', async () => {
    // This server answers AbortMultipartUpload with 405, as s3rver does without the emulation.
    const noAbort = await startS3rver({ emulateAbort: false });
    try {
      const failure = new Error('client went away');
      await assert.rejects(noAbort.store('').put('x', generatedStream(20 * MiB, {}, 9 * MiB, failure)), (err) => err === failure);
      assert.equal((await noAbort.pendingMultipartUploads()).length, 1, 'the server kept the parts it could not abort');
    } finally {
      await noAbort.close();
    }
  });

  test('the content type given to put is stored with the object', async () => {
    await s3.store('').put('ct/clip.mp4', Buffer.from('not really video'), { contentType: 'video/mp4' });
    assert.equal(await s3.rawContentType('ct/clip.mp4'), 'video/mp4');
  });

  test('objects that are not valid Haven keys are skipped by list but erased by deletePrefix', async () => {
    const store = s3.store('');
    await store.put('foreign/ok', Buffer.from('x'));
    await s3.rawPut('foreign/folder marker/');
    assert.deepEqual(await keysUnder(store, 'foreign/'), ['foreign/ok']);
    assert.equal(await store.deletePrefix('foreign/'), 2);
  });

  test('credentials must be given together', () => {
    assert.throws(() => createS3Store({ ...s3Options('http://127.0.0.1:9'), accessKeyId: undefined, prefix: '' }), /together/);
  });
});

describe('createObjectStore', () => {
  test('picks the driver from the location config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'haven-storage-fs-'));
    try {
      const fallback = createObjectStore({ driver: 'fs' }, join(dir, 'default'));
      assert.equal(fallback.driver, 'fs');
      assert.equal(fallback.localPath!('k'), join(dir, 'default', 'k'));
      const explicit = createObjectStore({ driver: 'fs', path: join(dir, 'explicit') }, join(dir, 'default'));
      assert.equal(explicit.localPath!('k'), join(dir, 'explicit', 'k'));
      const s3 = createObjectStore({ ...s3Options('http://127.0.0.1:9'), driver: 's3', prefix: '' }, join(dir, 'default'));
      assert.equal(s3.driver, 's3');
      assert.equal(s3.localPath, undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function s3Options(endpoint: string) {
  return { bucket: BUCKET, endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true };
}

// s3rver runs in a child process because it encrypts ListObjectsV2 continuation
// tokens with single DES, which OpenSSL 3 (Node >= 17) only offers through its
// legacy provider, a process-wide flag; without it every listing longer than one
// page (1000 keys) fails with 500 InternalError (ERR_OSSL_EVP_UNSUPPORTED).
// s3rver 3.7 also lacks AbortMultipartUpload (405 MethodNotAllowed); the child
// emulates it the way S3 behaves, by dropping the upload's parts.
const S3RVER_CHILD = `
const [, s3rverPath, directory, bucket, emulateAbort] = process.argv;
const S3rver = require(s3rverPath);
const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
if (emulateAbort === 'yes') {
  const fs = require('node:fs/promises');
  const path = require('node:path');
  server.middleware.unshift(async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== 'DELETE' || typeof uploadId !== 'string') return next();
    if (!/^[0-9a-f]+$/.test(uploadId)) { ctx.status = 400; return; }
    await fs.rm(path.join(directory, bucket, '._S3rver_uploads', uploadId), { recursive: true, force: true });
    ctx.status = 204;
  });
}
server.run().then(({ port }) => {
  server.httpServer.on('request', (req) => process.stdout.write(req.method + ' ' + req.url + '\\n'));
  process.stdout.write('listening ' + port + '\\n');
});
// Exit with the test process even if it dies without closing us.
process.stdin.on('end', () => process.exit(0)).resume();
`;

async function startS3rver({ emulateAbort = true } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'haven-s3rver-'));
  const s3rverPath = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', S3RVER_CHILD, s3rverPath, dir, BUCKET, emulateAbort ? 'yes' : 'no'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  const requests: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    void exited.then(([code]) => reject(new Error(`s3rver exited during startup (code ${code})`)));
    lines.on('line', (line) => {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening) resolve(Number(listening[1]));
      else requests.push(line);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let markers = 0;

  return {
    store: (prefix: string) => createS3Store({ ...s3Options(endpoint), prefix }),
    /** Requests the server saw since the last call, in order, as "METHOD url". */
    takeRequests: async (): Promise<string[]> => {
      // The log travels over a pipe, apart from HTTP; a marker request proves it has caught up.
      const marker = `GET /?log-marker=${++markers}`;
      const caughtUp = new Promise<void>((resolve) => {
        const onLine = (line: string) => {
          if (line !== marker) return;
          lines.off('line', onLine);
          resolve();
        };
        lines.on('line', onLine);
      });
      await (await fetch(`${endpoint}/?log-marker=${markers}`)).arrayBuffer();
      await caughtUp;
      return requests.splice(0).filter((r) => !r.startsWith('GET /?log-marker='));
    },
    /** Upload ids whose parts s3rver still holds (its on-disk layout: <bucket>/._S3rver_uploads/<id>/). */
    pendingMultipartUploads: () => readdir(join(dir, BUCKET, '._S3rver_uploads')).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    }),
    rawContentType: async (key: string) => (await fetch(`${endpoint}/${BUCKET}/${key}`, { method: 'HEAD' })).headers.get('content-type'),
    /** Writes a key the store itself would refuse, as another tool might. */
    rawPut: async (key: string) => {
      const res = await fetch(`${endpoint}/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'PUT', body: '' });
      assert.equal(res.status, 200, await res.text());
    },
    close: async () => {
      child.kill();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
