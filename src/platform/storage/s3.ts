// Objects in an S3 bucket (AWS or any S3-compatible server), optionally under
// a key prefix so several installations or regions can share one bucket.
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
  type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { assertValidKey, assertValidPrefix, assertValidRange, isValidKey } from './keys.ts';
import { ByteRangeNotSatisfiableError, ObjectNotFoundError, type ByteRange, type ObjectInfo, type ObjectStore } from './types.ts';

export interface S3StoreOptions {
  bucket: string;
  /** S3-compatible endpoint URL; omit for AWS. */
  endpoint?: string;
  region: string;
  /** Both or neither; when omitted the SDK's default chain (env, instance role) applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Prepended to every key; "haven" and "haven/" both mean "haven/". */
  prefix: string;
}

/** Bodies above one part go multipart; two parts in flight bound memory to ~16 MiB per upload. */
const PART_SIZE = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;
/** DeleteObjects accepts at most this many keys per request. */
const DELETE_BATCH_SIZE = 1000;

export function createS3Store(opts: S3StoreOptions): ObjectStore {
  const { bucket } = opts;
  const keyPrefix = normalizeKeyPrefix(opts.prefix);
  const client = new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials: staticCredentials(opts),
  });

  function objectKey(key: string): string {
    assertValidKey(key);
    return keyPrefix + key;
  }

  function prefixKey(prefix: string): string {
    assertValidPrefix(prefix);
    return keyPrefix + prefix;
  }

  async function put(key: string, body: Readable | Buffer, options?: { contentType?: string }): Promise<ObjectInfo> {
    const Key = objectKey(key);
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key, Body: body, ContentType: options?.contentType },
      partSize: PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
      // An aborted multipart upload would otherwise keep its parts (and their cost) forever.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      // When the body fails and aborting the multipart upload fails too, lib-storage
      // reports the abort failure. Callers need the body's own error (a disconnected
      // client, a size limit); leftover parts are for a bucket lifecycle rule to expire.
      const bodyError = body instanceof Readable ? body.errored : null;
      throw bodyError ?? err;
    }
    // PUT answers carry neither size nor date; one HEAD gives the same view list() has.
    const info = await headObject(key, Key);
    if (!info) throw new Error(`S3 accepted "${Key}" in bucket "${bucket}" but HEAD cannot find it`);
    return info;
  }

  async function get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = objectKey(key);
    if (range) assertValidRange(key, range);
    try {
      const out = await client.send(new GetObjectCommand({
        Bucket: bucket,
        Key,
        Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
      }));
      if (!(out.Body instanceof Readable)) throw new Error('S3 returned a body that is not a Node.js stream');
      return out.Body;
    } catch (err) {
      if (isMissingKey(err)) throw new ObjectNotFoundError(key);
      if (err instanceof S3ServiceException && (err.name === 'InvalidRange' || err.$metadata.httpStatusCode === 416)) {
        throw new ByteRangeNotSatisfiableError(key, range ?? { start: 0 }, 'starts at or past the end of the object');
      }
      throw err;
    }
  }

  async function headObject(key: string, Key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag), modified: out.LastModified ?? new Date(0) };
    } catch (err) {
      // HEAD responses have no body, so a missing bucket looks the same as a missing key here.
      if (isMissingKey(err)) return undefined;
      throw err;
    }
  }

  async function deleteObject(key: string): Promise<void> {
    // S3 answers 204 for missing keys too, which is exactly the idempotence we promise.
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
  }

  // Deletes whatever is stored under the prefix, even keys this store would not
  // have written (console folder markers, foreign tools): erasure must be complete.
  async function deletePrefix(prefix: string): Promise<number> {
    const Prefix = prefixKey(prefix);
    let count = 0;
    for await (const page of listPages(Prefix)) {
      const keys = page.flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      for (let i = 0; i < keys.length; i += DELETE_BATCH_SIZE) {
        const batch = keys.slice(i, i + DELETE_BATCH_SIZE);
        const out = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
        const failed = out.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0]!;
          throw new Error(`S3 refused to delete ${failed.length} object(s) under "${Prefix}"; first "${first.Key}": ${first.Code} ${first.Message}`);
        }
        count += batch.length;
      }
    }
    return count;
  }

  function list(prefix: string): AsyncIterable<ObjectInfo> {
    // Validate now rather than on first iteration, so bad input fails at the call.
    return listObjects(prefixKey(prefix));
  }

  async function* listObjects(Prefix: string): AsyncGenerator<ObjectInfo> {
    for await (const page of listPages(Prefix)) {
      for (const o of page) {
        const key = o.Key?.slice(keyPrefix.length);
        // Keys outside Haven's alphabet (e.g. "dir/" markers) could not be read back through this store.
        if (key === undefined || !isValidKey(key)) continue;
        yield { key, size: o.Size ?? 0, etag: unquote(o.ETag), modified: o.LastModified ?? new Date(0) };
      }
    }
  }

  async function* listPages(Prefix: string): AsyncGenerator<_Object[]> {
    for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix })) {
      yield page.Contents ?? [];
    }
  }

  return {
    driver: 's3',
    put,
    get,
    head: async (key) => headObject(key, objectKey(key)),
    delete: deleteObject,
    deletePrefix,
    list,
  };
}

function normalizeKeyPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  assertValidKey(trimmed);
  return `${trimmed}/`;
}

function staticCredentials(opts: S3StoreOptions): { accessKeyId: string; secretAccessKey: string } | undefined {
  const { accessKeyId, secretAccessKey } = opts;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  if (accessKeyId || secretAccessKey) throw new Error('S3 storage needs accessKeyId and secretAccessKey together, or neither');
  return undefined;
}

function isMissingKey(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  if (err.name === 'NoSuchKey' || err.name === 'NotFound') return true;
  // Some S3-compatible servers use other codes for a 404; a missing bucket is a configuration error, not a missing object.
  return err.$metadata.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}

/** S3 wraps ETags in double quotes (HTTP entity-tag syntax); callers get the bare value. */
function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
