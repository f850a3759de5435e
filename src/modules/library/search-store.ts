// The SQL behind video listing and search. Words match through the GIN
// indexes on videos.search and videos.captions_search (migration 0009, which
// also explains why their operators must be LEAKPROOF); tags use the GIN
// index on videos.tags; the created/title/duration orders have btree indexes
// that start with tenant_id. Pages are keyset pages: (sort key, id) of the
// last row, so a deep page costs what the first does.
import { type RawBuilder, sql } from 'kysely';
import type { Tx } from '../../platform/db/database.ts';
import type { SortField } from './search-params.ts';
import { type VideoRow, videoViewColumns } from './view.ts';

export interface VideoFilter {
  tenantId: string;
  /** The text query (from textQuery), when searching for words. */
  text?: TextQuery;
  tags: string[];
  collectionId?: string;
  statuses?: string[];
  publishStates?: string[];
  createdFrom?: Date;
  createdTo?: Date;
  durationMinMs?: number;
  durationMaxMs?: number;
}

export interface Ordering { sort: SortField; order: 'asc' | 'desc' }
export interface After { key: string | number; id: string }

function conditions(f: VideoFilter): RawBuilder<unknown>[] {
  const c: RawBuilder<unknown>[] = [sql`v.tenant_id = ${f.tenantId}`];
  // Word by word, so each word may be in the fields or in the captions: a
  // BitmapAnd over BitmapOrs of the two GIN indexes.
  for (const word of f.text?.words ?? []) {
    c.push(word.captions
      ? sql`(v.search @@ ${word.fields}::tsquery or v.captions_search @@ ${word.captions}::tsquery)`
      : sql`v.search @@ ${word.fields}::tsquery`);
  }
  if (f.tags.length) c.push(sql`v.tags @> ${f.tags}::text[]`);
  if (f.collectionId) c.push(sql`exists (select 1 from collection_videos cv where cv.collection_id = ${f.collectionId} and cv.video_id = v.id)`);
  if (f.statuses?.length) c.push(sql`v.status = any(${f.statuses}::text[])`);
  if (f.publishStates?.length) c.push(sql`v.published_state = any(${f.publishStates}::text[])`);
  if (f.createdFrom) c.push(sql`v.created_at >= ${f.createdFrom}`);
  if (f.createdTo) c.push(sql`v.created_at < ${f.createdTo}`);
  // On the indexed sort key (unknown durations are -1), so a range reads only its part of the index.
  if (f.durationMinMs !== undefined || f.durationMaxMs !== undefined) c.push(sql`v.duration_sort >= ${f.durationMinMs ?? 0}`);
  if (f.durationMaxMs !== undefined) c.push(sql`v.duration_sort <= ${f.durationMaxMs}`);
  return c;
}

/** The sort expression, how its value is read out for a cursor, and its SQL type for comparing. */
function sortKey(f: VideoFilter, sort: SortField): { expr: RawBuilder<unknown>; read: RawBuilder<unknown>; type: string } {
  switch (sort) {
    case 'relevance': {
      // Ranked on the fields only: a long caption vector is never read to
      // rank, so caption-only matches come after every match in the fields.
      const rank = sql`ts_rank(v.search, ${f.text?.all ?? ''}::tsquery)`;
      return { expr: rank, read: rank, type: 'real' };
    }
    case 'created':
      // As text: a JavaScript Date would drop the microseconds and skip or repeat rows.
      return { expr: sql`v.created_at`, read: sql`v.created_at::text`, type: 'timestamptz' };
    case 'title':
      return { expr: sql`v.title_sort`, read: sql`v.title_sort`, type: 'text' };
    case 'duration':
      return { expr: sql`v.duration_sort`, read: sql`v.duration_sort`, type: 'bigint' };
  }
}

export type SearchRow = VideoRow & { sort_key: string | number };

