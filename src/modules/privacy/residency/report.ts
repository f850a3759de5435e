// The residency report: every object in every region's store, the tenant it
// belongs to (by its "t/<tenant>/" key prefix), where it is and under which
// jurisdiction, flagged when it lies outside its tenant's jurisdiction or
// belongs to no tenant that exists. Read-only; nothing is moved or deleted.
import type { Platform } from '../../../platform/platform.ts';
import { tenantOfKey } from '../../../platform/storage/regions.ts';

export type ResidencyFlag = 'outside_jurisdiction' | 'unknown_tenant';

export interface ResidencyObject {
  region: string;
  /** The jurisdiction of the location the object is stored in. */
  jurisdiction: string;
  key: string;
  size: number;
  tenantId: string | null;
  tenantSlug: string | null;
  /** The tenant's own region and jurisdiction, when the tenant exists. */
  tenantRegion: string | null;
  tenantJurisdiction: string | null;
  flag: ResidencyFlag | null;
}

export interface ResidencyReport {
  generatedAt: string;
  regions: { region: string; jurisdiction: string; driver: string; objects: number; bytes: number }[];
  objects: ResidencyObject[];
  flagged: number;
}

interface TenantInfo { slug: string; region: string }

export async function residencyReport(platform: Platform, opts: { tenantId?: string } = {}): Promise<ResidencyReport> {
  const { storage, db, config, clock } = platform;
  const rows = await db.withPlatform((tx) => tx.selectFrom('tenants').select(['id', 'slug', 'region']).execute());
  const tenants = new Map<string, TenantInfo>(rows.map((r) => [r.id as string, { slug: r.slug as string, region: r.region as string }]));
  const prefix = opts.tenantId ? `t/${opts.tenantId}/` : '';
  const report: ResidencyReport = { generatedAt: clock.now().toISOString(), regions: [], objects: [], flagged: 0 };
  for (const region of storage.regions()) {
    const jurisdiction = storage.locationJurisdiction(region);
    const store = storage.forRegion(region);
    const summary = { region, jurisdiction, driver: store.driver, objects: 0, bytes: 0 };
    for await (const o of store.list(prefix)) {
      const tenantId = tenantOfKey(o.key) ?? null;
      const tenant = tenantId ? tenants.get(tenantId) : undefined;
      const tenantJurisdiction = tenant ? (config.regions[tenant.region]?.jurisdiction.toUpperCase() ?? null) : null;
      const flag: ResidencyFlag | null = tenantId === null ? null : !tenant ? 'unknown_tenant' : tenantJurisdiction !== jurisdiction ? 'outside_jurisdiction' : null;
      if (flag) report.flagged += 1;
      summary.objects += 1;
      summary.bytes += o.size;
      report.objects.push({
        region, jurisdiction, key: o.key, size: o.size,
        tenantId, tenantSlug: tenant?.slug ?? null, tenantRegion: tenant?.region ?? null, tenantJurisdiction, flag,
      });
    }
    report.regions.push(summary);
  }
  return report;
}

export function describeObject(o: ResidencyObject): string {
  const owner = o.tenantId === null ? 'platform' : o.tenantSlug ? `${o.tenantSlug} (${o.tenantRegion}/${o.tenantJurisdiction})` : `unknown tenant ${o.tenantId}`;
  const flag = o.flag === 'outside_jurisdiction' ? `  FLAGGED: outside the tenant's jurisdiction ${o.tenantJurisdiction}`
    : o.flag === 'unknown_tenant' ? '  FLAGGED: belongs to no existing tenant'
    : '';
  return `${o.region}/${o.jurisdiction}  ${o.key}  ${o.size} B  ${owner}${flag}`;
}
