// Verification of one tenant's chain. What it proves and what it cannot:
//
// - Editing, deleting, reordering or inserting entries breaks a hash, a link
//   or the sequence, and the first such entry is reported.
// - Rewriting the chain consistently from some point (recomputing every later
//   hash, and the head) needs no key, so links alone cannot catch it; the
//   signed checkpoints can: the first checkpoint after the rewrite no longer
//   matches the entry at its position. Entries after the newest checkpoint
//   are only as trustworthy as the database until the next checkpoint.
// - Retention deletes the oldest entries behind a signed 'cut' checkpoint;
//   the chain is verified from there (the first remaining entry must link to
//   the cut's hash).
import type { Tx } from '../../platform/db/database.ts';
import { type CheckpointKind, type CheckpointSigner, GENESIS_HASH } from './chain.ts';
import { chainExtent, checkpointsWithEntries, type EntryFault, entryIdAt, firstFaultyEntry, linkAtOrAfter, lockHead, type StoredCheckpoint } from './store.ts';

export type BreakReason = EntryFault | 'checkpoint_signature_invalid' | 'checkpoint_mismatch' | 'entries_missing' | 'beyond_head' | 'head_mismatch';

// Type aliases rather than interfaces: reports are returned by HTTP routes whose
// response schemas are open objects (index signatures).
export type BrokenEntry = { chainSeq: number; id: number | null; reason: BreakReason; message: string };

export type VerifyReport = {
  tenantId: string;
  ok: boolean;
  /** Entries checked (after the retention cut, if any). */
  entries: number;
  /** Position of the last sealed entry. */
  headSeq: number;
  /** Rows written but not yet sealed when verification ran (not covered). */
  unsealed: number;
  firstBroken?: BrokenEntry;
  lastVerifiedCheckpoint?: { chainSeq: number; kind: CheckpointKind; at: string };
};

const messages: Record<BreakReason, (seq: number) => string> = {
  sequence_break: (s) => `entries before position ${s} are missing or duplicated`,
  hash_mismatch: (s) => `the entry at position ${s} does not match its hash: its content or position was changed`,
  prev_hash_mismatch: (s) => `the entry at position ${s} does not link to the entry before it, which was replaced`,
  checkpoint_signature_invalid: (s) => `the checkpoint at position ${s} does not carry a valid signature`,
  checkpoint_mismatch: (s) => `the chain differs from the signed checkpoint at position ${s}: it was rewritten after the last verified checkpoint`,
  entries_missing: (s) => `the chain ends before position ${s}, but it was sealed or signed beyond it: entries were removed`,
  beyond_head: (s) => `entries from position ${s} lie beyond the sealed head: they were not added by the sealer`,
  head_mismatch: (s) => `the sealed head does not match the entry at position ${s}`,
};

/**
 * Checks positions (base.chainSeq, lastSeq] for faulty entries. The verifier
 * hands the first segment to the locked transaction and the others to
 * concurrent transactions of their own.
 */
export type SegmentCheck = (tx: Tx | undefined, base: { chainSeq: number; hash: Buffer }, lastSeq: number) => Promise<{ id: number; chainSeq: number; reason: EntryFault } | undefined>;

// The recomputation is one window-function pass, which PostgreSQL cannot run
// in parallel by itself. Segments can: a segment that starts after position m
// takes the stored hash at m as its base, exactly as the sequential pass
// would compare entry m+1 with it, so the first fault found is the same.
const ENTRIES_PER_SEGMENT = 250_000;
const MAX_SEGMENTS = 4;

async function firstFaultInSegments(tx: Tx, tenantId: string, base: { chainSeq: number; hash: Buffer }, lastSeq: number, check: SegmentCheck, entriesPerSegment: number) {
  const segments = Math.min(MAX_SEGMENTS, Math.ceil((lastSeq - base.chainSeq) / entriesPerSegment));
  const starts = [base];
  for (let i = 1; i < segments; i++) {
    const split = await linkAtOrAfter(tx, tenantId, base.chainSeq + Math.round(((lastSeq - base.chainSeq) * i) / segments));
    if (split && split.chainSeq > starts.at(-1)!.chainSeq && split.chainSeq < lastSeq) starts.push(split);
  }
  const results = await Promise.all(starts.map((start, i) => check(i === 0 ? tx : undefined, start, starts[i + 1]?.chainSeq ?? lastSeq)));
  return results.find((r) => r !== undefined);
}

