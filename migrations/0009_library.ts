import { sql, type Kysely } from 'kysely';
import { tenantOwned } from './rls.ts';

// The library around a video: tags, custom fields, publishing, the search
// index, collections, attachments, source versions, and the webhooks that
// tell integrations when a video became ready, failed or was deleted.
export async function up(db: Kysely<any>): Promise<void> {
  await videoMetadata(db);
  await searchIndex(db);
  await customFields(db);
  await collections(db);
  await attachmentsAndVersions(db);
  await webhooks(db);
}

async function videoMetadata(db: Kysely<any>): Promise<void> {
  // The same limits the service enforces, so no other writer can break them.
  await sql`
    create function haven_tags_valid(tags text[]) returns boolean language sql immutable parallel safe as $$
      select cardinality(tags) <= 50
         and not exists (select 1 from unnest(tags) t where t is null or length(t) not between 1 and 64 or t <> lower(btrim(t)))
    $$`.execute(db);
  await sql`
    alter table videos
      add column tags text[] not null default '{}' check (haven_tags_valid(tags)),
      add column custom_fields jsonb not null default '{}'::jsonb check (jsonb_typeof(custom_fields) = 'object'),
      -- caption text, written by the captions feature, searched with the lowest weight
      add column captions_text text not null default '' check (length(captions_text) <= 2000000),
      add column published_state text not null default 'draft' check (published_state in ('draft', 'scheduled', 'published')),
      add column publish_at timestamptz,
      add column published_at timestamptz,
      add column current_version int not null default 1 check (current_version >= 1),
      add column search tsvector not null default ''::tsvector,
      add column captions_search tsvector not null default ''::tsvector,
      -- sort keys as plain columns: under row-level security only leakproof
      -- comparisons of plain values reach an index, not lower() or coalesce()
      add column title_sort text generated always as (lower(title)) stored,
      add column duration_sort bigint generated always as (coalesce(duration_ms, -1)) stored,
      add constraint videos_scheduled_has_time check (published_state <> 'scheduled' or publish_at is not null)`.execute(db);
  // fastupdate off: a pending list of unindexed entries would make every search
  // scan it (and the planner shun the index) until the next vacuum; library
  // writes are rare next to searches, so they pay for index upkeep instead.
  await sql`create index videos_tags on videos using gin (tags) with (fastupdate = off)`.execute(db);
  await sql`create index videos_tenant_title on videos (tenant_id, title_sort, id)`.execute(db);
  await sql`create index videos_tenant_duration on videos (tenant_id, duration_sort, id)`.execute(db);
  await sql`create index videos_publish_due on videos (publish_at) where published_state = 'scheduled'`.execute(db);
}

