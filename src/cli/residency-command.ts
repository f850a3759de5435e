// haven residency report [--tenant SLUG|ID] [--json]: every stored object, its
// location and jurisdiction, flagged when it lies outside its tenant's
// jurisdiction or belongs to no tenant. Exit 0 when nothing is flagged, 1
// otherwise (so monitoring can alert on it).
import { describeObject, residencyReport } from '../modules/privacy/residency/report.ts';
import { UsageError } from './usage.ts';
import { type CliCommand, withHaven } from './with-haven.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const residencyCommand: CliCommand = {
  summary: 'residency report [--tenant T] [--json]: where every object is stored, and what is out of place',
  help: [
    'Usage: haven residency report [--tenant SLUG|ID] [--json]',
    '',
    'Lists every object in every region\'s storage location with its tenant (from the',
    '"t/<tenant>/" key prefix), the location\'s jurisdiction and the tenant\'s, and flags',
    'objects outside their tenant\'s jurisdiction and objects of tenants that do not exist.',
    'Exit code 0 when nothing is flagged, 1 when something is.',
    '',
    '  --tenant T   only this tenant\'s objects (slug or id; an id of a destroyed tenant works too)',
    '  --json       print the report as one JSON document',
  ].join('\n'),
  options: { tenant: { type: 'string' }, json: { type: 'boolean' } },
  async run(values, [action, ...rest], io) {
    if (action !== 'report' || rest.length > 0) throw new UsageError('residency: expected "report"');
    return withHaven(io, async (haven) => {
      let tenantId: string | undefined;
      if (values.tenant !== undefined) {
        const given = String(values.tenant);
        const tenant = UUID.test(given) ? undefined : await haven.modules.tenants.bySlug(given);
        if (!UUID.test(given) && !tenant) throw new UsageError(`residency report: no tenant with slug "${given}"`);
        tenantId = tenant?.id ?? given.toLowerCase();
      }
      const report = await residencyReport(haven.platform, { tenantId });
      if (values.json) {
        io.out(JSON.stringify(report));
      } else {
        for (const r of report.regions) io.out(`region ${r.region}: ${r.driver} location in ${r.jurisdiction}, ${r.objects} objects, ${r.bytes} bytes`);
        for (const o of report.objects) io.out(describeObject(o));
        io.out(report.flagged === 0 ? 'every object is inside its tenant\'s jurisdiction' : `${report.flagged} object(s) FLAGGED`);
      }
      return report.flagged === 0 ? 0 : 1;
    });
  },
};
