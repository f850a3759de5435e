import { sql, type Kysely } from 'kysely';

// Every node keeps the facts behind a playback grant in memory so the key
// endpoint does not ask the database on every fetch (src/modules/playback/
// access/grant-cache.ts). What may end a grant announces itself here, on the
// channel haven_playback_changed, from a trigger — so no writer, today's or a
// later one, can forget it. NOTIFY is delivered when the writing transaction
// commits, and only then: 'v:<video id>' for a video's policy, links, trash
// state; 't:<tenant id>' for the tenant's state and its memberships (staff
// may preview outside the time window).
//
// haven_playback_grant_facts reads those facts in one round trip: the clock
// conditions (time window, link expiry) are returned as times and checked by
// the caller, so a cached row stays right as time passes.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function haven_playback_changed() returns trigger
    language plpgsql as $$
    declare
      r record;
    begin
      if TG_OP = 'DELETE' then r := OLD; else r := NEW; end if;
      if TG_TABLE_NAME = 'tenants' then
        perform pg_notify('haven_playback_changed', 't:' || r.id::text);
      elsif TG_TABLE_NAME = 'memberships' then
        perform pg_notify('haven_playback_changed', 't:' || r.tenant_id::text);
      elsif TG_TABLE_NAME = 'videos' then
        perform pg_notify('haven_playback_changed', 'v:' || r.id::text);
      else
        perform pg_notify('haven_playback_changed', 'v:' || r.video_id::text);
        if TG_OP = 'UPDATE' and OLD.video_id is distinct from NEW.video_id then
          perform pg_notify('haven_playback_changed', 'v:' || OLD.video_id::text);
        end if;
      end if;
      return null;
    end
    $$`.execute(db);

  await sql`create trigger playback_changed after insert or update or delete on video_access_policies for each row execute function haven_playback_changed()`.execute(db);
  await sql`create trigger playback_changed after insert or update or delete on video_links for each row execute function haven_playback_changed()`.execute(db);
  // Videos change often while they transcode; only what ends a grant is announced.
  await sql`create trigger playback_changed after update of deleted_at, purge_started_at, tenant_id or delete on videos for each row execute function haven_playback_changed()`.execute(db);
  await sql`create trigger playback_changed after update of status, deleted_at, purge_started_at, purged_at or delete on tenants for each row execute function haven_playback_changed()`.execute(db);
  await sql`create trigger playback_changed after insert or update of role, status, deleted_at or delete on memberships for each row execute function haven_playback_changed()`.execute(db);

  // No row: the video is gone, trashed, or its tenant is in the trash or ended.
  await sql`
    create function haven_playback_grant_facts(p_tenant uuid, p_video uuid, p_link uuid, p_member uuid)
    returns table (policy_version int, available_from timestamptz, available_until timestamptz, link_ok boolean, link_expires_at timestamptz, staff boolean)
    language plpgsql volatile security invoker as $$
    declare
      previous_scope text := coalesce(current_setting('app.scope', true), '');
      previous_tenant text := coalesce(current_setting('app.tenant_id', true), '');
    begin
      perform set_config('app.scope', 'tenant', true);
      perform set_config('app.tenant_id', p_tenant::text, true);
      return query
        select
          coalesce(p.version, 0),
          p.available_from,
          p.available_until,
          p_link is null or (l.id is not null and l.revoked_at is null),
          l.expires_at,
          p_member is not null and exists (
            select 1 from memberships m
            where m.tenant_id = p_tenant and m.user_id = p_member and m.status = 'active' and m.role in ('editor', 'admin', 'owner'))
        from videos v
        join tenants t on t.id = v.tenant_id and t.deleted_at is null and t.status <> 'ended'
        left join video_access_policies p on p.video_id = v.id
        left join video_links l on l.id = p_link and l.video_id = v.id
        where v.id = p_video and v.tenant_id = p_tenant;
      perform set_config('app.scope', previous_scope, true);
      perform set_config('app.tenant_id', previous_tenant, true);
    end
    $$`.execute(db);
}