const fault = (chainSeq: number, id: number | null | undefined, reason: BreakReason): BrokenEntry => ({ chainSeq, id: id ?? null, reason, message: messages[reason](chainSeq) });

/**
 * Runs in a transaction of the tenant. Holding the head FOR SHARE keeps the
 * sealer and the retention sweep out while the chain is read, so every
 * statement sees the same chain (new rows may still be inserted; they are
 * unsealed and not covered).
 */
export interface VerifyOptions {
  /** Runs a segment; by default all of them in tx, one after another. */
  check?: SegmentCheck;
  entriesPerSegment?: number;
}

export async function verifyChain(tx: Tx, tenantId: string, signer: CheckpointSigner, options: VerifyOptions = {}): Promise<VerifyReport> {
  const check: SegmentCheck = options.check ?? ((t, b, l) => firstFaultyEntry(t ?? tx, tenantId, b, l));
  const head = await lockHead(tx, tenantId, 'share');
  const checkpoints = await checkpointsWithEntries(tx, tenantId);
  const faults: BrokenEntry[] = [];

  const signed = checkpoints.filter((cp) => {
    if (signer.valid(cp, cp.signature)) return true;
    faults.push(fault(cp.chainSeq, cp.entryId, 'checkpoint_signature_invalid'));
    return false;
  });
  const cut = signed.filter((cp) => cp.kind === 'cut').at(-1);
  const base = cut ? { chainSeq: cut.chainSeq, hash: cut.hash } : { chainSeq: 0, hash: GENESIS_HASH };

  const extent = await chainExtent(tx, tenantId, base.chainSeq);
  const lastSeq = Math.max(extent.lastSeq ?? base.chainSeq, base.chainSeq);
  const lastHash = lastSeq === base.chainSeq ? base.hash : extent.lastHash;

  if (lastSeq > base.chainSeq) {
    const entryFault = await firstFaultInSegments(tx, tenantId, base, lastSeq, check, options.entriesPerSegment ?? ENTRIES_PER_SEGMENT);
    if (entryFault) faults.push(fault(entryFault.chainSeq, entryFault.id, entryFault.reason));
  }

  const matched: StoredCheckpoint[] = cut ? [cut] : [];
  for (const cp of signed) {
    if (cp.chainSeq <= base.chainSeq) continue; // the cut itself is checked through the first entry's prev_hash
    if (cp.chainSeq > lastSeq) faults.push(fault(lastSeq + 1, null, 'entries_missing'));
    else if (cp.entryHash && cp.entryHash.equals(cp.hash)) matched.push(cp);
    else faults.push(fault(cp.chainSeq, cp.entryId, 'checkpoint_mismatch'));
  }

  if (head) {
    if (head.chainSeq > lastSeq) faults.push(fault(lastSeq + 1, null, 'entries_missing'));
    else if (head.chainSeq < lastSeq) faults.push(fault(head.chainSeq + 1, await entryIdAt(tx, tenantId, head.chainSeq + 1), 'beyond_head'));
    else if (!lastHash || !head.hash.equals(lastHash)) faults.push(fault(lastSeq, await entryIdAt(tx, tenantId, lastSeq), 'head_mismatch'));
  } else if (lastSeq > base.chainSeq) {
    faults.push(fault(base.chainSeq + 1, await entryIdAt(tx, tenantId, base.chainSeq + 1), 'beyond_head'));
  }

  // Stable sort: at equal positions the entry's own fault (found first) wins.
  const firstBroken = faults.sort((a, b) => a.chainSeq - b.chainSeq)[0];
  const trusted = matched.filter((cp) => !firstBroken || cp.chainSeq < firstBroken.chainSeq).at(-1);
  return {
    tenantId,
    ok: !firstBroken,
    entries: extent.entries,
    headSeq: head?.chainSeq ?? 0,
    unsealed: extent.unsealed,
    ...(firstBroken ? { firstBroken } : {}),
    ...(trusted ? { lastVerifiedCheckpoint: { chainSeq: trusted.chainSeq, kind: trusted.kind, at: trusted.createdAt.toISOString() } } : {}),
  };
}
