// What identity needs from the audit module: one call inside its transaction.
import type { Tx } from '../../platform/db/database.ts';
import type { RequestContext } from './actor.ts';

export interface AuditEventInput {
  action: string;
  outcome?: 'success' | 'denied' | 'failed';
  target?: { type: string; id: string };
  diff?: { before?: Record<string, unknown>; after?: Record<string, unknown> };
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditPort {
  record(tx: Tx, ctx: RequestContext, event: AuditEventInput): Promise<void>;
}
