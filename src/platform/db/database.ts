// Two connection pools: the owner (migrations, job queue, role management) and
// the app role used for all request and job work. The app role owns nothing,
// so FORCE ROW LEVEL SECURITY applies to everything it reads or writes.
import { Kysely, PostgresDialect, PostgresDriver, type PostgresDialectConfig, sql, type Transaction } from 'kysely';
import pg from 'pg';

// bigint columns (counts, sizes, sequence numbers) come back as JS numbers when
// they fit; values beyond 2^53 are not expected for Haven's bigint columns.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});

export type Db = Kysely<any>;
export type Tx = Transaction<any>;

/** Work queued by beforeCommit, per transaction opened by withTenant/withPlatform. */
const commitWork = new WeakMap<Tx, Array<() => Promise<void>>>();

/**
 * Queues work to run inside tx after the caller's function returns, just
 * before COMMIT: a module can gather what a transaction writes and send it as
 * one statement. The work commits or rolls back with the transaction; when the
 * caller's function throws, it never runs. Returns false, queuing nothing,
 * when tx was not opened by withTenant/withPlatform (the caller then writes
 * at once).
 */
export function beforeCommit(tx: Tx, work: () => Promise<void>): boolean {
  const queue = commitWork.get(tx);
  if (!queue) return false;
  queue.push(work);
  return true;
}

export interface Database {
  /** Kysely over the app role; use withTenant/withPlatform for work. */
  app: Db;
  /** Owner pool: migrations, pg-boss, administrative statements. */
  ownerPool: pg.Pool;
  appPool: pg.Pool;
  ownerUrl: string;
  appUrl: string;
  /** Runs fn in one transaction with row-level security scoped to tenantId. */
  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs fn in one transaction that may see every tenant (platform jobs, operators). */
  withPlatform<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function appRoleName(ownerUrl: string): string {
  const db = new URL(ownerUrl).pathname.slice(1) || 'postgres';
  return `${db.replace(/[^a-z0-9_]/gi, '_').toLowerCase().slice(0, 50)}_app`;
}

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates the database named in the URL if it does not exist (connecting to `postgres`). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!name || name === 'postgres') return;
  const client = new pg.Client({ connectionString: withDatabaseName(url, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database ${pg.escapeIdentifier(name)}`).catch((err) => {
      if (err.code !== '42P04') throw err; // created concurrently
    });
  } finally {
    await client.end();
  }
}

/**
 * Makes sure the app role exists with the given password and may connect. The
 * role is per database so that several Haven databases can share a server.
 */
export async function ensureAppRole(ownerPool: pg.Pool, role: string, password: string): Promise<void> {
  const client = await ownerPool.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [`haven-role:${role}`]);
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    const ident = pg.escapeIdentifier(role);
    const pw = pg.escapeLiteral(password);
    if (!exists.rowCount) await client.query(`create role ${ident} login nosuperuser nobypassrls password ${pw}`);
    else await client.query(`alter role ${ident} login nosuperuser nobypassrls password ${pw}`);
    const dbName = (await client.query('select current_database() as d')).rows[0].d as string;
    await client.query(`grant connect, temporary on database ${pg.escapeIdentifier(dbName)} to ${ident}`);
    await client.query(`grant usage on schema public to ${ident}`);
    await client.query('select pg_advisory_unlock(hashtext($1))', [`haven-role:${role}`]);
  } finally {
    client.release();
  }
}

export const APPEND_ONLY_TABLES = ['consent_records'];

/** Grants the app role DML on every table (called after migrations). */
export async function grantAppRole(ownerPool: pg.Pool, role: string): Promise<void> {
  const ident = pg.escapeIdentifier(role);
  await ownerPool.query(`grant select, insert, update, delete on all tables in schema public to ${ident}`);
  await ownerPool.query(`grant usage, select on all sequences in schema public to ${ident}`);
  await ownerPool.query(`revoke all on table kysely_migration, kysely_migration_lock from ${ident}`).catch(() => undefined);
  // Append-only tables: records that are evidence may be added, never changed.
  for (const table of APPEND_ONLY_TABLES) {
    await ownerPool.query(`revoke update, delete, truncate on table ${pg.escapeIdentifier(table)} from ${ident}`).catch(() => undefined);
  }
}

type Scope = 'tenant' | 'platform';

/**
 * BEGIN and the row-level-security scope of a transaction as one
 * simple-protocol query: every transaction costs one round trip less than
 * BEGIN followed by a set_config statement. A simple query takes no
 * parameters, so the values are literals quoted by pg.escapeLiteral, which
 * quotes any string safely; an id that is not a UUID is therefore set as it
 * always was and fails where a policy casts it, as before.
 */
export function beginScoped(scope: Scope, tenantId: string): string {
  return `begin; select set_config('app.scope', ${pg.escapeLiteral(scope)}, true), set_config('app.tenant_id', ${pg.escapeLiteral(tenantId)}, true)`;
}

/**
 * A Postgres driver whose transactions do not send their own BEGIN: withTenant
 * and withPlatform send it in the same query as the scope (beginScoped).
 * Commit and rollback are Kysely's own.
 */
class ScopedBeginDriver extends PostgresDriver {
  override async beginTransaction(): Promise<void> {}
}

class ScopedBeginDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): PostgresDriver {
    return new ScopedBeginDriver(this.#config);
  }
}

export function openDatabase(ownerUrl: string, appUrl: string, poolSize = 10): Database {
  const ownerPool = new pg.Pool({ connectionString: ownerUrl, max: 4, application_name: 'haven-owner' });
  const appPool = new pg.Pool({ connectionString: appUrl, max: poolSize, application_name: 'haven' });
  // A dropped connection (e.g. the server restarting) must not crash Haven: the pools
  // listen for errors on their idle clients, but a client checked out (a transaction
  // between two statements, a held lock) has no listener of theirs, and an 'error'
  // nobody listens for ends the process. With this one, the client's next statement
  // fails instead, and the pool discards the client when it comes back.
  for (const pool of [ownerPool, appPool]) {
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
  }
  const app = new Kysely<any>({ dialect: new PostgresDialect({ pool: appPool }) });
  // The same pool, for withTenant/withPlatform only: its transactions send BEGIN with the scope.
  const scopedApp = new Kysely<any>({ dialect: new ScopedBeginDialect({ pool: appPool }) });

  const scoped = <T>(scope: Scope, tenantId: string, fn: (tx: Tx) => Promise<T>) =>
    scopedApp.transaction().execute(async (tx) => {
      await sql.raw(beginScoped(scope, tenantId)).execute(tx);
      const queue: Array<() => Promise<void>> = [];
      commitWork.set(tx, queue);
      const result = await fn(tx);
      // Work may queue more work; all of it runs before the commit.
      for (let work = queue.shift(); work; work = queue.shift()) await work();
      return result;
    });

  return {
    app,
    ownerPool,
    appPool,
    ownerUrl,
    appUrl,
    withTenant: (tenantId, fn) => scoped('tenant', tenantId, fn),
    withPlatform: (fn) => scoped('platform', '', fn),
    async ping() {
      await appPool.query('select 1');
    },
    async close() {
      // Kysely ends a pool only through a driver that has used it; both share appPool, which is ended once here.
      await app.destroy().catch(() => undefined);
      await scopedApp.destroy().catch(() => undefined);
      if (!appPool.ended) await appPool.end().catch(() => undefined);
      await ownerPool.end().catch(() => undefined);
    },
  };
}
