import { sql, type Kysely } from 'kysely';

// The trash: deleting a video, a collection, a person's membership or a whole
// tenant marks the row (deleted_at, who, when it will be purged) instead of
// removing it, so an admin can restore it within the tenant's retention
// window; the hourly purge then removes rows and objects and destroys keys.
// A restrictive row-level policy hides trashed videos, collections and
// memberships from every query at once — search, get, playback, people lists,
// sign-in — unless a transaction opts in with app.trash = 'visible' (the
// trash itself, erasure, export).
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['videos', 'collections', 'memberships', 'tenants']) {
    const t = sql.table(table);
    await sql`
      alter table ${t}
        add column deleted_at timestamptz,
        add column deleted_by uuid references users(id) on delete set null,
        add column purge_after timestamptz,
        -- set when the purge began: a purge that crashed halfway is finished by the next run, and restore is refused
        add column purge_started_at timestamptz,
        add constraint ${sql.raw(`${table}_trash_consistent`)} check ((deleted_at is null) = (purge_after is null) and (purge_started_at is null or deleted_at is not null))`.execute(db);
    await sql`create index ${sql.raw(`${table}_trash_due`)} on ${t} (purge_after) where deleted_at is not null`.execute(db);
  }
  // A collection trashed with its parent remembers the root, so the subtree comes back together.
  await sql`alter table collections add column trashed_with uuid`.execute(db);
  // A purged tenant stays as a tombstone (id, slug, region, the dates): its audit chain and destroyed key records refer to it.
  await sql`alter table tenants add column purged_at timestamptz`.execute(db);

  await sql`
    create function haven_trash_visible() returns boolean language sql stable as $$
      select coalesce(current_setting('app.trash', true), '') = 'visible'
    $$`.execute(db);
  for (const table of ['videos', 'collections', 'memberships']) {
    await sql`create policy hide_trashed on ${sql.table(table)} as restrictive using (deleted_at is null or haven_trash_visible())`.execute(db);
  }
}
