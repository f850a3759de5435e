// The database layer when the server goes away under a connection that is in
// use: the work on it fails, the process does not, and the pool recovers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';

describe('database connections', () => {
  let database: TestDatabase;
  let db: Database;

  before(async () => {
    database = await createTestDatabase();
    db = openDatabase(database.url, database.url, 2);
  });
  after(async () => {
    await db?.close();
    await database?.drop();
  });

  test('a connection the server ends while a transaction waits between statements fails that transaction, not the process', async () => {
    const work = db.withPlatform(async (tx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
      // What the server says when it goes away (57P01, as after the postmaster dies) reaches the client while no statement runs.
      await db.ownerPool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await sleep(300);
      await sql`select 1`.execute(tx);
    });
    await assert.rejects(work);
    for (let i = 0; i < 3; i++) {
      const { rows } = await db.withPlatform((tx) => sql<{ one: number }>`select 1 as one`.execute(tx));
      assert.equal(rows[0]!.one, 1, 'the pool hands out working connections afterwards');
    }
  });
});
