// Object storage per region: each configured region has one location and a
// jurisdiction. Callers ask for the store of a tenant's region, never a path.
//
// Residency is enforced here, not by convention: a region's store refuses to
// write an object of tenant T (every tenant object key starts with
// "t/<tenantId>/") unless the store's location lies in the jurisdiction of
// T's own region. The tenant → region lookup is bound once at start-up and
// cached (a tenant's region is fixed at creation; offboarding invalidates).
import { join, resolve } from 'node:path';
import type { Config, StorageLocationConfig } from '../../config.ts';
import type { Database } from '../db/database.ts';
import { createObjectStore } from './index.ts';
import type { ObjectStore } from './types.ts';

/** The region a tenant was created in; undefined for an unknown or ended (destroyed) tenant. */
export type TenantRegionLookup = (tenantId: string) => Promise<string | undefined>;

export interface Storage {
  regions(): string[];
  forRegion(region: string): ObjectStore;
  /** The region's backup location (regions.<r>.backup; default <dataDir>/backups/<region>). Platform objects only. */
  backupForRegion(region: string): ObjectStore;
  /** The jurisdiction of the region (tenants' data must stay there). */
  jurisdiction(region: string): string;
  /** The jurisdiction the region's storage location lies in (config checks it equals the region's). */
  locationJurisdiction(region: string): string;
  /** Installs how the storage layer learns a tenant's region; writes of tenant objects are refused until then. */
  bindTenantRegions(lookup: TenantRegionLookup): void;
  /** Forgets the cached region of a tenant (after it was destroyed). */
  invalidateTenant(tenantId: string): void;
  /** Throws ResidencyError unless tenant T's data may be written to the target (a location, or a region's name): exports, backups. */
  assertLocationAllowed(tenantRegion: string, target: StorageLocationConfig | string): void;
  /** Proves each location answers (for /readyz). */
  ping(): Promise<void>;
}

export class ResidencyError extends Error {
  readonly code = 'residency_violation';
  constructor(message: string) {
    super(message);
    this.name = 'ResidencyError';
  }
}

const TENANT_KEY = /^t\/([^/]+)\//;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The tenant an object key belongs to ("t/<tenantId>/…"), or undefined for platform objects. */
export function tenantOfKey(key: string): string | undefined {
  return TENANT_KEY.exec(key)?.[1];
}

// AWS's own regions, for S3 locations without an endpoint that declare no
// jurisdiction. Anything not listed must declare one (docs/privacy/residency.md).
const AWS_REGION_JURISDICTIONS: [RegExp, string][] = [
  [/^eu-west-2$/, 'UK'], // London: outside the EU
  [/^eu-central-2$/, 'CH'], // Zurich
  [/^eu-/, 'EU'],
  [/^us-/, 'US'],
  [/^ca-/, 'CA'],
];

/**
 * Where a location is, legally: its declared jurisdiction; for AWS S3 (no
 * endpoint) the jurisdiction of its AWS region; otherwise undefined (the
 * location is taken to be where its region says).
 */
export function declaredLocationJurisdiction(location: StorageLocationConfig): string | undefined {
  if (location.jurisdiction) return location.jurisdiction.toUpperCase();
  if (location.driver === 's3' && !location.endpoint) return AWS_REGION_JURISDICTIONS.find(([re]) => re.test(location.region))?.[1];
  return undefined;
}

/** Identifies the physical place of a location, so two regions sharing one can be detected. */
function locationIdentity(location: StorageLocationConfig, defaultFsRoot: string): string {
  if (location.driver === 'fs') return `fs:${resolve(location.path ?? defaultFsRoot)}`;
  return `s3:${location.endpoint ?? 'aws'}/${location.bucket}/${location.prefix.replace(/^\/+|\/+$/g, '')}`;
}

/**
 * The first residency problem of a configuration, or undefined: a storage or
 * backup location declared (or, for AWS, known) to lie in another
 * jurisdiction than its region's, or one location shared by regions of
 * different jurisdictions.
 */
export function residencyConfigProblem(config: Pick<Config, 'regions' | 'dataDir'>): string | undefined {
  const places = new Map<string, { region: string; jurisdiction: string }>();
  for (const [name, region] of Object.entries(config.regions)) {
    const jurisdiction = region.jurisdiction.toUpperCase();
    const located = declaredLocationJurisdiction(region.storage);
    if (located !== undefined && located !== jurisdiction) {
      return `regions.${name}: its storage location is in jurisdiction ${located} but the region is ${region.jurisdiction}; tenants of ${name} must not be stored there`;
    }
    const backupLocated = region.backup && declaredLocationJurisdiction(region.backup);
    if (backupLocated !== undefined && backupLocated !== jurisdiction) {
      return `regions.${name}.backup: the backup location is in jurisdiction ${backupLocated} but the region is ${region.jurisdiction}; its tenants' backups must stay there`;
    }
    const place = locationIdentity(region.storage, join(config.dataDir, 'storage', name));
    const other = places.get(place);
    if (other && other.jurisdiction !== jurisdiction) {
      return `regions.${name}: shares its storage location with region ${other.region} of jurisdiction ${other.jurisdiction}, but is ${region.jurisdiction}`;
    }
    places.set(place, { region: name, jurisdiction });
  }
  return undefined;
}

