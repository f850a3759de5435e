import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Groups of people inside a tenant ("Sales", "Board", "New hires"), named by
// the tenant's admins and used by the playback members rule ("members of
// these groups"). A person can only be in a group of a tenant they belong
// to: group_members references the membership, so removing a person from
// the tenant (purge, erasure) takes their group memberships with it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table groups (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      -- trimmed and NFKC-normalized by the service; unique per tenant whatever the case
      name text not null check (length(name) between 1 and 100),
      description text not null default '' check (length(description) <= 1000),
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (id, tenant_id)
    )`.execute(db);
  await sql`create unique index groups_name on groups (tenant_id, lower(name))`.execute(db);
  await tenantOwned(db, 'groups');

  await sql`
    create table group_members (
      tenant_id uuid not null,
      group_id uuid not null,
      user_id uuid not null,
      added_by uuid references users(id) on delete set null,
      added_at timestamptz not null default now(),
      primary key (group_id, user_id),
      foreign key (group_id, tenant_id) references groups(id, tenant_id) on delete cascade,
      foreign key (tenant_id, user_id) references memberships(tenant_id, user_id) on delete cascade
    )`.execute(db);
  await sql`create index group_members_user on group_members (tenant_id, user_id)`.execute(db);
  await tenantOwned(db, 'group_members');

  // Playback grants admitted by a members rule with groups rest on group
  // membership: a change announces itself like the other facts of a grant
  // (migrations/0019_playback_changes.ts), narrowed to the one person:
  // 'm:<tenant id>:<user id>'. Deleting a group deletes its rows here
  // (cascade), and row triggers fire for those too.
  await sql`
    create or replace function haven_playback_changed() returns trigger
    language plpgsql as $$
    declare
      r record;
    begin
      if TG_OP = 'DELETE' then r := OLD; else r := NEW; end if;
      if TG_TABLE_NAME = 'tenants' then
        perform pg_notify('haven_playback_changed', 't:' || r.id::text);
      elsif TG_TABLE_NAME = 'memberships' then
        perform pg_notify('haven_playback_changed', 't:' || r.tenant_id::text);
      elsif TG_TABLE_NAME = 'group_members' then
        perform pg_notify('haven_playback_changed', 'm:' || r.tenant_id::text || ':' || r.user_id::text);
        if TG_OP = 'UPDATE' and (OLD.user_id, OLD.tenant_id) is distinct from (NEW.user_id, NEW.tenant_id) then
          perform pg_notify('haven_playback_changed', 'm:' || OLD.tenant_id::text || ':' || OLD.user_id::text);
        end if;
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
  await sql`create trigger playback_changed after insert or update or delete on group_members for each row execute function haven_playback_changed()`.execute(db);

  // The grant facts gain what a members rule needs at every key fetch: the
  // viewer's active role (null when no longer an active member), their group
  // ids, and the policy itself (the rule is evaluated by the same code that
  // admitted them, src/modules/playback/access/policy.ts). The result type
  // changes, so the function is dropped and created again.
  await sql`drop function haven_playback_grant_facts(uuid, uuid, uuid, uuid)`.execute(db);
  await sql`
    create function haven_playback_grant_facts(p_tenant uuid, p_video uuid, p_link uuid, p_member uuid)
    returns table (
      policy_version int, available_from timestamptz, available_until timestamptz, link_ok boolean, link_expires_at timestamptz, staff boolean,
      member_role text, member_groups uuid[], policy jsonb
    )
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
          coalesce(m.role in ('editor', 'admin', 'owner'), false),
          m.role,
          case when m.user_id is null then null else array(
            select gm.group_id from group_members gm where gm.tenant_id = p_tenant and gm.user_id = p_member order by gm.group_id) end,
          p.policy
        from videos v
        join tenants t on t.id = v.tenant_id and t.deleted_at is null and t.status <> 'ended'
        left join video_access_policies p on p.video_id = v.id
        left join video_links l on l.id = p_link and l.video_id = v.id
        left join memberships m on p_member is not null and m.tenant_id = p_tenant and m.user_id = p_member and m.status = 'active'
        where v.id = p_video and v.tenant_id = p_tenant;
      perform set_config('app.scope', previous_scope, true);
      perform set_config('app.tenant_id', previous_tenant, true);
    end
    $$`.execute(db);
}
