// Objects as plain files under one root directory, laid out by key, so a
// reverse proxy can serve them straight from disk (see localPath).
//
// etag is "<mtime in ns, hex>-<size, hex>" (the scheme nginx uses, at finer
// resolution): every put writes a new file, so the pair changes whenever the
// content does, and head/list never have to read the bytes to produce it.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type BigIntStats, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, assertValidPrefix, assertValidRange, isValidKey } from './keys.ts';
import { ByteRangeNotSatisfiableError, InvalidObjectKeyError, ObjectNotFoundError, type ByteRange, type ObjectInfo, type ObjectStore } from './types.ts';

/** Staging area for writes in progress; inside the root so rename() stays on one filesystem. */
const TMP_DIR = '.tmp';

export function createFsStore(root: string): ObjectStore {
  const base = resolve(root);
  const tmpDir = join(base, TMP_DIR);

  function pathOf(key: string): string {
    assertValidKey(key);
    return inside(key);
  }

  function dirOf(prefix: string): string {
    assertValidPrefix(prefix);
    return prefix === '' ? base : inside(prefix.slice(0, -1));
  }

  // Key validation already rules out escaping; this re-proves it on the final
  // path so a future change to the key rules cannot silently open the disk.
  function inside(relativeKey: string): string {
    if (relativeKey === TMP_DIR || relativeKey.startsWith(`${TMP_DIR}/`)) {
      throw new InvalidObjectKeyError(relativeKey, `the top-level "${TMP_DIR}" segment is reserved by the fs driver`);
    }
    const path = resolve(base, relativeKey);
    if (!isBelow(base, path)) throw new InvalidObjectKeyError(relativeKey, 'resolves outside the storage root');
    return path;
  }

  // contentType is not kept: whoever serves the file derives it from the key's extension.
  async function put(key: string, body: Readable | Buffer): Promise<ObjectInfo> {
    const target = pathOf(key);
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    try {
      // flush: fsync before close, so the rename below never publishes a file
      // whose bytes are still only in the page cache.
      await pipeline(Buffer.isBuffer(body) ? [body] : body, createWriteStream(tmp, { flags: 'wx', flush: true }));
      const stats = await stat(tmp, { bigint: true });
      await moveIntoPlace(tmp, target, key);
      return toInfo(key, stats);
    } catch (err) {
      await unlink(tmp).catch(ignore('ENOENT'));
      throw err;
    }
  }

  async function moveIntoPlace(tmp: string, target: string, key: string): Promise<void> {
    const dir = dirname(target);
    // A concurrent delete may prune the parent we just created; recreate and retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true });
        await rename(tmp, target);
        break;
      } catch (err) {
        const code = errorCode(err);
        if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
          // S3 lets "a" and "a/b" coexist; a filesystem cannot.
          throw new Error(`fs storage cannot hold "${key}": a file and a directory would share one path`, { cause: err });
        }
        if (code !== 'ENOENT' || attempt === 3) throw err;
      }
    }
    // The rename itself is only durable once the directory entry is on disk.
    await syncDirectory(dir);
  }

  async function get(key: string, range?: ByteRange): Promise<Readable> {
    const path = pathOf(key);
    if (range) assertValidRange(key, range);
    const handle = await openObject(key, path);
    try {
      const { size } = await handle.stat();
      if (range && range.start >= size) {
        throw new ByteRangeNotSatisfiableError(key, range, `starts at or past the end of the object (${size} bytes)`);
      }
      return handle.createReadStream({ start: range?.start, end: range?.end });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async function head(key: string): Promise<ObjectInfo | undefined> {
    const path = pathOf(key);
    const stats = await stat(path, { bigint: true }).catch(ignore('ENOENT', 'ENOTDIR'));
    return stats?.isFile() ? toInfo(key, stats) : undefined;
  }

  async function deleteObject(key: string): Promise<void> {
    const path = pathOf(key);
    // EISDIR: the key names a directory of other objects, so no object has this key.
    await unlink(path).catch(ignore('ENOENT', 'ENOTDIR', 'EISDIR'));
    await pruneEmptyDirectories(dirname(path));
  }

  async function deletePrefix(prefix: string): Promise<number> {
    const dir = dirOf(prefix);
    if (dir === base) return removeContents(base, TMP_DIR);
    const count = await removeContents(dir);
    await pruneEmptyDirectories(dir);
    return count;
  }

  // Deepest directories are emptied first, then removed; ENOTEMPTY means a
  // concurrent put landed meanwhile, and its object must survive.
  async function removeContents(dir: string, skip?: string): Promise<number> {
    let count = 0;
    for (const entry of await readDirectory(dir)) {
      if (entry.name === skip) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        count += await removeContents(path);
        await rmdir(path).catch(ignore('ENOENT', 'ENOTEMPTY'));
      } else if (await unlink(path).then(() => true, ignore('ENOENT'))) {
        count++;
      }
    }
    return count;
  }

  // Housekeeping only: the object is already gone, so a directory that cannot
  // be removed (not empty, raced, no permission) just ends the walk upwards.
  async function pruneEmptyDirectories(from: string): Promise<void> {
    for (let dir = from; isBelow(base, dir); dir = dirname(dir)) {
      if (!(await rmdir(dir).then(() => true, () => false))) return;
    }
  }

  function list(prefix: string): AsyncIterable<ObjectInfo> {
    // Validate now rather than on first iteration, so bad input fails at the call.
    return walk(dirOf(prefix), prefix, prefix === '');
  }

  async function* walk(dir: string, keyPrefix: string, atRoot: boolean): AsyncGenerator<ObjectInfo> {
    for (const entry of await readDirectory(dir)) {
      if (atRoot && entry.name === TMP_DIR) continue;
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        yield* walk(join(dir, entry.name), `${key}/`, false);
      } else if (entry.isFile() && isValidKey(key)) {
        // Symlinks and foreign file names are not objects this store wrote.
        const stats = await lstat(join(dir, entry.name), { bigint: true }).catch(ignore('ENOENT'));
        if (stats) yield toInfo(key, stats);
      }
    }
  }

  return {
    driver: 'fs',
    put,
    get,
    head,
    delete: deleteObject,
    deletePrefix,
    list,
    localPath: pathOf,
  };
}

/** True when path lies strictly below dir (not dir itself). */
function isBelow(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function openObject(key: string, path: string): Promise<FileHandle> {
  const handle = await open(path, 'r').catch((err: unknown) => {
    const code = errorCode(err);
    throw code === 'ENOENT' || code === 'ENOTDIR' ? new ObjectNotFoundError(key) : err;
  });
  // open() succeeds on a directory; reading it would fail later and less clearly.
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new ObjectNotFoundError(key);
  }
  return handle;
}

async function readDirectory(dir: string): Promise<Dirent[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(ignore('ENOENT', 'ENOTDIR'))) ?? [];
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function toInfo(key: string, stats: BigIntStats): ObjectInfo {
  return {
    key,
    size: Number(stats.size),
    etag: `${stats.mtimeNs.toString(16)}-${stats.size.toString(16)}`,
    modified: stats.mtime,
  };
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** A rejection handler that turns the listed errno codes into `undefined`. */
function ignore(...codes: string[]): (err: unknown) => undefined {
  return (err) => {
    if (codes.includes(errorCode(err) ?? '')) return undefined;
    throw err;
  };
}