/**
 * Throws unless a tenant of tenantRegion may have its data written to the
 * target (exports, backups): a storage location (its declared or AWS-derived
 * jurisdiction; a location that declares none is refused), or the name of a
 * configured region (its location's jurisdiction).
 */
export function assertLocationAllowed(config: Pick<Config, 'regions'>, tenantRegion: string, target: StorageLocationConfig | string, what?: string): void {
  const region = config.regions[tenantRegion];
  if (!region) throw new ResidencyError(`residency: region ${tenantRegion} is not configured`);
  if (typeof target === 'string' && !config.regions[target]) throw new ResidencyError(`residency: region ${target} is not configured`);
  const located = typeof target === 'string'
    ? declaredLocationJurisdiction(config.regions[target]!.storage) ?? config.regions[target]!.jurisdiction.toUpperCase()
    : declaredLocationJurisdiction(target);
  what ??= typeof target === 'string' ? `region ${target}'s storage` : 'this location';
  if (located === undefined) {
    throw new ResidencyError(`residency: ${what} declares no jurisdiction; a tenant of region ${tenantRegion} may only be written to ${region.jurisdiction}`);
  }
  if (located !== region.jurisdiction.toUpperCase()) {
    throw new ResidencyError(`residency: ${what} is in ${located}; a tenant of region ${tenantRegion} may only be written to ${region.jurisdiction}`);
  }
}

/** The lookup the privacy module binds (main.ts may bind it directly): tenants.region, read in platform scope. */
export function tenantRegionsFromDatabase(db: Database): TenantRegionLookup {
  return async (tenantId) => {
    if (!UUID.test(tenantId)) return undefined;
    const row = await db.withPlatform((tx) => tx.selectFrom('tenants').select(['region', 'status']).where('id', '=', tenantId).executeTakeFirst());
    // An ended tenant (offboarded and destroyed) keeps a tombstone row but may have no objects any more.
    return row && row.status !== 'ended' ? (row.region as string) : undefined;
  };
}

export function createStorage(config: Config): Storage {
  const locationJurisdiction = (region: string) => declaredLocationJurisdiction(config.regions[region]!.storage) ?? config.regions[region]!.jurisdiction.toUpperCase();
  let lookup: TenantRegionLookup | undefined;
  // Positive answers only: a tenant created a moment later must not be refused from a stale miss.
  const cache = new Map<string, Promise<string | undefined>>();

  async function tenantRegion(tenantId: string): Promise<string | undefined> {
    if (!lookup) throw new ResidencyError(`residency: the storage layer does not know tenants' regions yet; refusing to write tenant ${tenantId}'s object`);
    let found = cache.get(tenantId);
    if (!found) {
      found = lookup(tenantId);
      cache.set(tenantId, found);
      found.then((r) => { if (r === undefined) cache.delete(tenantId); }, () => cache.delete(tenantId));
    }
    return found;
  }

  async function assertMayWrite(region: string, key: string): Promise<void> {
    const tenantId = tenantOfKey(key);
    if (tenantId === undefined) return; // platform objects (probes, manifests) belong to no tenant
    const home = await tenantRegion(tenantId);
    if (home === undefined) throw new ResidencyError(`residency: refusing to write "${key}" to region ${region}: no tenant ${tenantId} exists`);
    const allowed = config.regions[home]?.jurisdiction.toUpperCase();
    const here = locationJurisdiction(region);
    if (allowed !== here) {
      throw new ResidencyError(`residency: refusing to write "${key}" to region ${region} (${here}): tenant ${tenantId} lives in region ${home} (${allowed ?? 'unconfigured'})`);
    }
  }

  function residentStore(region: string, store: ObjectStore): ObjectStore {
    return {
      ...store,
      async put(key, body, opts) {
        try {
          await assertMayWrite(region, key);
        } catch (err) {
          // A refused stream body would otherwise keep its producer waiting.
          if (!Buffer.isBuffer(body)) body.destroy();
          throw err;
        }
        return store.put(key, body, opts);
      },
    };
  }

  const stores = new Map<string, ObjectStore>();
  const backups = new Map<string, ObjectStore>();
  for (const [name, region] of Object.entries(config.regions)) {
    stores.set(name, residentStore(name, createObjectStore(region.storage, join(config.dataDir, 'storage', name))));
    backups.set(name, residentStore(name, createObjectStore(region.backup ?? { driver: 'fs' }, join(config.dataDir, 'backups', name))));
  }
  return {
    regions: () => [...stores.keys()],
    forRegion(region) {
      const store = stores.get(region);
      if (!store) throw new Error(`no storage location for region ${region}`);
      return store;
    },
    backupForRegion(region) {
      const store = backups.get(region);
      if (!store) throw new Error(`no backup location for region ${region}`);
      return store;
    },
    jurisdiction: (region) => config.regions[region]!.jurisdiction,
    locationJurisdiction,
    bindTenantRegions(fn) {
      lookup = fn;
      cache.clear();
    },
    invalidateTenant: (tenantId) => void cache.delete(tenantId),
    assertLocationAllowed: (tenantRegion, target) => assertLocationAllowed(config, tenantRegion, target),
    async ping() {
      await Promise.all([...stores.values()].map((s) => s.head('.haven/probe')));
    },
  };
}
