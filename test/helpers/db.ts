// A fresh database per test (file), on the run's PostgreSQL server, dropped
// afterwards together with its app role.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { appRoleName, withDatabaseName } from '../../src/platform/db/database.ts';
import { testServerUrl } from './server-info.ts';

export interface TestDatabase { url: string; name: string; drop(): Promise<void> }

export async function createTestDatabase(): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `haven_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabaseName(server, 'postgres') });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
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
