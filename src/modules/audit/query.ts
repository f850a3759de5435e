// Search filters and export ranges as they arrive from outside (query strings,
// JSON, CLI flags): parsed by one schema, every mistake a 400 that names the
// field. Cursors are opaque and signed, so a client cannot edit its way to
// another tenant's entries or another filter's results.
import { createHash, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { actorTypes, outcomes, targetTypePattern } from './events.ts';
import { stableJson } from './mask.ts';

export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

const isoTime = (name: string) =>
  z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z` });

export const searchFilterSchema = z
  .object({
    from: isoTime('from').optional(),
    to: isoTime('to').optional(),
    actorId: z.guid({ error: 'actorId must be a user id (UUID)' }).optional(),
    actorType: z.enum(actorTypes, { error: `actorType must be one of ${actorTypes.join(', ')}` }).optional(),
    action: z
      .string({ error: 'action must be a string' })
      .max(100, 'action must be at most 100 characters')
      .regex(/^[a-z][a-z0-9_.]*$/, 'action must be a dotted action name or prefix such as video or auth.login')
      .optional(),
    targetType: z.string({ error: 'targetType must be a string' }).regex(targetTypePattern, 'targetType must be a lowercase type name such as video or user').optional(),
    targetId: z.string({ error: 'targetId must be a string' }).min(1, 'targetId must not be empty').max(200, 'targetId must be at most 200 characters').optional(),
    outcome: z.enum(outcomes, { error: `outcome must be one of ${outcomes.join(', ')}` }).optional(),
    limit: z.coerce
      .number({ error: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(500, 'limit must be at most 500')
      .default(50),
  })
  .strict();

export type SearchFilters = z.output<typeof searchFilterSchema>;

export const exportRangeSchema = z.object({ from: isoTime('from'), to: isoTime('to') }).strict();

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0]!;
  throw new AppError('invalid_filter', 400, `Invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}.`, issues);
}

export interface TimeRange { from: Date; to: Date }

/** from inclusive, to exclusive; bounded so a query cannot scan the whole history at once. */
export function checkRange(from: Date, to: Date): TimeRange {
  if (from.getTime() >= to.getTime()) throw new AppError('invalid_filter', 400, 'Invalid time range: from must be before to.');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new AppError('range_too_large', 400, `The time range spans more than ${MAX_RANGE_DAYS} days; split it into smaller ranges.`);
  }
  return { from, to };
}

export function parseSearchFilters(input: unknown): SearchFilters {
  return parse(searchFilterSchema, input, 'audit filter');
}

/** The range a search covers: to defaults to now, from to MAX_RANGE_DAYS before to. */
export function searchRange(filters: SearchFilters, now: Date): TimeRange {
  // The range's end is exclusive: without an explicit end, include what was recorded in this very millisecond.
  const to = filters.to ? new Date(filters.to) : new Date(now.getTime() + 1);
  const from = filters.from ? new Date(filters.from) : new Date(to.getTime() - MAX_RANGE_DAYS * DAY_MS);
  return checkRange(from, to);
}

export function parseExportRange(input: unknown): TimeRange {
  const r = parse(exportRangeSchema, input, 'export range');
  return checkRange(new Date(r.from), new Date(r.to));
}

// ── cursors ──────────────────────────────────────────────────────────────

export interface CursorState {
  /** The range of the first page; later pages keep it even when "to" defaulted to now. */
  range: TimeRange;
  after: { occurredAt: Date; id: number };
}

const cursorPayload = z.object({ v: z.literal(1), t: z.string(), f: z.string(), from: z.number(), to: z.number(), at: z.number(), id: z.number().int().positive() });

const invalidCursor = () => new AppError('invalid_cursor', 400, 'The cursor is invalid or belongs to a different search; start again without a cursor.');

/** Which filters a cursor belongs to (everything but the page size). */
function filterDigest(filters: SearchFilters): string {
  const { limit: _limit, ...rest } = filters;
  return createHash('sha256').update(stableJson(rest)).digest('base64url').slice(0, 22);
}

export function createCursorCodec(signingKey: Buffer) {
  const key = createSecretKey(createHmac('sha256', signingKey).update('haven:audit:cursor-key:v1').digest());
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  return {
    encode(tenantId: string, filters: SearchFilters, state: CursorState): string {
      const body = Buffer.from(JSON.stringify({
        v: 1, t: tenantId, f: filterDigest(filters), from: state.range.from.getTime(), to: state.range.to.getTime(), at: state.after.occurredAt.getTime(), id: state.after.id,
      })).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    decode(tenantId: string, filters: SearchFilters, cursor: unknown): CursorState {
      if (typeof cursor !== 'string' || cursor.length > 1000) throw invalidCursor();
      const [body, sig, extra] = cursor.split('.');
      if (!body || !sig || extra !== undefined) throw invalidCursor();
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
      let payload: z.output<typeof cursorPayload>;
      try {
        payload = cursorPayload.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
      } catch {
        throw invalidCursor();
      }
      if (payload.t !== tenantId || payload.f !== filterDigest(filters)) throw invalidCursor();
      return { range: { from: new Date(payload.from), to: new Date(payload.to) }, after: { occurredAt: new Date(payload.at), id: payload.id } };
    },
  };
}

export type CursorCodec = ReturnType<typeof createCursorCodec>;
