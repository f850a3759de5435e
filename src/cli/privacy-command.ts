// haven privacy datamap [--json]: the data map, one line per personal column.
// haven privacy records [--tenant SLUG|ID] [--json]: the record of processing
// (GDPR Art. 30), the platform's or one tenant's.
import { dataMapRows, formatDataMap } from '../modules/privacy/records/datamap-view.ts';
import { platformRecord, type RecordOfProcessing, tenantRecord } from '../modules/privacy/records/record.ts';
import { UsageError } from './usage.ts';
import { type CliCommand, withHaven } from './with-haven.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The record as text an operator can read or paste into their own register. */
export function formatRecord(r: RecordOfProcessing): string {
  const list = (items: string[]) => items.map((i) => `  - ${i}`).join('\n') || '  (none)';
  const who = (p: RecordOfProcessing['processor']) => (p ? [p.name, p.contact, p.dpo && `DPO ${p.dpo}`].filter(Boolean).join(', ') : '(not configured: set controller in the configuration)');
  return [
    `Record of processing (${r.scope}${r.tenant ? `: ${r.tenant.name} (${r.tenant.slug}), region ${r.tenant.region}, jurisdiction ${r.tenant.jurisdiction}` : ''}), ${r.generatedAt}`,
    ...(r.controller ? [`Controller: ${r.controller.name}`] : []),
    `Processor (platform operator): ${who(r.processor)}`,
    'Purposes and legal bases:',
    list(r.activities.map((a) => `${a.purpose} — ${a.legalBases.join('; ')} [${a.dataCategories.join(', ')}]`)),
    'Categories of data:',
    list(r.dataCategories.map((c) => `${c.category}: ${c.description}`)),
    'Categories of data subjects:',
    list(r.dataSubjects.map((s) => `${s.kind}: ${s.description}`)),
    'Recipients (subprocessors):',
    list(r.recipients.map((s) => `${s.name} (${s.location}, ${s.jurisdiction}) for ${s.features.join(', ')}: ${s.purpose}`)),
    'Transfers outside the jurisdiction:',
    list(r.transfers.map((t) => `${t.subprocessor}: ${t.from} → ${t.to} (${t.location}), ${t.status === 'covered' ? `basis ${t.basis} (${t.basisSource})` : 'NO BASIS: features that use it cannot be enabled'}`)),
    'Retention settings:',
    list(Object.entries(r.retention.settings).map(([k, v]) => `${k}: ${v ?? 'not set'}`)),
    'Retention by table:',
    list(r.retention.rules.map((x) => `${x.table}: ${x.rule}`)),
    'Security measures:',
    list(r.securityMeasures),
  ].join('\n');
}

export const privacyCommand: CliCommand = {
  summary: 'privacy datamap | records [--tenant T]: the data map and the record of processing',
  help: [
    'Usage: haven privacy datamap [--json]',
    '       haven privacy records [--tenant SLUG|ID] [--json]',
    '',
    'datamap   every column that can hold personal data: table, column, category, subject,',
    '          purpose, legal basis, retention and erasure action',
    'records   the record of processing activities (GDPR Art. 30) built from the data map',
    '          and the configuration: the platform\'s, or one tenant\'s with --tenant',
    '',
    '  --tenant T   the record of one tenant, by slug or id',
    '  --json       print JSON',
  ].join('\n'),
  options: { tenant: { type: 'string' }, json: { type: 'boolean' } },
  async run(values, [action, ...rest], io) {
    if (rest.length > 0 || (action !== 'datamap' && action !== 'records')) throw new UsageError('privacy: expected "datamap" or "records"');
    if (action === 'datamap') {
      if (values.tenant !== undefined) throw new UsageError('privacy datamap: --tenant does not apply (the data map is the same for every tenant)');
      const rows = dataMapRows();
      io.out(values.json ? JSON.stringify(rows, null, 2) : formatDataMap(rows));
      return 0;
    }
    return withHaven(io, async (haven) => {
      let record: RecordOfProcessing;
      if (values.tenant !== undefined) {
        const given = String(values.tenant);
        const tenant = UUID.test(given) ? await haven.modules.tenants.get(given.toLowerCase()) : await haven.modules.tenants.bySlug(given);
        if (!tenant) throw new UsageError(`privacy records: no tenant with slug or id "${given}"`);
        record = await tenantRecord(haven.platform, tenant.id);
      } else {
        record = await platformRecord(haven.platform);
      }
      io.out(values.json ? JSON.stringify(record, null, 2) : formatRecord(record));
      return 0;
    });
  },
};
