// The shapes an erasure passes between its steps and reports to its caller.
import type { ErasureAction } from '../../../platform/datamap.ts';

/** What an erasure will do, fixed before the first change so a rerun after a crash finishes the same work. */
export interface ErasurePlan {
  erasureId: string;
  identities: {
    email: string | null;
    userIds: string[];
    audienceIds: string[];
    /** Usernames and display names, searched for by the verification step (whole values only). */
    names: string[];
    scope: string[] | null;
    tenantIds: string[];
  };
  /** Accounts that end with this erasure (no membership left outside its scope). */
  endsAccount: string[];
  /** The person's own videos (in their own tenants): shredded and their objects deleted. */
  media: { tenantId: string; videoId: string; region: string; uploadIds: string[] }[];
  /** Objects to delete, per region. */
  objects: { region: string; prefixes: string[]; keys: string[] }[];
  /** Tenants whose audit chain mentions the person. */
  auditTenants: string[];
}

export interface TableOutcome {
  table: string;
  columns: string[];
  action: ErasureAction;
  rows: number;
  /** Why it stays (retain), or why it could not be reached. */
  basis?: string;
}

export interface VerificationFinding {
  place: 'database' | 'storage' | 'logs';
  /** table.column, object key, or file path. */
  where: string;
  /** Which kind of identifier was found (never the value): email, user_id, audience_id, name. */
  identifier: string;
  rows?: number;
}

export interface VerificationReport {
  ok: boolean;
  findings: VerificationFinding[];
  /** Findings in places the report says were retained (allowed). */
  retainedFindings: VerificationFinding[];
  database: {
    tables: number;
    /** Columns searched (uuid by equality, text-like for substrings and whole names). */
    columns: number;
    ms: number;
    /** Columns not searched, counted by the reason they cannot hold the identifiers (scan-columns.ts). */
    skipped: Record<string, number>;
    /** The tables that took longest, for the operator (ms each, scanned concurrently). */
    slowest: { table: string; ms: number }[];
  };
  storage: { prefixesChecked: number; objectsListed: number; note: string };
  logs: { filesScanned: number; unreadable: string[]; note: string };
}

export interface ErasureReport {
  erasureId: string;
  state: 'done' | 'error';
  resumed: boolean;
  scope: string[] | null;
  subjects: { users: number; audienceAccounts: number; email: boolean };
  accountEnded: boolean;
  tables: TableOutcome[];
  retained: TableOutcome[];
  audit: { tenantId: string; entries: number }[];
  objects: { region: string; location: string; deleted: number }[];
  mailOutbox: { deleted: number };
  ledger: { appended: boolean; path: string } | { skipped: string };
  verification: VerificationReport | null;
  steps: string[];
  durationMs: number;
}
