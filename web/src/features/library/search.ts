// The library's search as URL parameters (so back, forward and shared links
// keep it) and their translation into GET /api/v1/videos parameters.
import { apiUrl } from '../../api/client.ts';
import type { VideoQuery } from './types.ts';

export const STATUSES = ['uploading', 'processing', 'ready', 'failed'] as const;
export const PUBLISH_STATES = ['draft', 'scheduled', 'published'] as const;
export const SORTS = ['relevance', 'created', 'title', 'duration'] as const;
export const DURATION_BUCKETS: Record<string, [number | undefined, number | undefined]> = {
  under_1m: [0, 60], '1m_5m': [60, 300], '5m_20m': [300, 1200], '20m_60m': [1200, 3600], over_60m: [3600, undefined],
};

export interface LibrarySearch {
  q: string;
  tags: string[];
  status: (typeof STATUSES)[number][];
  publishState: (typeof PUBLISH_STATES)[number][];
  month: string;
  duration: string;
  sort: (typeof SORTS)[number] | '';
  order: 'asc' | 'desc' | '';
}

const oneOf = <T extends string>(values: readonly T[], v: string): v is T => (values as readonly string[]).includes(v);

export function readSearch(params: URLSearchParams): LibrarySearch {
  const sort = params.get('sort') ?? '';
  const order = params.get('order') ?? '';
  const month = params.get('month') ?? '';
  const duration = params.get('duration') ?? '';
  return {
    q: params.get('q') ?? '',
    tags: params.getAll('tag').slice(0, 10),
    status: params.getAll('status').filter((s) => oneOf(STATUSES, s)),
    publishState: params.getAll('publish').filter((s) => oneOf(PUBLISH_STATES, s)),
    month: /^\d{4}-\d{2}$/.test(month) ? month : '',
    duration: duration in DURATION_BUCKETS ? duration : '',
    sort: oneOf(SORTS, sort) ? sort : '',
    order: order === 'asc' || order === 'desc' ? order : '',
  };
}

export function writeSearch(s: LibrarySearch): URLSearchParams {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  for (const t of s.tags) p.append('tag', t);
  for (const t of s.status) p.append('status', t);
  for (const t of s.publishState) p.append('publish', t);
  if (s.month) p.set('month', s.month);
  if (s.duration) p.set('duration', s.duration);
  if (s.sort) p.set('sort', s.sort);
  if (s.order) p.set('order', s.order);
  return p;
}

export function apiQuery(s: LibrarySearch, collection: string | undefined, cursor: string | undefined, limit: number): VideoQuery {
  const q: VideoQuery = { limit, facets: cursor ? undefined : 'true' };
  if (s.q.trim()) q.q = s.q.trim();
  if (s.tags.length) q.tag = s.tags;
  if (s.status.length) q.status = s.status;
  if (s.publishState.length) q.publishState = s.publishState;
  if (collection) q.collection = collection;
  if (s.month) {
    const [y, m] = s.month.split('-').map(Number) as [number, number];
    q.createdFrom = new Date(Date.UTC(y, m - 1, 1)).toISOString();
    q.createdTo = new Date(Date.UTC(y, m, 1)).toISOString();
  }
  const bucket = DURATION_BUCKETS[s.duration];
  if (bucket) {
    if (bucket[0] !== undefined) q.durationMin = bucket[0];
    if (bucket[1] !== undefined) q.durationMax = bucket[1];
  }
  if (s.sort) q.sort = s.sort;
  if (s.order) q.order = s.order;
  if (cursor) q.cursor = cursor;
  return q;
}

/** Videos per page of results. */
export const PAGE_SIZE = 24;

/** The GETs the library page makes first: the first page of its search, with facets, and the collections. */
export function firstRequests({ params, search }: { params: Record<string, string | undefined>; search: URLSearchParams }): string[] {
  return [apiUrl('/api/v1/videos', apiQuery(readSearch(search), params.collectionId, undefined, PAGE_SIZE)), '/api/v1/collections'];
}

export const hasFilters = (s: LibrarySearch) => Boolean(s.q || s.tags.length || s.status.length || s.publishState.length || s.month || s.duration);
