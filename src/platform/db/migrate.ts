// Forward-only migrations from migrations/*.ts, run by the owner role. A
// session-level advisory lock serializes nodes that start at the same time.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Kysely, Migrator, PostgresDialect } from 'kysely';
import type pg from 'pg';

export const migrationsDir = fileURLToPath(new URL('../../../migrations/', import.meta.url));
const LOCK_ID = 0x6861766e; // 'havn'

export interface MigrationReport { applied: string[]; total: number }

export async function migrateToLatest(ownerPool: pg.Pool): Promise<MigrationReport> {
  const lockClient = await ownerPool.connect();
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: ownerPool }) });
  try {
    await lockClient.query('select pg_advisory_lock($1)', [LOCK_ID]);
    const migrator = new Migrator({
      db,
      provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsDir }),
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