async function searchIndex(db: Kysely<any>): Promise<void> {
  // A video's language picks its text search configuration (stemming and
  // stop words); anything without a configuration of its own uses 'simple'.
  await sql`
    create function haven_search_config(language text) returns regconfig language sql immutable parallel safe as $$
      select case split_part(lower(coalesce(language, '')), '-', 1)
        when 'en' then 'english'::regconfig
        when 'sv' then 'swedish'::regconfig
        when 'fi' then 'finnish'::regconfig
        when 'de' then 'german'::regconfig
        else 'simple'::regconfig
      end
    $$`.execute(db);
  // A query word is read in every configuration at once (the OR of each
  // language's reading), so one index serves videos of all languages. The
  // last word of a search also matches as a prefix (search-as-you-type).
  // Any other word that some language drops as a stop word ("the", "och")
  // constrains nothing and comes back null. Words are passed as values,
  // never parsed as tsquery syntax: the quoting escapes quotes and backslashes.
  await sql`
    create function haven_search_word(word text, prefix boolean) returns tsquery language plpgsql immutable parallel safe as $$
    declare
      cfg regconfig;
      quoted text := '''' || replace(replace(word, '\\', '\\\\'), '''', '''''') || '''' || case when prefix then ':*' else '' end;
      q tsquery;
      readings tsquery[] := '{}';
      result tsquery := ''::tsquery;
    begin
      foreach cfg in array array['english', 'swedish', 'finnish', 'german', 'simple']::regconfig[] loop
        q := to_tsquery(cfg, quoted);
        if numnode(q) = 0 then
          if not prefix then return null; end if;
        elsif not q = any(readings) then
          readings := readings || q;
          result := result || q;
        end if;
      end loop;
      return result;
    end
    $$`.execute(db);
  // Two vectors: title and tags (A), description (B) and custom field values
  // (C) in search; caption text (D) on its own in captions_search. Captions
  // run to thousands of words; kept apart, the vector most searches read and
  // rank stays small, and the long one is only rebuilt when captions change.
  await sql`
    create function videos_search_refresh() returns trigger language plpgsql as $$
    declare
      cfg regconfig := haven_search_config(new.language);
      custom text := coalesce((select string_agg(value, ' ') from jsonb_each_text(new.custom_fields)), '');
    begin
      new.search :=
           setweight(to_tsvector(cfg, new.title), 'A')
        || setweight(to_tsvector(cfg, array_to_string(new.tags, ' ')), 'A')
        || setweight(to_tsvector(cfg, new.description), 'B')
        || setweight(to_tsvector(cfg, custom), 'C');
      if tg_op = 'INSERT' or new.captions_text is distinct from old.captions_text or new.language is distinct from old.language then
        new.captions_search := setweight(to_tsvector(cfg, new.captions_text), 'D');
      end if;
      return new;
    end
    $$`.execute(db);
  // Only the searched columns fire it: progress updates during transcoding do not.
  await sql`
    create trigger videos_search_refresh before insert or update of title, description, language, tags, custom_fields, captions_text
    on videos for each row execute function videos_search_refresh()`.execute(db);
  await sql`update videos set title = title`.execute(db);
  await sql`create index videos_search on videos using gin (search) with (fastupdate = off)`.execute(db);
  await sql`create index videos_captions_search on videos using gin (captions_search) with (fastupdate = off)`.execute(db);
  await leakproofSearchOperators(db);
}

/**
 * Under row-level security PostgreSQL uses an index only for operators marked
 * LEAKPROOF (a non-leakproof one could reveal rows the policy hides before the
 * policy filters them). The text-match (@@) and array-containment (@>)
 * operators are not marked, so every search would read every video of the
 * tenant. They do not reveal their arguments (no data-dependent errors), so
 * they are marked here — which takes a superuser; otherwise the library
 * warns at start-up (see docs/library.md).
 */
async function leakproofSearchOperators(db: Kysely<any>): Promise<void> {
  await sql`
    do $$ begin
      if (select rolsuper from pg_roles where rolname = current_user) then
        alter function ts_match_vq(tsvector, tsquery) leakproof;
        alter function arraycontains(anyarray, anyarray) leakproof;
      end if;
    end $$`.execute(db);
}

async function customFields(db: Kysely<any>): Promise<void> {
  await sql`
    create table custom_field_definitions (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      -- the key under which values are stored in videos.custom_fields; fixed once created
      key text not null check (key ~ '^[a-z][a-z0-9_]{0,39}$'),
      label text not null check (length(label) between 1 and 100),
      type text not null check (type in ('text', 'number', 'date', 'choice')),
      choices text[] not null default '{}' check (cardinality(choices) <= 200),
      position int not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, key),
      check ((type = 'choice') = (cardinality(choices) > 0))
    )`.execute(db);
  await tenantOwned(db, 'custom_field_definitions');
}

async function collections(db: Kysely<any>): Promise<void> {
  await sql`alter table videos add constraint videos_tenant_id_id unique (tenant_id, id)`.execute(db);
  await sql`
    create table collections (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      parent_id uuid,
      name text not null check (length(name) between 1 and 200),
      description text not null default '' check (length(description) <= 5000),
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, id),
      -- a parent is always in the same tenant; deleting a folder deletes its subfolders
      foreign key (tenant_id, parent_id) references collections (tenant_id, id) on delete cascade,
      check (parent_id is null or parent_id <> id)
    )`.execute(db);
  await sql`create index collections_parent on collections (tenant_id, parent_id)`.execute(db);
  await tenantOwned(db, 'collections');

  await sql`
    create table collection_videos (
      collection_id uuid not null,
      video_id uuid not null,
      tenant_id uuid not null references tenants(id),
      added_at timestamptz not null default now(),
      primary key (collection_id, video_id),
      foreign key (tenant_id, collection_id) references collections (tenant_id, id) on delete cascade,
      foreign key (tenant_id, video_id) references videos (tenant_id, id) on delete cascade
    )`.execute(db);
  await sql`create index collection_videos_video on collection_videos (video_id)`.execute(db);
  await tenantOwned(db, 'collection_videos');
}

