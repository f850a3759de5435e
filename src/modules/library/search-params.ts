// The parameters of GET /api/v1/videos, as one schema: the route validates
// with it (and OpenAPI shows it), the service reads its output. Repeated
// query parameters (?tag=a&tag=b) arrive as arrays, single ones as strings.
import { z } from 'zod';
import { normalizeTag, MAX_TAG_LENGTH } from './tags.ts';
import { publishStates, videoStatuses } from './view.ts';

const oneOrMany = <T extends z.ZodType>(item: T, max: number, what: string) =>
  z.preprocess(
    (v) => (v === undefined || Array.isArray(v) ? v : [v]),
    z.array(item).max(max, `at most ${max} ${what} may be given`),
  ).optional();

const isoTime = (name: string) =>
  z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z` }).optional();

const seconds = (name: string) =>
  z.coerce.number({ error: `${name} must be a number of seconds` }).min(0, `${name} must not be negative`).max(10_000_000, `${name} is too large`).optional();

export const sortFields = ['relevance', 'created', 'title', 'duration'] as const;
export type SortField = (typeof sortFields)[number];

export const searchParamsSchema = z.object({
  q: z.string().max(200, 'q may be at most 200 characters').optional().describe('Words to search for in title, tags, description, custom fields and captions; the last word also matches as a prefix'),
  tag: oneOrMany(
    z.string().max(10 * MAX_TAG_LENGTH, `a tag may be at most ${MAX_TAG_LENGTH} characters`).transform(normalizeTag).pipe(z.string().min(1).max(MAX_TAG_LENGTH, `a tag may be at most ${MAX_TAG_LENGTH} characters`)),
    10, 'tags',
  ).describe('Only videos with every one of these tags (repeat the parameter for several)'),
  collection: z.uuid('collection must be a collection id').optional().describe('Only videos in this collection'),
  status: oneOrMany(z.enum(videoStatuses), videoStatuses.length, 'statuses').describe('Only videos in one of these processing states'),
  publishState: oneOrMany(z.enum(publishStates), publishStates.length, 'publish states').describe('Only videos in one of these publish states'),
  createdFrom: isoTime('createdFrom').describe('Created at or after'),
  createdTo: isoTime('createdTo').describe('Created before'),
  durationMin: seconds('durationMin').describe('At least this long (seconds)'),
  durationMax: seconds('durationMax').describe('At most this long (seconds)'),
  sort: z.enum(sortFields).optional().describe('relevance (default when q is given), created (default otherwise), title or duration'),
  order: z.enum(['asc', 'desc']).optional().describe('Default: desc for relevance, created and duration; asc for title'),
  limit: z.coerce.number({ error: 'limit must be a number' }).int('limit must be a whole number').min(1, 'limit must be at least 1').max(100, 'limit must be at most 100').default(25),
  cursor: z.string().max(3000).optional().describe('nextCursor of the previous page'),
  facets: z.stringbool({ error: 'facets must be true or false' }).default(false).describe('Also count the matching videos per tag, collection, status, publish state, month and duration range'),
});

export type SearchParams = z.output<typeof searchParamsSchema>;

export const MAX_QUERY_WORDS = 10;

/** The words of a search text: letters and digits only, so nothing is read as query syntax. */
export function searchWords(q: string | undefined): string[] {
  if (!q) return [];
  return (q.normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_QUERY_WORDS).map((w) => w.slice(0, 100));
}
