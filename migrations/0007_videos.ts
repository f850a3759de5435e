import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// The core of the library: a video, its renditions and its upload. Library
// metadata (tags, custom fields, collections, attachments, versions) and the
// search index are added by later migrations.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table videos (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      -- the tenant's region when created; every object of the video lives there
      region text not null,
      owner_id uuid references users(id) on delete set null,
      title text not null check (length(title) between 1 and 500),
      description text not null default '' check (length(description) <= 20000),
      language text check (language is null or language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$'),
      status text not null default 'uploading' check (status in ('uploading', 'processing', 'ready', 'failed')),
      error_code text,
      error_message text,
      progress_percent int not null default 0 check (progress_percent between 0 and 100),
      progress_step text,
      duration_ms bigint,
      width int,
      height int,
      has_audio boolean,
      source_size_bytes bigint,
      source_sha256 text,
      -- the video's data key, wrapped by the tenant key (keyring format)
      data_key_wrapped text,
      original_key text,
      -- ffprobe summary and the identifying metadata stripped from outputs
      technical jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      ready_at timestamptz
    )`.execute(db);
  await sql`create index videos_tenant_created on videos (tenant_id, created_at desc, id)`.execute(db);
  await sql`create index videos_tenant_status on videos (tenant_id, status)`.execute(db);
  await tenantOwned(db, 'videos');

  await sql`
    create table renditions (
      video_id uuid not null references videos(id) on delete cascade,
      tenant_id uuid not null references tenants(id),
      name text not null check (name ~ '^[a-z0-9_-]{1,32}$'),
      kind text not null check (kind in ('video', 'audio')),
      width int,
      height int,
      bandwidth int not null,
      codecs text not null,
      playlist_key text not null,
      segment_count int not null default 0,
      status text not null default 'pending' check (status in ('pending', 'ready')),
      created_at timestamptz not null default now(),
      ready_at timestamptz,
      primary key (video_id, name)
    )`.execute(db);
  await tenantOwned(db, 'renditions');

  await sql`
    create table uploads (
      id text primary key check (length(id) between 16 and 128),
      tenant_id uuid not null references tenants(id),
      video_id uuid not null references videos(id) on delete cascade,
      user_id uuid references users(id) on delete set null,
      size_bytes bigint,
      received_bytes bigint not null default 0,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      completed_at timestamptz
    )`.execute(db);
  await sql`create index uploads_video on uploads (video_id)`.execute(db);
  await sql`create index uploads_expiry on uploads (expires_at) where completed_at is null`.execute(db);
  await tenantOwned(db, 'uploads');
}
