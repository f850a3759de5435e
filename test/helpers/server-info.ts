import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const serverInfoFile = fileURLToPath(new URL('../../.test-data/server.json', import.meta.url));

/** The PostgreSQL server of this test run (see test/global-setup.ts). */
export function testServerUrl(): string {
  try {
    return JSON.parse(readFileSync(serverInfoFile, 'utf8')).url;
  } catch {
    if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
    throw new Error('no test database server: run tests through "npm test" (it starts one)');
  }
}
