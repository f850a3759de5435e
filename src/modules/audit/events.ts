// An audit event as modules describe it, and the row it becomes. Building the
// row is where personal data is turned into ids and keyed pseudonyms.
import type { Pseudonymize } from '../../platform/crypto/pseudonym.ts';
import type { RequestContext } from '../identity/actor.ts';
import { auditDiff, maskDetails, type PersonalFields } from './mask.ts';

/** The chain of platform-level events (start/stop, migrations, job failures). */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

export const outcomes = ['success', 'denied', 'failed'] as const;
export type Outcome = (typeof outcomes)[number];
export const actorTypes = ['user', 'api_token', 'support_grant', 'system', 'anonymous'] as const;
export type ActorType = (typeof actorTypes)[number];

/** A dotted verb: noun first, at least two segments (video.update, auth.login.failed). */
export const actionPattern = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const targetTypePattern = /^[a-z][a-z0-9_]{0,62}$/;
const IDENTIFIER = /^[A-Za-z0-9_.:/-]{1,200}$/;

export interface AuditTarget { type: string; id: string }

export interface AuditEvent {
  action: string;
  /** Defaults to success. */
  outcome?: Outcome;
  target?: AuditTarget;
  /** The object before and after; only changed fields are kept, personal ones masked. */
  diff?: { before?: Record<string, unknown> | null; after?: Record<string, unknown> | null };
  /** Structured facts (counts, enums, ids of things); free text is masked. */
  details?: Record<string, unknown>;
  /** Fields of diff/details the data map marks personal. */
  personal?: PersonalFields;
  /** Record into this tenant's chain instead of the context's (e.g. tenant creation by an operator). */
  tenantId?: string;
}

export interface AuditRow {
  tenant_id: string;
  occurred_at: Date;
  action: string;
  outcome: Outcome;
  actor_type: ActorType;
  actor_id: string | null;
  actor_ref: string | null;
  actor_via: string | null;
  actor_tenant_id: string | null;
  target_type: string | null;
  target_id: string | null;
  target_ref: string | null;
  request_id: string | null;
  ip_pseudonym: string | null;
  ua_pseudonym: string | null;
  diff: string | null;
  details: string | null;
}

/**
 * The keyed pseudonym of a subject id, the same whether the subject acted or
 * was acted on; filters and erasure find entries by it after ids are nulled.
 */
export const subjectRef = (pseudonymize: Pseudonymize, id: string) => pseudonymize(`subject:${id}`);

/** Where an event is chained: explicit tenant, the request's, the actor's, or the platform's. */
export function eventTenant(ctx: RequestContext, event: Pick<AuditEvent, 'tenantId'>): string {
  const actorTenant = 'tenantId' in ctx.actor ? ctx.actor.tenantId : undefined;
  return event.tenantId ?? ctx.tenantId ?? actorTenant ?? PLATFORM_TENANT_ID;
}

export function buildRow(ctx: RequestContext, event: AuditEvent, occurredAt: Date, pseudonymize: Pseudonymize): AuditRow {
  if (!actionPattern.test(event.action) || event.action.length > 100) throw new TypeError(`audit action "${event.action}" is not a dotted verb like video.update`);
  if (event.target && (!targetTypePattern.test(event.target.type) || !IDENTIFIER.test(event.target.id))) {
    throw new TypeError(`audit target ${event.target.type}:${event.target.id} is not a type and an id`);
  }
  const actor = ctx.actor;
  const userId = actor.type === 'user' || actor.type === 'api_token' || actor.type === 'support_grant' ? actor.userId : null;
  const via =
    actor.type === 'api_token' ? `token:${pseudonymize(`token:${actor.tokenId}`)}`
    : actor.type === 'support_grant' ? `grant:${pseudonymize(`grant:${actor.grantId}`)}`
    : actor.type === 'system' ? `job:${IDENTIFIER.test(actor.job) ? actor.job : pseudonymize(actor.job)}`
    : null;
  const diff = event.diff ? auditDiff(event.diff.before, event.diff.after, event.personal, pseudonymize) : null;
  const details = maskDetails(event.details, event.personal, pseudonymize);
  return {
    tenant_id: eventTenant(ctx, event),
    occurred_at: new Date(Math.floor(occurredAt.getTime())),
    action: event.action,
    outcome: event.outcome ?? 'success',
    actor_type: actor.type,
    actor_id: userId,
    actor_ref: userId ? subjectRef(pseudonymize, userId) : null,
    actor_via: via,
    actor_tenant_id: ('tenantId' in actor ? actor.tenantId : undefined) ?? null,
    target_type: event.target?.type ?? null,
    target_id: event.target?.id ?? null,
    target_ref: event.target ? subjectRef(pseudonymize, event.target.id) : null,
    // Request ids may come from a client header: anything but an identifier is pseudonymized.
    request_id: ctx.requestId ? (IDENTIFIER.test(ctx.requestId) ? ctx.requestId : pseudonymize(ctx.requestId)) : null,
    // The same pseudonym the logs use for this address, so the two can be joined.
    ip_pseudonym: ctx.ip ? pseudonymize(ctx.ip) : null,
    ua_pseudonym: ctx.userAgent ? pseudonymize(`ua:${ctx.userAgent}`) : null,
    diff: diff && JSON.stringify(diff),
    details: details && JSON.stringify(details),
  };
}