export interface TextQuery {
  /**
   * Per word that constrains the search (stop words drop out), its reading
   * for the fields and for the captions. The last word matches the fields as
   * a prefix too, the captions only whole (null when it is a stop word).
   */
  words: { fields: string; captions: string | null }[];
  /** The fields' readings together, for ranking. */
  all: string;
}

/**
 * The words read as tsqueries (haven_search_word in migration 0009), built
 * once per request and then passed as constants, so planning a statement
 * does not rebuild them.
 */
export async function textQuery(tx: Tx, words: string[]): Promise<TextQuery | undefined> {
  if (words.length === 0) return undefined;
  const { rows } = await sql<{ fields: string | null; captions: string | null }>`
    select haven_search_word(w, n = ${words.length})::text as fields, haven_search_word(w, false)::text as captions
    from unnest(${words}::text[]) with ordinality as u(w, n) order by n`.execute(tx);
  // The last word always has a fields reading: as a prefix, no configuration drops it.
  const readings = rows.filter((r): r is { fields: string; captions: string | null } => Boolean(r.fields));
  return { words: readings, all: readings.map((r) => `(${r.fields})`).join(' & ') };
}

/** One page of matching videos, limit rows after the given position. */
export function searchQuery(f: VideoFilter, ordering: Ordering, limit: number, after?: After): RawBuilder<SearchRow> {
  const key = sortKey(f, ordering.sort);
  const where = conditions(f);
  if (after) {
    const value = sql`${after.key}::${sql.raw(key.type)}`;
    const beyond = ordering.order === 'desc' ? sql`${key.expr} < ${value}` : sql`${key.expr} > ${value}`;
    where.push(sql`(${beyond} or (${key.expr} = ${value} and v.id > ${after.id}))`);
  }
  const columns = sql.join(videoViewColumns.map((c) => sql.ref(`v.${c}`)));
  const direction = sql.raw(ordering.order);
  if (ordering.sort === 'relevance') {
    // Every match is ranked before the first row is known, so the ranking
    // carries only (id, rank) — not the 22 columns of the view through a sort
    // of thousands of rows — and the page's rows are read afterwards by id.
    return sql<SearchRow>`
      select ${columns}, r.sort_key
      from (
        select v.id, ${key.expr} as sort_key
        from videos v
        where ${sql.join(where, sql` and `)}
        order by sort_key ${direction}, v.id
        limit ${limit}
      ) r
      join videos v on v.id = r.id
      order by r.sort_key ${direction}, v.id`;
  }
  return sql<SearchRow>`
    select ${columns}, ${key.read} as sort_key
    from videos v
    where ${sql.join(where, sql` and `)}
    order by ${key.expr} ${direction}, v.id
    limit ${limit}`;
}

export async function searchVideos(tx: Tx, f: VideoFilter, ordering: Ordering, limit: number, after?: After): Promise<SearchRow[]> {
  return (await searchQuery(f, ordering, limit, after).execute(tx)).rows;
}

export interface FacetCount { value: string; count: number }
export interface Facets {
  total: number;
  tags: FacetCount[];
  collections: (FacetCount & { name: string })[];
  status: Record<string, number>;
  publishState: Record<string, number>;
  createdMonth: FacetCount[];
  duration: { bucket: string; minSeconds: number | null; maxSeconds: number | null; count: number }[];
}

export const FACET_LIMIT = 30;

/** Duration ranges a listing can be narrowed to (seconds, from inclusive, to exclusive). */
export const durationBuckets = [
  { bucket: 'under_1m', minSeconds: 0, maxSeconds: 60 },
  { bucket: '1m_5m', minSeconds: 60, maxSeconds: 300 },
  { bucket: '5m_20m', minSeconds: 300, maxSeconds: 1200 },
  { bucket: '20m_60m', minSeconds: 1200, maxSeconds: 3600 },
  { bucket: 'over_60m', minSeconds: 3600, maxSeconds: null },
] as const;

