// haven dsar export|erase: an operator answers a data-subject request from
// the command line. export writes the access archive (ZIP, unencrypted: the
// operator hands it over) and prints what was found; erase runs the erasure
// part's eraseSubject and prints its report.
import { writeFile } from 'node:fs/promises';
import type { Haven } from '../main.ts';
import { systemContext } from '../modules/identity/actor.ts';
import { UsageError } from './usage.ts';
import { type CliCommand, withHaven } from './with-haven.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function resolveTenant(haven: Haven, given: unknown): Promise<string | undefined> {
  if (given === undefined) return undefined;
  const value = String(given);
  const tenant = UUID.test(value) ? await haven.modules.tenants.get(value.toLowerCase()) : await haven.modules.tenants.bySlug(value);
  if (!tenant) throw new UsageError(`dsar: no tenant with slug or id "${value}"`);
  return tenant.id;
}

export const dsarCommand: CliCommand = {
  summary: 'dsar export|erase --email E [--tenant T]: answer a data-subject request',
  help: [
    'Usage: haven dsar export --email E [--tenant SLUG|ID] --out FILE [--json]',
    '       haven dsar erase --email E [--tenant SLUG|ID] --yes [--json]',
    '',
    'export  builds the access archive (ZIP: manifest.json, one JSON file per data category,',
    '        consents.json, uploads.json, summary.html) and writes it to FILE; prints the',
    '        identities found and the rows per category. Media originals are included up to',
    '        the tenant\'s export media limit (links only across tenants).',
    'erase   erases the person (every identity, every tenant in scope) and prints the report.',
    '',
    '  --email E    the data subject\'s address',
    '  --tenant T   limit to one tenant (default: every tenant)',
    '  --out FILE   where export writes the ZIP',
    '  --yes        erase really erases: confirm it',
    '  --json       print the report as JSON',
  ].join('\n'),
  options: { email: { type: 'string' }, tenant: { type: 'string' }, out: { type: 'string' }, yes: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, [action, ...rest], io) {
    if ((action !== 'export' && action !== 'erase') || rest.length > 0) throw new UsageError('dsar: expected "export" or "erase"');
    if (typeof values.email !== 'string' || !values.email.includes('@')) throw new UsageError(`dsar ${action}: --email is required`);
    if (action === 'export' && typeof values.out !== 'string') throw new UsageError('dsar export: --out FILE is required');
    if (action === 'erase' && values.yes !== true) throw new UsageError('dsar erase: this erases the person for good; add --yes to confirm');
    return withHaven(io, async (haven) => {
      const tenantId = await resolveTenant(haven, values.tenant);
      const ctx = systemContext('cli.dsar', tenantId);
      if (action === 'export') {
        const { zip, report } = await haven.modules.privacy.dsar.buildExport({ email: String(values.email), tenantId }, null);
        await writeFile(String(values.out), zip, { mode: 0o600 });
        await haven.modules.audit.recordNow(ctx, { action: 'dsar.export.cli', details: { bytes: zip.length, tenants: report.identities.tenants, scope: tenantId ? 'tenant' : 'platform' } });
        if (values.json) io.out(JSON.stringify({ file: values.out, bytes: zip.length, ...report }));
        else {
          io.out(`identities: ${report.identities.users} user account(s), ${report.identities.audienceAccounts} audience account(s), ${report.identities.invitations} invitation(s), in ${report.identities.tenants} tenant(s)`);
          for (const [category, rows] of Object.entries(report.rowsPerCategory)) io.out(`  ${category}: ${rows} row(s)`);
          io.out(`uploads: ${report.uploads} (media included: ${report.mediaIncluded}), consents: ${report.consents}`);
          io.out(`wrote ${zip.length} bytes to ${values.out}`);
        }
        return 0;
      }
      const report = await haven.modules.privacy.erasure.eraseSubject({ email: String(values.email), tenantId }, ctx);
      if (values.json) io.out(JSON.stringify(report));
      else {
        io.out(`erasure ${report.erasureId}: ${report.state}${report.resumed ? ' (resumed)' : ''}, ${report.subjects.users} user account(s), ${report.subjects.audienceAccounts} audience account(s)`);
        for (const t of report.tables) io.out(`  ${JSON.stringify(t)}`);
        if (report.verification) io.out(`verification: ${JSON.stringify(report.verification).slice(0, 500)}`);
      }
      return report.state === 'done' ? 0 : 1;
    });
  },
};
