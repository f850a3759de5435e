// Starts the PostgreSQL server the suite uses, unless DATABASE_URL names one:
// an embedded server in a temp dir (the default, as for users), or the given
// server (CI's second pass). Tests create a fresh database each, copied from a
// template this setup migrates once (test/helpers/db.ts).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withDatabaseName } from '../src/platform/db/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/platform/db/embedded.ts';
import { migrateToLatest } from '../src/platform/db/migrate.ts';
import { JobQueue } from '../src/platform/jobs.ts';
import { createLogger } from '../src/platform/log.ts';
import { relaxCommits } from './helpers/db.ts';
import { unusedPort } from './helpers/process.ts';
import { SERVER_INFO_ENV, serverInfoFileFor, type TestServerInfo } from './helpers/server-info.ts';

let embedded: EmbeddedPostgres | undefined;
let dir: string | undefined;
let serverInfoFile: string | undefined;
let info: TestServerInfo | undefined;

export async function globalSetup(): Promise<void> {
  // One file per test run, so runs in parallel (two engineers, two CI passes) never share one.
  serverInfoFile = serverInfoFileFor(process.pid);
  process.env[SERVER_INFO_ENV] = serverInfoFile;
  mkdirSync(join(serverInfoFile, '..'), { recursive: true });
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), 'haven-test-pg-'));
    // A throwaway server: no fsync, commits do not wait for the WAL flush.
    embedded = await startEmbeddedPostgres(dir, await unusedPort(), () => undefined, { durable: false });
    url = embedded.url;
  }
  info = { url, embedded: Boolean(embedded), template: await createTemplate(url) };
  writeFileSync(serverInfoFile, JSON.stringify(info));
}

export async function globalTeardown(): Promise<void> {
  if (info?.template && !embedded) await onServer(info.url, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(info!.template!)} with (force)`));
  await embedded?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (serverInfoFile) rmSync(serverInfoFile, { force: true });
}

/**
 * A database with every migration applied and the job queue's schema
 * installed, as the owner role leaves them: no app role, no keys, no audit
 * entries, so a copy starts like a new installation whose schema is current.
 */
async function createTemplate(server: string): Promise<string> {
  const name = `haven_template_${randomBytes(6).toString('hex')}`;
  await onServer(server, (c) => c.query(`create database ${name}`));
  await onServer(server, (c) => relaxCommits(c, name));
  const url = withDatabaseName(server, name);
  const owner = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await migrateToLatest(owner);
  } finally {
    await owner.end();
  }
  const jobs = new JobQueue({ connectionString: url, log: createLogger({ level: 'warn', pseudonymize: (v) => v, destination: { write: () => undefined } }), regions: [] });
  await jobs.start();
  await jobs.stop();
  return name;
}

async function onServer(server: string, fn: (c: pg.Client) => Promise<unknown>): Promise<void> {
  const c = new pg.Client({ connectionString: withDatabaseName(server, 'postgres') });
  await c.connect();
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}