async function attachmentsAndVersions(db: Kysely<any>): Promise<void> {
  await sql`
    create table video_attachments (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      video_id uuid not null,
      -- the video's region: the object lives in that region's store
      region text not null,
      filename text not null check (length(filename) between 1 and 255),
      content_type text not null check (length(content_type) between 3 and 200),
      size_bytes bigint not null check (size_bytes >= 0),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      object_key text not null,
      -- the attachment's own data key (HVN1), wrapped by the tenant key
      data_key_wrapped text not null,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, video_id) references videos (tenant_id, id) on delete cascade
    )`.execute(db);
  await sql`create index video_attachments_video on video_attachments (video_id, created_at)`.execute(db);
  await tenantOwned(db, 'video_attachments');

  // The sources a video had before each replacement, newest last.
  await sql`
    create table video_versions (
      tenant_id uuid not null references tenants(id),
      video_id uuid not null,
      version int not null check (version >= 1),
      original_key text,
      data_key_wrapped text,
      source_size_bytes bigint,
      source_sha256 text,
      duration_ms bigint,
      width int,
      height int,
      reason text not null default '' check (length(reason) <= 500),
      replaced_by uuid references users(id) on delete set null,
      created_at timestamptz not null,
      replaced_at timestamptz not null default now(),
      primary key (video_id, version),
      foreign key (tenant_id, video_id) references videos (tenant_id, id) on delete cascade
    )`.execute(db);
  await tenantOwned(db, 'video_versions');
}

async function webhooks(db: Kysely<any>): Promise<void> {
  await sql`
    create table webhook_endpoints (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      url text not null check (length(url) between 10 and 2000),
      description text not null default '' check (length(description) <= 500),
      events text[] not null check (cardinality(events) between 1 and 20),
      -- the signing secret, sealed with the tenant key; shown to the admin once
      secret_sealed text not null,
      enabled boolean not null default true,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (tenant_id, id)
    )`.execute(db);
  await tenantOwned(db, 'webhook_endpoints');

  // The outbox: one row per event, written in the transaction of the change.
  await sql`
    create table webhook_events (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      type text not null,
      -- the exact JSON body every endpoint receives (signatures cover these bytes)
      body text not null,
      created_at timestamptz not null default now(),
      unique (tenant_id, id)
    )`.execute(db);
  await sql`create index webhook_events_created on webhook_events (created_at)`.execute(db);
  await tenantOwned(db, 'webhook_events');

  await sql`
    create table webhook_deliveries (
      id uuid primary key,
      tenant_id uuid not null references tenants(id),
      endpoint_id uuid not null,
      event_id uuid not null,
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      attempts int not null default 0,
      next_attempt_at timestamptz not null default now(),
      -- a worker holds the delivery while it sends; a second job for the same attempt finds it held
      claimed_until timestamptz,
      last_status_code int,
      last_duration_ms int,
      last_error text,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      foreign key (tenant_id, endpoint_id) references webhook_endpoints (tenant_id, id) on delete cascade,
      foreign key (tenant_id, event_id) references webhook_events (tenant_id, id) on delete cascade
    )`.execute(db);
  await sql`create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc)`.execute(db);
  await sql`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);
  await tenantOwned(db, 'webhook_deliveries');

  await sql`
    create table webhook_delivery_attempts (
      delivery_id uuid not null references webhook_deliveries(id) on delete cascade,
      attempt int not null,
      tenant_id uuid not null references tenants(id),
      started_at timestamptz not null,
      duration_ms int not null,
      status_code int,
      error text,
      primary key (delivery_id, attempt)
    )`.execute(db);
  await tenantOwned(db, 'webhook_delivery_attempts');
}
