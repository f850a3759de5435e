import type { StorageLocationConfig } from '../../config.ts';
import { createFsStore } from './fs.ts';
import { createS3Store } from './s3.ts';
import type { ObjectStore } from './types.ts';

export { assertValidKey, assertValidPrefix, isValidKey } from './keys.ts';
export { createFsStore } from './fs.ts';
export { createS3Store, type S3StoreOptions } from './s3.ts';
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
      return createS3Store(config);
  }
}
