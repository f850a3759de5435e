// What identity needs from the audit module: one call inside its transaction.
import type { Tx } from '../../platform/db/database.ts';
import type { AuditEvent } from '../audit/events.ts';
import type { RequestContext } from './actor.ts';

export type AuditEventInput = AuditEvent;

export interface AuditPort {
  record(tx: Tx, ctx: RequestContext, event: AuditEventInput): Promise<void>;
}
