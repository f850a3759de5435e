// Boots a real Haven in this process: its own temp data dir, a fresh
// database on the run's PostgreSQL server, a free port, logs captured.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../src/config.ts';
import { type Haven, type HavenOptions, startHaven } from '../../src/main.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestHaven extends Haven {
  url: string;
  logs: string[];
  database: TestDatabase;
  dataDir: string;
  /** fetch relative to the server's URL. */
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface TestHavenOptions {
  env?: Record<string, string>;
  config?: Partial<Config>;
  haven?: Partial<HavenOptions>;
  /** Reuse a database (several nodes on one database). */
  database?: TestDatabase;
  /** Start on an empty database, as a new installation does (every migration runs), instead of a copy of the migrated template. */
  emptyDatabase?: boolean;
}

/** Root secrets for several nodes of one installation (they must share them). */
export function sharedKeys(): Pick<Config, 'masterKey' | 'signingKey' | 'pseudonymKey'> {
  const key = () => randomBytes(32).toString('base64');
  return { masterKey: key(), signingKey: key(), pseudonymKey: key() };
}

export async function startTestHaven(opts: TestHavenOptions = {}): Promise<TestHaven> {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-test-'));
  const database = opts.database ?? (await createTestDatabase({ empty: opts.emptyDatabase }));
  const logs: string[] = [];
  const config = loadConfig(
    { HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'info', ...opts.env, HAVEN_CONFIG: '' },
    { dataDir, port: 0, databaseUrl: database.url, backupSchedule: 'off', ...opts.config },
  );
  const haven = await startHaven(config, {
    workers: true,
    http: true,
    logDestination: { write: (line: string) => void logs.push(line) },
    // The web app npm test builds (web/dist), or a bundle built elsewhere (vite build web --outDir …) for a run beside a stale web/dist.
    webDistDir: process.env.HAVEN_TEST_WEB_DIST,
    ...opts.haven,
  });
  const url = haven.url!;
  return {
    ...haven,
    url,
    logs,
    database,
    dataDir,
    request: (path, init) => fetch(new URL(path, url), init),
    async stop() {
      await haven.close();
      if (!opts.database) await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
