import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Set by test/global-setup.ts for the test files of its run. */
export const SERVER_INFO_ENV = 'HAVEN_TEST_SERVER_INFO';

export const serverInfoFileFor = (pid: number) => fileURLToPath(new URL(`../../.test-data/server-${pid}.json`, import.meta.url));

export interface TestServerInfo {
  /** The PostgreSQL server of this test run. */
  url: string;
  embedded?: boolean;
  /** A migrated database on that server that fresh test databases are copied from. */
  template?: string;
}

export function testServerInfo(): TestServerInfo {
  const file = process.env[SERVER_INFO_ENV];
  if (file) return JSON.parse(readFileSync(file, 'utf8')) as TestServerInfo;
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
  throw new Error('no test database server: run tests through "npm test" (it starts one)');
}

/** The PostgreSQL server of this test run (see test/global-setup.ts). */
export const testServerUrl = (): string => testServerInfo().url;
