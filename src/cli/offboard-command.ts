// haven tenant offboard --tenant T [--grace-days N] [--include-media] and
// haven tenant certificate --tenant T [--json]: added to the tenant command.
// offboard makes the tenant read-only, prepares its export and prints the
// one-time download path; certificate prints the signed certificate of
// deletion and verifies it (exit 0 valid, 1 not).
import type { Haven } from '../main.ts';
import { systemContext } from '../modules/identity/actor.ts';
import { required, UsageError } from './usage.ts';
import { type CliCommand, type CliIo, type Values, withHaven } from './with-haven.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function tenantIdOf(haven: Haven, given: string): Promise<string> {
  const t = UUID.test(given) ? await haven.modules.tenants.get(given.toLowerCase()) : await haven.modules.tenants.bySlug(given);
  if (!t) throw new UsageError(`tenant: no tenant with slug or id "${given}"`);
  return t.id;
}

async function offboard(io: CliIo, values: Values): Promise<number> {
  required(values, 'tenant');
  let graceDays: number | undefined;
  if (values['grace-days'] !== undefined) {
    if (!/^\d+$/.test(String(values['grace-days'])) || Number(values['grace-days']) > 365) throw new UsageError('tenant offboard: --grace-days must be a whole number from 0 to 365');
    graceDays = Number(values['grace-days']);
  }
  return withHaven(io, async (haven) => {
    const tenantId = await tenantIdOf(haven, String(values.tenant));
    const r = await haven.modules.privacy.offboarding.offboard({ tenantId, graceDays, includeMedia: Boolean(values['include-media']), via: 'cli' }, systemContext('operator'));
    io.out(`tenant ${tenantId} is read-only; its export (${r.exportBytes} bytes) is ready`);
    io.out(`owners download it once, signed in, at ${r.downloadPath}`);
    io.out(`everything it has is destroyed after ${r.graceEndsAt.toISOString()}`);
    return 0;
  });
}

async function certificate(io: CliIo, values: Values): Promise<number> {
  required(values, 'tenant');
  const given = String(values.tenant);
  return withHaven(io, async (haven) => {
    // A destroyed tenant keeps its tombstone, so its slug still resolves; an id always works.
    const tenantId = UUID.test(given) ? given.toLowerCase() : await tenantIdOf(haven, given);
    const signed = await haven.modules.privacy.offboarding.certificate(tenantId);
    if (values.json) {
      io.out(JSON.stringify(signed, null, 2));
    } else {
      const c = signed.certificate;
      io.out(JSON.stringify({ certificate: c, signature: signed.signature, publicKey: signed.publicKey }, null, 2));
      io.out(`signature (Ed25519): ${signed.valid ? 'VALID' : 'INVALID'}`);
      io.out(`tenant ${c.tenant.slug} (${c.tenant.id}): keys destroyed at ${c.keys.destroyedAt}; ${Object.values(c.rows.destroyed).reduce((a, b) => a + b, 0)} rows and ${c.objects.reduce((a, o) => a + o.destroyed, 0)} objects destroyed`);
    }
    return signed.valid ? 0 : 1;
  });
}

/** The tenant command with offboard and certificate added. */
export function withOffboarding(tenant: CliCommand): CliCommand {
  return {
    summary: `${tenant.summary} | offboard --tenant T | certificate --tenant T`,
    help: [
      tenant.help,
      '',
      'Usage: haven tenant offboard --tenant SLUG|ID [--grace-days N] [--include-media]',
      '       haven tenant certificate --tenant SLUG|ID [--json]',
      '',
      '  offboard         the contract ended: the tenant becomes read-only, its full export is prepared',
      '                   (one-time download for its owners) and after N days (HAVEN_OFFBOARDING_GRACE_DAYS,',
      '                   default 30) its key, objects and rows are destroyed',
      '  --include-media  put the media originals, decrypted, into the export',
      '  certificate      print the signed certificate of deletion and verify it (exit 1 when it does not verify)',
    ].join('\n'),
    options: { ...tenant.options, 'grace-days': { type: 'string' }, 'include-media': { type: 'boolean' }, json: { type: 'boolean' } },
    async run(values, positionals, io) {
      if (positionals[0] === 'offboard') return offboard(io, values);
      if (positionals[0] === 'certificate') return certificate(io, values);
      return tenant.run(values, positionals, io);
    },
  };
}
