import { sql, type Kysely } from 'kysely';

// A rendition can be published while it is still being encoded: 'streaming'
// means its segments so far are stored and listed in an EVENT playlist, and
// the master playlist offers it, so the video plays before the encode ends.
// pending → streaming → ready; a rendition encoded in one go skips streaming.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table renditions drop constraint renditions_status_check`.execute(db);
  await sql`alter table renditions add constraint renditions_status_check check (status in ('pending', 'streaming', 'ready'))`.execute(db);
}
