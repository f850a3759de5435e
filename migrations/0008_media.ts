import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// The media pipeline's bookkeeping on top of 0007: the HLS key, what a video
// occupies in storage, its images, the upload lock, per-tenant limits, and
// leases that keep two workers from producing the same output at once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table videos
      -- the 16-byte AES-128 key of the video's HLS segments, sealed by the tenant key (keyring format)
      add column hls_key_wrapped text,
      -- bytes the video's objects occupy in storage (original, renditions, images)
      add column stored_bytes bigint not null default 0 check (stored_bytes >= 0),
      -- object keys and sizes of the poster, thumbnails and storyboard
      add column assets jsonb not null default '{}'::jsonb`.execute(db);

  await sql`
    alter table renditions
      add column bytes bigint not null default 0 check (bytes >= 0),
      add column average_bandwidth int,
      add column frame_rate real,
      add column duration_ms bigint`.execute(db);

  // A PATCH holds its upload for a short, renewed lease, so two nodes never
  // write one upload at once and a crashed node's claim runs out.
  await sql`
    alter table uploads
      add column lock_token text,
      add column lock_expires_at timestamptz`.execute(db);

  // Limits an operator sets per tenant; a missing row or null column means the configured default.
  await sql`
    create table media_quotas (
      tenant_id uuid primary key references tenants(id),
      storage_bytes bigint check (storage_bytes > 0),
      max_file_bytes bigint check (max_file_bytes > 0),
      max_duration_seconds int check (max_duration_seconds > 0),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await tenantOwned(db, 'media_quotas');

  // One live worker per piece of output (a rendition, the images): jobs are
  // delivered at least once, and a duplicate must not delete what another writes.
  await sql`
    create table media_claims (
      video_id uuid not null references videos(id) on delete cascade,
      tenant_id uuid not null references tenants(id),
      task text not null check (task ~ '^[a-z0-9_:-]{1,64}$'),
      token text not null,
      expires_at timestamptz not null,
      primary key (video_id, task)
    )`.execute(db);
  await tenantOwned(db, 'media_claims');
}
