// Object storage per region: each configured region has one location and a
// jurisdiction. Callers ask for the store of a tenant's region, never a path.
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { createObjectStore } from './index.ts';
import type { ObjectStore } from './types.ts';

export interface Storage {
  regions(): string[];
  forRegion(region: string): ObjectStore;
  jurisdiction(region: string): string;
  /** Proves each location answers (for /readyz). */
  ping(): Promise<void>;
}

export function createStorage(config: Config): Storage {
  const stores = new Map<string, ObjectStore>();
  for (const [name, region] of Object.entries(config.regions)) {
    stores.set(name, createObjectStore(region.storage, join(config.dataDir, 'storage', name)));
  }
  return {
    regions: () => [...stores.keys()],
    forRegion(region) {
      const store = stores.get(region);
      if (!store) throw new Error(`no storage location for region ${region}`);
      return store;
    },
    jurisdiction: (region) => config.regions[region]!.jurisdiction,
    async ping() {
      await Promise.all([...stores.values()].map((s) => s.head('.haven/probe')));
    },
  };
}
