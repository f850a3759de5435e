// Residency: the storage layer enforces it (src/platform/storage/regions.ts);
// this part tells it each tenant's region and answers "where is everything".
import type { Platform } from '../../../platform/platform.ts';
import { tenantRegionsFromDatabase } from '../../../platform/storage/regions.ts';
import { residencyReport } from './report.ts';

export type { ResidencyObject, ResidencyReport } from './report.ts';

export function createResidency(platform: Platform) {
  // From here on, every tenant object written through a region's store is checked against its tenant's jurisdiction.
  platform.storage.bindTenantRegions(tenantRegionsFromDatabase(platform.db));
  return {
    report: (opts: { tenantId?: string } = {}) => residencyReport(platform, opts),
    /** For exports and backups: throws unless a tenant of tenantRegion may be written to the target (a location or a region's name). */
    assertLocationAllowed: platform.storage.assertLocationAllowed,
  };
}

export type Residency = ReturnType<typeof createResidency>;
