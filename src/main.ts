// Composition root: config → platform adapters → modules → HTTP routes and
// job handlers. Everything is built here and passed in; nothing is global.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { type Config, productionProblem } from './config.ts';
import { createKeyring } from './platform/crypto/keyring.ts';
import { createPseudonymizer, scrubText } from './platform/crypto/pseudonym.ts';
import { loadRootSecrets } from './platform/crypto/secrets.ts';
import { lockDataDir, prepareDataDir, StartupError } from './platform/datadir.ts';
import { appRoleName, type Database, ensureAppRole, ensureDatabaseExists, grantAppRole, openDatabase } from './platform/db/database.ts';
import { attachEmbeddedPostgres, type EmbeddedPostgres, startEmbeddedPostgres } from './platform/db/embedded.ts';
import { type MigrationReport, migrateToLatest } from './platform/db/migrate.ts';
import { JobQueue } from './platform/jobs.ts';
import { createLogger, type Logger } from './platform/log.ts';
import { createMailer } from './platform/mail.ts';
import { join } from 'node:path';
import { type Platform, systemClock } from './platform/platform.ts';
import { createStorage } from './platform/storage/regions.ts';
import type { HttpServer } from './platform/http/server.ts';
import { withTimeout } from './platform/timeout.ts';
import { auditConfiguration, auditMigrated, auditStarted, auditStopping, watchJobFailures } from './modules/audit/foundation.ts';
import { createModules, type Modules } from './modules/index.ts';
import { pendingRestore } from './modules/privacy/backup/pgtools.ts';
import { embeddedWalSettings } from './modules/privacy/backup/wal.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface HavenOptions {
  /** Run job workers in this process (haven serve without --no-workers, haven worker). */
  workers: boolean;
  /** Serve HTTP (false for haven worker). */
  http: boolean;
  /** Where logs go; stdout by default. */
  logDestination?: import('pino').DestinationStream;
  /** Seconds between job supervision passes; tests lower it. */
  superviseIntervalSeconds?: number;
  /** Tests: add routes before the server starts listening. */
  beforeListen?: (app: HttpServer) => Promise<void>;
  /** Tests: serve the web app from this build instead of web/dist. */
  webDistDir?: string;
  /** CLI commands: use the embedded database of a Haven already serving this data dir. */
  attach?: boolean;
}

export interface Haven {
  config: Config;
  platform: Platform;
  modules: Modules;
  app?: HttpServer;
  url?: string;
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

/** Brings up the database (embedded or external) and runs migrations. */
export async function openPlatformDatabase(config: Config, log: Logger, masterKey: Buffer, attachTo?: EmbeddedPostgres): Promise<{ db: Database; embedded?: EmbeddedPostgres; migrations: MigrationReport }> {
  let embedded: EmbeddedPostgres | undefined = attachTo;
  let ownerUrl = config.databaseUrl;
  if (!ownerUrl) {
    // With WAL archiving on (the default for the embedded server), finished WAL goes encrypted to the backup location (docs/operations.md).
    embedded ??= await startEmbeddedPostgres(config.dataDir, config.embeddedDatabasePort, (line) => log.info(line), await embeddedWalSettings(config, masterKey));
    ownerUrl = embedded.url;
  } else {
    await ensureDatabaseExists(ownerUrl);
  }
  const role = appRoleName(ownerUrl);
  // Every node derives the same app-role password from the shared master key.
  const appPassword = createHmac('sha256', masterKey).update(`haven:app-db-password:${role}`).digest('base64url');
  const appUrl = config.databaseAppUrl ?? (() => {
    const u = new URL(ownerUrl);
    u.username = role;
    u.password = appPassword;
    return u.toString();
  })();
  const db = openDatabase(ownerUrl, appUrl);
  let report: MigrationReport;
  try {
    report = await migrateToLatest(db.ownerPool);
    if (report.applied.length) log.info({ applied: report.applied }, 'database migrated');
    if (!config.databaseAppUrl) await ensureAppRole(db.ownerPool, role, appPassword);
    await grantAppRole(db.ownerPool, config.databaseAppUrl ? new URL(config.databaseAppUrl).username : role);
    await checkMasterKey(db, masterKey);
  } catch (err) {
    await db.close();
    await embedded?.stop();
    throw err;
  }
  return { db, embedded, migrations: report };
}

/** Refuses to run with a master key other than the one the database was set up with. */
async function checkMasterKey(db: Database, masterKey: Buffer): Promise<void> {
  const check = createHmac('sha256', masterKey).update('haven:master-key-check').digest('base64url');
  await db.ownerPool.query('insert into keyring_check (id, master_key_check) values (1, $1) on conflict (id) do nothing', [check]);
  const { rows } = await db.ownerPool.query('select master_key_check from keyring_check where id = 1');
  if (rows[0].master_key_check !== check) {
    throw new StartupError('the master key does not match the one this database was set up with; give every node the same HAVEN_MASTER_KEY');
  }
}

export async function startHaven(config: Config, opts: HavenOptions): Promise<Haven> {
  prepareDataDir(config.dataDir);
  const secrets = loadRootSecrets(config.dataDir, config);
  const problem = productionProblem(config, secrets.generated);
  if (problem) throw new StartupError(problem);
  const pseudonymize = createPseudonymizer(secrets.pseudonymKey);
  const log = createLogger({ level: config.logLevel, pseudonymize, destination: opts.logDestination });
  // A CLI command beside a running Haven shares its embedded database.
  const attached = !config.databaseUrl && opts.attach ? attachEmbeddedPostgres(config.dataDir) : undefined;
  const unlock = config.databaseUrl || attached ? () => undefined : lockDataDir(config.dataDir);

  const cleanups: (() => Promise<void> | void)[] = [unlock];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch((err) => log.error({ err }, 'shutdown step failed'));
    log.flush?.();
  };

