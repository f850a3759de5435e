// haven audit verify [--tenant SLUG|ID] [--json]: recomputes the audit hash
// chains and checks the signed checkpoints. Exit 0 when every chain verifies,
// 1 when one is broken (so cron or monitoring can alert on it).
import type { Haven } from '../main.ts';
import { PLATFORM_TENANT_ID } from '../modules/audit/events.ts';
import { createAuditService, type VerifyReport } from '../modules/audit/service.ts';
import { UsageError } from './usage.ts';
import { type CliCommand, withHaven } from './with-haven.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function resolveTenant(haven: Haven, given: string): Promise<string> {
  if (given === 'platform' || given === PLATFORM_TENANT_ID) return PLATFORM_TENANT_ID;
  const tenant = UUID.test(given) ? await haven.modules.tenants.get(given.toLowerCase()) : await haven.modules.tenants.bySlug(given);
  if (!tenant) throw new UsageError(`audit verify: no tenant with slug or id "${given}"`);
  return tenant.id;
}

export function describeReport(report: VerifyReport, name: string): string {
  const checkpoint = report.lastVerifiedCheckpoint
    ? `last verified checkpoint #${report.lastVerifiedCheckpoint.chainSeq} (${report.lastVerifiedCheckpoint.kind}) at ${report.lastVerifiedCheckpoint.at}`
    : 'no verified checkpoint yet';
  if (report.ok) return `${name}: ok, ${report.entries} entries, head #${report.headSeq}, ${checkpoint}`;
  const b = report.firstBroken!;
  return `${name}: BROKEN at entry #${b.chainSeq}${b.id === null ? '' : ` (id ${b.id})`}: ${b.reason}: ${b.message}; ${checkpoint}`;
}

export const auditCommand: CliCommand = {
  summary: 'audit verify [--tenant SLUG|ID]: check the tamper-evident audit trail',
  help: [
    'Usage: haven audit verify [--tenant SLUG|ID] [--json]',
    '',
    'Recomputes the hash chain of every tenant (and of the platform, "--tenant platform")',
    'and checks the signed checkpoints. Reports the first broken entry, if any, and the',
    'last verified checkpoint. Exit code 0 when everything verifies, 1 when a chain is broken.',
    '',
    '  --tenant T   verify one tenant, by slug or id',
    '  --json       print one JSON report per line',
  ].join('\n'),
  options: { tenant: { type: 'string' }, json: { type: 'boolean' } },
  async run(values, [action, ...rest], io) {
    if (action !== 'verify' || rest.length > 0) throw new UsageError('audit: expected "verify"');
    return withHaven(io, async (haven) => {
      const audit = createAuditService(haven.platform);
      const reports = values.tenant ? [await audit.verify(await resolveTenant(haven, String(values.tenant)))] : await audit.verifyAll();
      const slugs = new Map((await haven.modules.tenants.list()).map((t) => [t.id, t.slug]));
      slugs.set(PLATFORM_TENANT_ID, 'platform');
      for (const report of reports) {
        io.out(values.json ? JSON.stringify(report) : describeReport(report, `${slugs.get(report.tenantId) ?? 'deleted tenant'} (${report.tenantId})`));
      }
      if (reports.length === 0 && !values.json) io.out('no audit trail yet: nothing to verify');
      return reports.every((r) => r.ok) ? 0 : 1;
    });
  },
};
