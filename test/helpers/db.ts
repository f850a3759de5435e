// A fresh database per test (file), on the run's PostgreSQL server, dropped
// afterwards together with its app role. By default it is a copy of the run's
// template (test/global-setup.ts): Haven's migrations and the job queue's
// schema already in place, so a test pays for a file copy instead of running
// every migration again. Tests of what happens on an empty database (first
// migration, restore into an empty database) ask for one.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { appRoleName, withDatabaseName } from '../../src/platform/db/database.ts';
import { testServerInfo } from './server-info.ts';

export interface TestDatabase { url: string; name: string; drop(): Promise<void> }

export interface TestDatabaseOptions {
  /** An empty database instead of a copy of the migrated template. */
  empty?: boolean;
}

/**
 * Commits in a test database do not wait for their WAL flush: a crash of the
 * server could lose its last moments, which no test database outlives. Set
 * per database (settings are not copied from a template), so it holds on a
 * server the run does not own; the embedded one runs without fsync anyway.
 */
export async function relaxCommits(c: pg.Client, database: string): Promise<void> {
  await c.query(`alter database ${pg.escapeIdentifier(database)} set synchronous_commit = off`);
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const { url: server, template } = testServerInfo();
  const name = `haven_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabaseName(server, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`create database ${name}${template && !opts.empty ? ` template ${pg.escapeIdentifier(template)}` : ''}`);
    await relaxCommits(admin, name);
  } finally {
    await admin.end();
  }
  const url = withDatabaseName(server, name);
  return {
    url,
    name,
    async drop() {
      const c = new pg.Client({ connectionString: withDatabaseName(server, 'postgres') });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
        await c.query(`drop role if exists ${pg.escapeIdentifier(appRoleName(url))}`);
      } finally {
        await c.end();
      }
    },
  };
}
