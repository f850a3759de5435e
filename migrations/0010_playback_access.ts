import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Who may watch a video: its audience policy, its unlisted links, and the
// accounts of viewers who signed in through the tenant's SSO for audiences.
// The grant check that runs on every key fetch is one function call.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table video_access_policies (
      video_id uuid primary key,
      tenant_id uuid not null references tenants(id),
      -- { audiences: [...], conditions: {...} } as validated by the access module
      policy jsonb not null check (jsonb_typeof(policy) = 'object'),
      -- increases with every change (the password's included); tokens of an older version open no key
      version int not null check (version >= 1),
      -- argon2id; null when the video has no password
      password_hash text,
      -- increases whenever the password is set, changed or removed: unlock cookies name it
      password_version int not null default 0 check (password_version >= 0),
      -- the time window, copied out of the policy for the grant check
      available_from timestamptz,
      available_until timestamptz,
      updated_by uuid references users(id) on delete set null,
      updated_at timestamptz not null default now(),
      foreign key (tenant_id, video_id) references videos (tenant_id, id) on delete cascade,
      check (available_from is null or available_until is null or available_from < available_until)
    )`.execute(db);
  await tenantOwned(db, 'video_access_policies');

  await sql`
    create table video_links (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      video_id uuid not null,
      label text not null default '' check (length(label) <= 200),
      -- SHA-256 of the secret; the secret itself is shown once
      secret_hash bytea not null unique check (length(secret_hash) = 32),
      expires_at timestamptz,
      revoked_at timestamptz,
      created_by uuid references users(id) on delete set null,
      revoked_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, video_id) references videos (tenant_id, id) on delete cascade
    )`.execute(db);
  await sql`create index video_links_video on video_links (video_id, created_at)`.execute(db);
  await tenantOwned(db, 'video_links');

  await sql`
    create table audience_accounts (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      provider_id uuid not null references sso_providers(id) on delete cascade,
      -- the IdP's subject identifier and the address it vouched for
      subject text not null check (length(subject) between 1 and 255),
      email text check (email is null or length(email) <= 320),
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      unique (tenant_id, provider_id, subject)
    )`.execute(db);
  await tenantOwned(db, 'audience_accounts');

  // Whether a playback grant still holds: same policy version (0 = no policy
  // row, the default), the video still exists, the link (if any) neither
  // revoked nor expired, and now inside the window unless the viewer is
  // tenant staff (editor and above), who may preview outside it. Reads in
  // the grant's tenant scope and restores the caller's scope.
  await sql`
    create function haven_playback_grant_valid(p_tenant uuid, p_video uuid, p_version int, p_link uuid, p_member uuid, p_now timestamptz)
    returns boolean
    language plpgsql stable security invoker as $$
    declare
      previous_scope text := coalesce(current_setting('app.scope', true), '');
      previous_tenant text := coalesce(current_setting('app.tenant_id', true), '');
      ok boolean;
    begin
      perform set_config('app.scope', 'tenant', true);
      perform set_config('app.tenant_id', p_tenant::text, true);
      select
        coalesce(p.version, 0) = p_version
        and (p_link is null or exists (
          select 1 from video_links l
          where l.id = p_link and l.video_id = v.id and l.revoked_at is null and (l.expires_at is null or l.expires_at > p_now)))
        and (
          (p.available_from is null or p.available_from <= p_now) and (p.available_until is null or p.available_until > p_now)
          or (p_member is not null and exists (
            select 1 from memberships m
            where m.tenant_id = p_tenant and m.user_id = p_member and m.status = 'active' and m.role in ('editor', 'admin', 'owner'))))
      into ok
      from videos v
      left join video_access_policies p on p.video_id = v.id
      where v.id = p_video and v.tenant_id = p_tenant;
      perform set_config('app.scope', previous_scope, true);
      perform set_config('app.tenant_id', previous_tenant, true);
      return coalesce(ok, false);
    end
    $$`.execute(db);
}
