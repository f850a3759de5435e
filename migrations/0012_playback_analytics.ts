import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// Viewer analytics: each tenant's policy for what a view may record, the raw
// view sessions (kept for the tenant's retention, then deleted), the daily
// aggregates that outlive them, the count of views of viewers who asked not
// to be tracked, and the daily salts of the unique-viewer estimate.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table analytics_settings (
      tenant_id uuid primary key references tenants(id),
      ip_mode text not null default 'none' check (ip_mode in ('none', 'masked', 'full')),
      ipv4_mask_bits int not null default 16 check (ipv4_mask_bits in (16, 24)),
      ip_retention_days int check (ip_retention_days between 1 and 365),
      session_retention_days int not null default 90 check (session_retention_days between 1 and 730),
      honor_do_not_track boolean not null default true,
      store_user_agent boolean not null default false,
      updated_at timestamptz not null default now(),
      constraint analytics_settings_full_has_retention check (ip_mode <> 'full' or ip_retention_days is not null)
    )`.execute(db);
  await tenantOwned(db, 'analytics_settings');

  await sql`
    create table analytics_sessions (
      -- the playback token's playbackId: one view session per GET /playback
      playback_id uuid primary key,
      tenant_id uuid not null references tenants(id),
      video_id uuid not null references videos(id) on delete cascade,
      -- UTC day the session started; the roll-up's key
      day date not null,
      started_at timestamptz not null,
      last_event_at timestamptz not null,
      watch_seconds double precision not null default 0 check (watch_seconds >= 0),
      max_position double precision not null default 0 check (max_position >= 0),
      completed boolean not null default false,
      quality_switches int not null default 0 check (quality_switches >= 0),
      rebuffer_count int not null default 0 check (rebuffer_count >= 0),
      rebuffer_ms bigint not null default 0 check (rebuffer_ms >= 0),
      renditions text[] not null default '{}' check (cardinality(renditions) <= 16),
      device_class text not null default 'other' check (length(device_class) <= 32),
      os text check (length(os) <= 64),
      browser text check (length(browser) <= 64),
      -- only when the tenant's storeUserAgent is on
      user_agent text check (length(user_agent) <= 512),
      screen_width int check (screen_width between 1 and 16384),
      screen_height int check (screen_height between 1 and 16384),
      country text check (country ~ '^[A-Z]{2}$'),
      -- per the tenant's ipMode: none, masked (/16 or /24, IPv6 /48) or full
      ip inet,
      -- only for viewers who signed in (member: a user of the tenant; audience: its viewer SSO account)
      viewer_user_id uuid,
      viewer_audience_id text check (length(viewer_audience_id) <= 200),
      -- HMAC of (tenant, ip, user agent) under the day's salt: counts unique viewers per day, unlinkable across days
      visitor_hash text check (length(visitor_hash) <= 64)
    )`.execute(db);
  await sql`create index analytics_sessions_tenant_day on analytics_sessions (tenant_id, day, video_id)`.execute(db);
  await sql`create index analytics_sessions_tenant_started on analytics_sessions (tenant_id, started_at)`.execute(db);
  await sql`create index analytics_sessions_with_ip on analytics_sessions (tenant_id, started_at) where ip is not null`.execute(db);
  await sql`create index analytics_sessions_viewer_user on analytics_sessions (tenant_id, viewer_user_id) where viewer_user_id is not null`.execute(db);
  await sql`create index analytics_sessions_viewer_audience on analytics_sessions (tenant_id, viewer_audience_id) where viewer_audience_id is not null`.execute(db);
  await sql`create index analytics_sessions_video on analytics_sessions (video_id)`.execute(db);
  await tenantOwned(db, 'analytics_sessions');

  // Views of viewers whose browser asked not to be tracked (DNT / GPC): a count, nothing else.
  await sql`
    create table analytics_anonymous_views (
      tenant_id uuid not null references tenants(id),
      video_id uuid not null references videos(id) on delete cascade,
      day date not null,
      views int not null default 0 check (views >= 0),
      primary key (tenant_id, video_id, day)
    )`.execute(db);
  await sql`create index analytics_anonymous_views_video on analytics_anonymous_views (video_id)`.execute(db);
  await tenantOwned(db, 'analytics_anonymous_views');

  await sql`
    create table analytics_daily (
      tenant_id uuid not null references tenants(id),
      video_id uuid not null references videos(id) on delete cascade,
      day date not null,
      -- views = tracked sessions + anonymous_views (viewers who asked not to be tracked)
      views int not null default 0,
      anonymous_views int not null default 0,
      unique_viewers_estimate int not null default 0,
      watch_seconds double precision not null default 0,
      completions int not null default 0,
      quality_switches int not null default 0,
      rebuffer_count int not null default 0,
      rebuffer_ms bigint not null default 0,
      -- breakdowns: value → number of views
      countries jsonb not null default '{}'::jsonb,
      device_classes jsonb not null default '{}'::jsonb,
      os jsonb not null default '{}'::jsonb,
      browsers jsonb not null default '{}'::jsonb,
      renditions jsonb not null default '{}'::jsonb,
      rolled_up_at timestamptz not null default now(),
      primary key (tenant_id, video_id, day)
    )`.execute(db);
  await sql`create index analytics_daily_tenant_day on analytics_daily (tenant_id, day)`.execute(db);
  await sql`create index analytics_daily_video on analytics_daily (video_id)`.execute(db);
  await tenantOwned(db, 'analytics_daily');

  // Which days of a tenant were rolled up, and when: a later beacon of that day makes it due again.
  await sql`
    create table analytics_rollups (
      tenant_id uuid not null references tenants(id),
      day date not null,
      rolled_up_at timestamptz not null,
      primary key (tenant_id, day)
    )`.execute(db);
  await tenantOwned(db, 'analytics_rollups');

  // Platform-wide: the day's random salt. Kept for the current and previous day only.
  await sql`
    create table analytics_salts (
      day date primary key,
      salt bytea not null check (length(salt) = 32),
      created_at timestamptz not null default now()
    )`.execute(db);
}
