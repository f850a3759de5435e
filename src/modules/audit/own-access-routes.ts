// "Who accessed my account": every signed-in person reads the audit entries
// whose target is themself and whose actor is someone else — administrators,
// support under a grant, operators and system jobs — from their tenant's chain
// and the platform's (where operator commands about an account are recorded).
//
// Choices, documented here and in the OpenAPI summary:
// - The staff member's user id is shown. Staff accountability means the
//   person may know *which* staff member acted (to ask about it or complain);
//   the id is what the organization's admins can resolve. Names, emails,
//   IP and user-agent pseudonyms of staff are not shown. The role a staff
//   member held at the time is not recorded in the trail, so the reply gives
//   the actor's type (user, API token, support grant, system job).
// - Reading one's own access log is not itself audited: it is the person
//   reading data about themself (like GET /account), and recording it would
//   add an entry about the person on every visit of their privacy page.
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses } from '../../platform/http/schemas.ts';
import type { RequestContext } from '../identity/actor.ts';
import { PLATFORM_TENANT_ID } from './events.ts';
import type { AuditEntry, AuditService } from './service.ts';

const PAGE_DEFAULT = 50;
/** Rows read from one chain per search call, and how many calls one request may make per chain. */
const SCAN_BATCH = 200;
const SCAN_ROUNDS = 5;

/** A position in the merged, newest-first stream: entries strictly older than it come next. */
interface Position { at: number; id: number }

const cursorSchema = z.object({ at: z.number().int().nonnegative(), id: z.number().int().positive() }).strict();
const invalidCursor = () => new AppError('invalid_cursor', 400, 'The cursor is invalid; start again without a cursor.');

function decodeCursor(cursor: string | undefined): Position | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch { /* fall through */ }
  throw invalidCursor();
}

// The cursor needs no signature: every search it feeds is pinned to the
// caller's own user id and tenant, so editing it only moves within one's own log.
const encodeCursor = (p: Position) => Buffer.from(JSON.stringify({ at: p.at, id: p.id })).toString('base64url');

const positionOf = (e: AuditEntry): Position => ({ at: Date.parse(e.occurredAt), id: e.id });
/** Newest first: a before b when a is newer. */
const newer = (a: Position, b: Position) => a.at > b.at || (a.at === b.at && a.id > b.id);

const accessEntry = z.object({
  id: z.number(),
  occurredAt: z.string(),
  action: z.string(),
  outcome: z.string(),
  scope: z.enum(['organization', 'platform']).describe('organization: recorded in this organization\'s trail; platform: by an operator or the platform itself'),
  actor: z.object({
    type: z.string().describe('user, api_token, support_grant or system'),
    userId: z.string().nullable().describe('The staff member who acted (null for system jobs and erased accounts)'),
    job: z.string().nullable().describe('For system actors: the job or command (e.g. operator, setup)'),
    grant: z.string().nullable().describe('For support access: the pseudonymous reference of the consent grant used'),
  }),
  details: z.unknown(),
  diff: z.unknown(),
});
export type OwnAccessEntry = z.infer<typeof accessEntry>;

function self(ctx: RequestContext): { userId: string; tenantId?: string } {
  if (ctx.actor.type !== 'user') throw new AppError('unauthenticated', 401, 'Sign in to see who accessed your account.');
  return { userId: ctx.actor.userId, tenantId: ctx.tenantId };
}

/** Someone else acting on the person: not their own actions, not anonymous attempts. */
function byOthers(userId: string) {
  return (e: AuditEntry) => e.actor.type !== 'anonymous' && e.actor.id !== userId;
}

interface ChainScan { items: AuditEntry[]; exhausted: boolean; scannedTo?: Position }

/**
 * Reads one chain newest first from a position, keeping entries by others,
 * until `want` are found, the chain ends, or the scan budget is spent.
 * scannedTo is the last entry looked at, whether kept or not.
 */
async function scanChain(audit: AuditService, chain: string, userId: string, from: Position | undefined, want: number): Promise<ChainScan> {
  const keep = byOthers(userId);
  const filters: Record<string, string> = { targetType: 'user', targetId: userId, limit: String(SCAN_BATCH) };
  // occurred_at is stored in whole milliseconds and "to" is exclusive: include the position's millisecond, skip what was already seen.
  if (from) filters.to = new Date(from.at + 1).toISOString();
  const items: AuditEntry[] = [];
  let scannedTo: Position | undefined;
  let cursor: string | undefined;
  for (let round = 0; round < SCAN_ROUNDS; round++) {
    const page = await audit.search(chain, filters, cursor);
    for (const e of page.items) {
      const p = positionOf(e);
      if (from && !newer(from, p)) continue;
      scannedTo = p;
      if (keep(e)) items.push(e);
      if (items.length === want) return { items, exhausted: false, scannedTo };
    }
    if (!page.nextCursor) return { items, exhausted: true, scannedTo };
    cursor = page.nextCursor;
  }
  return { items, exhausted: false, scannedTo };
}

function view(e: AuditEntry): OwnAccessEntry {
  const via = e.actor.via ?? '';
  return {
    id: e.id,
    occurredAt: e.occurredAt,
    action: e.action,
    outcome: e.outcome,
    scope: e.tenantId === PLATFORM_TENANT_ID ? 'platform' : 'organization',
    actor: {
      type: e.actor.type,
      userId: e.actor.id,
      job: e.actor.type === 'system' && via.startsWith('job:') ? via.slice(4) : null,
      grant: e.actor.type === 'support_grant' && via.startsWith('grant:') ? via.slice(6) : null,
    },
    details: e.details ?? null,
    diff: e.diff ?? null,
  };
}

export async function ownAccessLog(audit: AuditService, ctx: RequestContext, limit: number, cursor?: string) {
  const { userId, tenantId } = self(ctx);
  const from = decodeCursor(cursor);
  const chains = tenantId ? [tenantId, PLATFORM_TENANT_ID] : [PLATFORM_TENANT_ID];
  const scans = await Promise.all(chains.map((c) => scanChain(audit, c, userId, from, limit)));

  // A chain that stopped early has unseen entries older than where it stopped:
  // nothing older than the newest such stop may be returned yet.
  let boundary: Position | undefined;
  for (const s of scans) {
    if (!s.exhausted && s.scannedTo && (!boundary || newer(s.scannedTo, boundary))) boundary = s.scannedTo;
  }
  const merged = scans.flatMap((s) => s.items)
    .sort((a, b) => (newer(positionOf(a), positionOf(b)) ? -1 : 1))
    .filter((e) => !boundary || !newer(boundary, positionOf(e)));
  const items = merged.slice(0, limit);
  const last = items.at(-1);
  let next: Position | undefined;
  if (items.length === limit && last && (merged.length > limit || boundary)) next = positionOf(last);
  else if (items.length < limit && boundary) next = boundary;
  return { items: items.map(view), nextCursor: next ? encodeCursor(next) : null };
}

export function registerOwnAccessRoutes(app: HttpServer, audit: AuditService): void {
  app.get('/api/v1/account/access-log', {
    schema: {
      tags: ['account'],
      summary: 'Who accessed my account: audit entries about me by administrators, support, operators and system jobs (newest first). Not itself audited.',
      querystring: z.object({
        cursor: z.string().max(200).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(PAGE_DEFAULT),
      }),
      response: { 200: z.object({ items: z.array(accessEntry), nextCursor: z.string().nullable() }), ...errorResponses },
    },
  }, async (req) => ownAccessLog(audit, req.ctx, req.query.limit, req.query.cursor));
}
