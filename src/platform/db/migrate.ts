// Forward-only migrations from migrations/NNNN_name.ts, run by the owner role.
// A session-level advisory lock serializes nodes that start at the same time.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect } from 'kysely';
import type pg from 'pg';

export const migrationsDir = fileURLToPath(new URL('../../../migrations/', import.meta.url));
const LOCK_ID = 0x6861766e; // 'havn'
const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.ts$/;

/**
 * The migrations by name, each loaded only when it runs: a start on a current
 * schema (every start but the first after an upgrade) reads the directory and
 * imports none of them, instead of keeping every migration's source in memory.
 */
const lazyMigrations: MigrationProvider = {
  async getMigrations() {
    const files = (await readdir(migrationsDir)).filter((f) => MIGRATION_FILE.test(f)).sort();
    return Object.fromEntries(files.map((file): [string, Migration] => [file.slice(0, -'.ts'.length), {
      up: async (db) => (await import(pathToFileURL(join(migrationsDir, file)).href) as Migration).up(db),
    }]));
  },
};

export interface MigrationReport { applied: string[]; total: number }

export async function migrateToLatest(ownerPool: pg.Pool): Promise<MigrationReport> {
  const lockClient = await ownerPool.connect();
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: ownerPool }) });
  try {
    await lockClient.query('select pg_advisory_lock($1)', [LOCK_ID]);
    const migrator = new Migrator({
      db,
      provider: lazyMigrations,
      allowUnorderedMigrations: false,
    });
    const { error, results = [] } = await migrator.migrateToLatest();
    const failed = results.find((r) => r.status === 'Error');
    if (error || failed) {
      throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(error as Error | undefined)?.message ?? 'unknown error'}`);
    }
    const total = (await migrator.getMigrations()).length;
    return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName), total };
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    lockClient.release();
  }
}
