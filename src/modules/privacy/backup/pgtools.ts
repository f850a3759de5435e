// The PostgreSQL client tools a logical backup uses (pg_dump, pg_restore from
// Debian's postgresql-client), spawned with the password in the environment
// rather than on the command line, where `ps` would show it.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { AppError } from '../../../platform/errors.ts';

const run = promisify(execFile);

export interface Connection { url: string; env: NodeJS.ProcessEnv }

/** The URL without its password, and an environment carrying it (PGPASSWORD). */
export function connectionOf(url: string): Connection {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

/** "15.20" from `pg_dump --version`; refuses when the tool is missing. */
export async function toolVersion(tool: 'pg_dump' | 'pg_restore'): Promise<string> {
  try {
    const { stdout } = await run(tool, ['--version']);
    const m = /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(stdout);
    if (m) return m[1]!;
  } catch { /* reported below */ }
  throw new AppError('backup_tool_missing', 500, `${tool} was not found on PATH; install PostgreSQL's client tools (Debian: postgresql-client) of the server's major version.`);
}

export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    return rows[0]!.server_version.split(' ')[0]!;
  } finally {
    await client.end();
  }
}

export const major = (version: string) => Number(version.split('.')[0]);

/** pg_dump must be of the server's major version: an older one refuses, a newer one writes archives older tools cannot read. */
export async function assertDumpMatchesServer(url: string): Promise<{ server: string; pgDump: string }> {
  const [server, pgDump] = await Promise.all([serverVersion(url), toolVersion('pg_dump')]);
  if (major(server) !== major(pgDump)) {
    throw new AppError('backup_version_mismatch', 500, `pg_dump on PATH is version ${pgDump} but the database server runs PostgreSQL ${server}; install pg_dump ${major(server)} (Debian: postgresql-client-${major(server)}) and put it first on PATH.`);
  }
  return { server, pgDump };
}

/** Spawns a tool with its stderr collected for the error message. */
export function spawnTool(tool: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcessWithoutNullStreams; done: Promise<void> } {
  const child = spawn(tool, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { if (stderr.length < 8192) stderr += b.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new AppError('backup_tool_failed', 500, `${tool} could not be started: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new AppError('backup_tool_failed', 500, `${tool} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  return { child, done };
}

/** Whether a database holds no tables, views or sequences of its own (a safe restore target). */
export async function isEmptyDatabase(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind in ('r', 'v', 'm', 'S', 'p')`,
    );
    return rows[0]!.n === 0;
  } finally {
    await client.end();
  }
}

// A database being restored carries a comment naming the backup until the
// erasure ledger has been re-applied to it. pg_dump leaves database comments
// out (without --create), so a mark set before pg_restore survives it, and a
// restore that died halfway leaves its target refusing to serve.
const RESTORE_MARK = 'haven:restore-pending:';

async function onDatabase(url: string, statement: (db: string) => string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ db: string }>('select current_database() as db');
    await client.query(statement(pg.escapeIdentifier(rows[0]!.db)));
  } finally {
    await client.end();
  }
}

export const markRestorePending = (url: string, id: string) =>
  onDatabase(url, (db) => `comment on database ${db} is ${pg.escapeLiteral(RESTORE_MARK + id)}`);

export const clearRestoreMark = (url: string) => onDatabase(url, (db) => `comment on database ${db} is null`);

/** The backup id of an unfinished restore into this database, if any. */
export async function pendingRestore(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ c: string | null }>(`select shobj_description(oid, 'pg_database') as c from pg_database where datname = current_database()`);
  const comment = rows[0]?.c;
  return comment?.startsWith(RESTORE_MARK) ? comment.slice(RESTORE_MARK.length) : undefined;
}
