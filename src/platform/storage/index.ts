import type { StorageLocationConfig } from '../../config.ts';
import { createFsStore } from './fs.ts';
import type { ObjectStore } from './types.ts';

export { assertValidKey, assertValidPrefix, isValidKey } from './keys.ts';
export { createFsStore } from './fs.ts';
export type { S3StoreOptions } from './s3.ts';
export {
  ByteRangeNotSatisfiableError,
  InvalidObjectKeyError,
  ObjectNotFoundError,
  type ByteRange,
  type ObjectInfo,
  type ObjectStore,
} from './types.ts';

/** defaultFsRoot is used when an fs location names no path (config: <dataDir>/storage/<region>). */
export function createObjectStore(config: StorageLocationConfig, defaultFsRoot: string): ObjectStore {
  switch (config.driver) {
    case 'fs':
      return createFsStore(config.path ?? defaultFsRoot);
    case 's3':
      // The AWS SDK costs ~13 MB of memory; only installations that use S3 load it.
      return lazyStore('s3', async () => (await import('./s3.ts')).createS3Store(config));
  }
}

/** An ObjectStore whose driver is imported on first use. */
function lazyStore(driver: 's3', load: () => Promise<ObjectStore>): ObjectStore {
  let store: Promise<ObjectStore> | undefined;
  const get = () => (store ??= load());
  return {
    driver,
    put: async (key, body, opts) => (await get()).put(key, body, opts),
    get: async (key, range) => (await get()).get(key, range),
    head: async (key) => (await get()).head(key),
    delete: async (key) => (await get()).delete(key),
    deletePrefix: async (prefix) => (await get()).deletePrefix(prefix),
    async *list(prefix) {
      yield* (await get()).list(prefix);
    },
  };
}
