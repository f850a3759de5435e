// The CLI's commands: each parses its options, builds what it needs through
// main.ts, does one thing, and says what it did.
import type { Haven } from '../main.ts';
import { loadRootSecrets } from '../platform/crypto/secrets.ts';
import { createPseudonymizer } from '../platform/crypto/pseudonym.ts';
import { prepareDataDir } from '../platform/datadir.ts';
import { createLogger } from '../platform/log.ts';
import { auditCommand } from './audit-command.ts';
import { backupCommand } from './backup-command.ts';
import { dsarCommand } from './dsar-command.ts';
import { jobsCommand } from './jobs-command.ts';
import { privacyCommand } from './privacy-command.ts';
import { tenantCommand } from './tenant-command.ts';
import { userCommand } from './user-command.ts';
import { residencyCommand } from './residency-command.ts';
import { withOffboarding } from './offboard-command.ts';
import { required, UsageError } from './usage.ts';
import { type CliCommand, config, loadHaven, quietLog, withHaven } from './with-haven.ts';

/**
 * Starts a long-running Haven and runs until SIGTERM/SIGINT. The handlers are
 * installed before start-up, so a signal during initdb or migrations still
 * ends in a clean close (no orphaned PostgreSQL).
 */
async function runUntilSignal(what: string, start: () => Promise<Haven>): Promise<number> {
  let signalled: string | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: string) => {
    signalled ??= signal;
    wake?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const haven = await start();
    if (!signalled) await new Promise<void>((resolve) => { wake = resolve; });
    haven.platform.log.info({ signal: signalled }, `${what} stopping`);
    await haven.close();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

export const commands: Record<string, CliCommand> = {
  serve: {
    summary: 'serve HTTP and run job workers (the default for npm start)',
    help: 'Usage: haven serve [--no-workers] [--host H] [--port P]\n\n  --no-workers   serve HTTP only; run "haven worker" elsewhere\n  --host H       address to bind (HAVEN_HOST, default 127.0.0.1)\n  --port P       port (HAVEN_PORT, default 8080)',
    options: { 'no-workers': { type: 'boolean' }, host: { type: 'string' }, port: { type: 'string' } },
    async run(values, _, io) {
      return runUntilSignal('server', async () => {
        const { startHaven } = await loadHaven();
        const haven = await startHaven(config(io, values), { workers: !values['no-workers'], http: true });
        haven.platform.log.info({ url: haven.url, workers: !values['no-workers'] }, 'Haven is serving');
        io.err(`Haven is serving on ${haven.url}\n`);
        return haven;
      });
    },
  },
  worker: {
    summary: 'run job workers only',
    help: 'Usage: haven worker [--region R]\n\n  --region R     only run region-tagged jobs of region R (HAVEN_WORKER_REGION)',
    options: { region: { type: 'string' } },
    async run(values, _, io) {
      const cfg = config(io, values);
      if (cfg.workerRegion && !(cfg.workerRegion in cfg.regions)) throw new UsageError(`worker: --region ${cfg.workerRegion} is not a configured region`);
      return runUntilSignal('worker', async () => {
        const { startHaven } = await loadHaven();
        const haven = await startHaven(cfg, { workers: true, http: false });
        haven.platform.log.info({ region: cfg.workerRegion ?? 'all' }, 'worker running');
        return haven;
      });
    },
  },
  migrate: {
    summary: 'apply database migrations and exit',
    help: 'Usage: haven migrate\n\nApplies pending migrations (also done on every start). Safe to run on several nodes at once.',
    options: {},
    async run(_, __, io) {
      const cfg = config(io);
      prepareDataDir(cfg.dataDir);
      const secrets = loadRootSecrets(cfg.dataDir, cfg);
      const log = createLogger({ level: 'warn', pseudonymize: createPseudonymizer(secrets.pseudonymKey), destination: quietLog(io) });
      const { openPlatformDatabase } = await loadHaven();
      const { db, embedded } = await openPlatformDatabase(cfg, log, secrets.masterKey);
      const { rows } = await db.ownerPool.query('select count(*)::int as n from kysely_migration');
      await db.close();
      await embedded?.stop();
      io.out(`database is at the latest schema (${rows[0].n} migrations applied)`);
      return 0;
    },
  },
  setup: {
    summary: 'create a tenant and its first admin, non-interactively',
    help: 'Usage: haven setup --tenant NAME --admin-email E --admin-password P [--region R] [--slug S]',
    options: { tenant: { type: 'string' }, 'admin-email': { type: 'string' }, 'admin-password': { type: 'string' }, region: { type: 'string' }, slug: { type: 'string' } },
    async run(values, _, io) {
      required(values, 'tenant', 'admin-email', 'admin-password');
      return withHaven(io, async ({ modules }) => {
        const result = await modules.setup({
          tenantName: String(values.tenant),
          slug: values.slug as string | undefined,
          region: values.region as string | undefined,
          adminEmail: String(values['admin-email']),
          adminPassword: String(values['admin-password']),
        });
        io.out(`created tenant ${result.tenant.slug} (${result.tenant.id}) in region ${result.tenant.region}`);
        io.out(`created owner ${result.adminEmail}`);
        return 0;
      });
    },
  },
};

commands.jobs = jobsCommand;
commands.audit = auditCommand;
commands.backup = backupCommand;
commands.dsar = dsarCommand;
commands.user = userCommand;
commands.tenant = withOffboarding(tenantCommand);
commands.privacy = privacyCommand;
commands.residency = residencyCommand;