  try {
    const { db, embedded, migrations } = await openPlatformDatabase(config, log, secrets.masterKey, attached);
    cleanups.push(() => embedded?.stop());
    cleanups.push(() => db.close());
    // A restored database serves nobody until its restore re-applied the erasure ledger (docs/operations.md).
    const restoring = opts.http || opts.workers ? await pendingRestore(db.ownerPool) : undefined;
    if (restoring) throw new StartupError(`this database is the target of an unfinished restore of backup ${restoring} (the erasure ledger was not re-applied); drop it and run haven backup restore again`);

    const jobs = new JobQueue({ connectionString: db.ownerUrl, log, regions: Object.keys(config.regions), superviseIntervalSeconds: opts.superviseIntervalSeconds, scrubErrorText: (t) => scrubText(t, pseudonymize) });
    await jobs.start();
    cleanups.push(() => jobs.stop());

    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: join(config.dataDir, 'mail-outbox'), log });
    cleanups.push(() => mailer.close());

    const platform: Platform = {
      config, log, db, jobs, mailer,
      storage: createStorage(config),
      keyring: createKeyring(secrets.masterKey),
      pseudonymize,
      signingKey: secrets.signingKey,
      clock: systemClock,
    };
    // Metrics are served over HTTP; a node that does not serve keeps none.
    const metrics = opts.http ? (await import('./platform/http/metrics.ts')).createMetrics(() => jobs.counts()) : undefined;
    if (metrics) jobs.onFailure((queue) => metrics.jobsFailed.inc({ queue }));
    const modules = await createModules(platform);
    cleanups.push(() => modules.close());

    // The platform's own events go to the platform audit chain.
    const node = { version: VERSION, http: opts.http, workers: opts.workers, region: config.workerRegion };
    const longRunning = opts.http || opts.workers;
    watchJobFailures(jobs, modules.audit, log);
    if (migrations.applied.length) await auditMigrated(modules.audit, migrations.applied, migrations.total);
    if (longRunning) {
      await auditConfiguration(modules.audit, config, pseudonymize);
      await auditStarted(modules.audit, node);
      cleanups.push(() => auditStopping(modules.audit, node));
    }

    if (opts.workers) await modules.startWorkers(config.jobConcurrency, config.workerRegion);

    // Everything is ready before the port opens: /readyz must not answer 200 for a half-started node.
    if (embedded && !attached) cleanups.push(watchEmbeddedDatabase(db, embedded, config, log, secrets.masterKey));
    // Schedules, seeded documents, warmed caches: for nodes that serve or work. A one-shot CLI command needs none of them.
    if (longRunning) await modules.onStarted();

    let app: HttpServer | undefined;
    let url: string | undefined;
    if (opts.http && metrics) {
      const { serveHttp } = await import('./serve.ts');
      ({ app, url } = await serveHttp({ platform, modules, metrics, version: VERSION, webDistDir: opts.webDistDir, beforeListen: opts.beforeListen }));
      // Close HTTP first on shutdown: in-flight requests finish before the pools go.
      cleanups.push(() => app!.close());
    }
    // Every module is loaded now: write the compile cache (bin/haven.js) so the next start finds it even if this one is killed.
    flushCompileCache();
    return { config, platform, modules, app, url, embedded, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * If the embedded PostgreSQL dies under a running Haven, /readyz turns 503 at
 * once; this watchdog restarts it, and exits the process with a clear message
 * if it cannot.
 */
function watchEmbeddedDatabase(db: Database, embedded: EmbeddedPostgres, config: Config, log: Logger, masterKey: Buffer): () => Promise<void> {
  let failures = 0;
  let restarting = false;
  // A ping that hangs (a connection to a backend the dead postmaster left behind) is a miss too, not a wait forever.
  const ping = () => withTimeout(db.ping(), 2000, 'database ping');
  let restart: Promise<unknown> | undefined;
  const timer = setInterval(async () => {
    if (restarting) return;
    try {
      await ping();
      failures = 0;
    } catch {
      failures += 1;
      // Three misses in a row (4–6 s): a slow moment is not a dead server.
      if (failures < 3) return;
      restarting = true;
      log.error('embedded PostgreSQL is not answering; restarting it');
      try {
        restart = embeddedWalSettings(config, masterKey).then((wal) => startEmbeddedPostgres(config.dataDir, config.embeddedDatabasePort, (line) => log.info(line), wal));
        await restart;
        failures = 0;
        log.info('embedded PostgreSQL restarted');
      } catch (err) {
        log.fatal({ err }, 'embedded PostgreSQL could not be restarted; exiting');
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      } finally {
        restarting = false;
      }
    }
  }, 2000);
  timer.unref();
  // Shutdown waits for a restart in progress, so embedded.stop() cannot run before it and orphan the server.
  return async () => {
    clearInterval(timer);
    await restart?.catch(() => undefined);
  };
}
