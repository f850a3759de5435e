import { sql, type Kysely } from 'kysely';

// Versioned rendition ladders, so a video whose source is replaced keeps
// playing its current ladder until the new one's first rendition is ready
// (docs/media.md, "Replacing the source"). Generation 0 is the first ladder
// and keeps the layout videos had before (hls/<rendition>/); a replacement
// builds generation n + 1 under hls/g<n+1>-<rendition>/ with a new HLS key.
// The generation still being played keeps its key until its objects are gone.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table videos
      -- the ladder the renditions rows, the HLS key and the pipeline work on
      add column rendition_generation int not null default 0 check (rendition_generation >= 0),
      -- during a replacement: the ladder still played until the new one is ready and the old one removed
      add column previous_generation int check (previous_generation >= 0 and previous_generation < rendition_generation),
      -- its HLS key (16 bytes, sealed by the tenant key like hls_key_wrapped)
      add column previous_hls_key_wrapped text,
      add check ((previous_generation is null) = (previous_hls_key_wrapped is null))`.execute(db);
  await sql`alter table renditions add column generation int not null default 0 check (generation >= 0)`.execute(db);
  await sql`alter table renditions drop constraint renditions_pkey`.execute(db);
  await sql`alter table renditions add primary key (video_id, generation, name)`.execute(db);
}