/**
 * Counts over everything the filter matches (not just one page), in one
 * statement: the matching rows are read once into a CTE (the filter runs
 * first, whatever the planner guesses about the joins); totals, status,
 * publish state, month and duration come from one pass over it (grouping
 * sets), tags and collections from one more each. For a search, memberships
 * are looked up by the matched ids through the index on
 * collection_videos.video_id: joined instead, the planner hashed every
 * membership of the tenant (50,000 at 100,000 videos) to probe it with a few
 * thousand matches, which was most of the time of a search with facets.
 */
export async function searchFacets(tx: Tx, f: VideoFilter): Promise<Facets> {
  const { rows } = await facetsQuery(f).execute(tx);
  const { groups, tags, collections } = rows[0]!;

  // grouping() sets a bit for each column a row is not grouped on: 8 status, 4 publish state, 2 month, 1 bucket.
  const only = (bit: number) => groups.filter((g) => g.kind === 15 - bit);
  const byBucket = new Map(only(1).map((g) => [g.bucket, g.n]));
  return {
    total: groups.find((g) => g.kind === 15)?.n ?? 0,
    tags,
    collections,
    status: Object.fromEntries(only(8).map((g) => [g.status, g.n])),
    publishState: Object.fromEntries(only(4).map((g) => [g.published_state, g.n])),
    createdMonth: only(2).sort((a, b) => (a.month! < b.month! ? 1 : -1)).slice(0, 24).map((g) => ({ value: g.month!, count: g.n })),
    duration: durationBuckets.map((b, i) => ({ ...b, count: byBucket.get(i) ?? 0 })),
  };
}

interface Group { status: string | null; published_state: string | null; month: string | null; bucket: number | null; kind: number; n: number }

export function facetsQuery(f: VideoFilter): RawBuilder<{ groups: Group[]; tags: FacetCount[]; collections: (FacetCount & { name: string })[] }> {
  const bounds = durationBuckets.slice(1).map((b) => b.minSeconds * 1000);
  const where = conditions(f);
  // The whole library (nothing but the tenant condition) joins every
  // membership: cheaper than an index lookup for each of its videos. Tags
  // are unnested in the select list, which spares a function scan per row.
  const memberships = where.length > 1
    ? sql`collection_videos cv where cv.video_id = any(array(select id from matched))`
    : sql`matched m join collection_videos cv on cv.video_id = m.id`;
  return sql<{ groups: Group[]; tags: FacetCount[]; collections: (FacetCount & { name: string })[] }>`
    with matched as materialized (
      select v.id, v.tags, v.status, v.published_state, v.created_at, v.duration_ms
      from videos v where ${sql.join(where, sql` and `)}
    ),
    groups as (
      select status, published_state, to_char(month, 'YYYY-MM') as month, bucket, grouping(status, published_state, month, bucket) as kind, count(*)::int as n
      from (select status, published_state, date_trunc('month', created_at at time zone 'UTC') as month,
                   case when duration_ms is null then null else width_bucket(duration_ms, ${bounds}::bigint[]) end as bucket
            from matched) m
      group by grouping sets ((), (status), (published_state), (month), (bucket))
    )
    select
      (select coalesce(jsonb_agg(g), '[]'::jsonb) from groups g) as groups,
      (select coalesce(jsonb_agg(x), '[]'::jsonb) from (
         select t as value, count(*)::int as count from (select unnest(tags) as t from matched) u
         group by t order by count(*) desc, t limit ${FACET_LIMIT}) x) as tags,
      (select coalesce(jsonb_agg(x), '[]'::jsonb) from (
         select c.id as value, c.name, n.count
         from (select cv.collection_id, count(*)::int as count from ${memberships} group by cv.collection_id) n
         join collections c on c.id = n.collection_id
         order by n.count desc, c.name limit ${FACET_LIMIT}) x) as collections`;
}
