// Signed checkpoints of chain heads (scheduled) and retention cuts.
import type { Tx } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { type Checkpoint, type CheckpointKind, type CheckpointSigner, GENESIS_HASH } from './chain.ts';
import { deleteThrough, firstFaultyEntry, hashAt, insertCheckpoint, latestCheckpoint, lockHead, retentionCut } from './store.ts';

const truncateToMs = (d: Date) => new Date(Math.floor(d.getTime()));

interface SignedPoint { chainSeq: number; hash: Buffer }

/**
 * The newest checkpoint with a valid signature, or genesis. A checkpoint that
 * fails its signature is not a starting point for anything.
 */
async function lastSignedPoint(tx: Tx, tenantId: string, signer: CheckpointSigner, kind?: CheckpointKind): Promise<SignedPoint | 'forged'> {
  const cp = await latestCheckpoint(tx, tenantId, kind);
  if (!cp) return { chainSeq: 0, hash: GENESIS_HASH };
  return signer.valid(cp, cp.signature) ? cp : 'forged';
}

/**
 * Signs the tenant's head if it moved since the last checkpoint, after
 * re-checking the entries since then: a checkpoint must never vouch for a
 * chain that was already tampered with.
 */
export async function checkpointHead(tx: Tx, tenantId: string, signer: CheckpointSigner, now: Date, log: Logger): Promise<Checkpoint | undefined> {
  const head = await lockHead(tx, tenantId, 'share');
  if (!head || head.chainSeq === 0) return undefined;
  const last = await lastSignedPoint(tx, tenantId, signer);
  if (last === 'forged') {
    log.error({ tenantId }, 'audit checkpoint withheld: the newest checkpoint has an invalid signature; run haven audit verify');
    return undefined;
  }
  if (last.chainSeq >= head.chainSeq) return undefined;
  const broken = await firstFaultyEntry(tx, tenantId, last, head.chainSeq);
  if (broken) {
    log.error({ tenantId, chainSeq: broken.chainSeq, reason: broken.reason }, 'audit checkpoint withheld: the chain is broken; run haven audit verify');
    return undefined;
  }
  const cp: Checkpoint = { tenantId, kind: 'scheduled', chainSeq: head.chainSeq, hash: head.hash, createdAt: truncateToMs(now) };
  await insertCheckpoint(tx, cp, signer.sign(cp));
  // The log line is a copy of the checkpoint outside the database: an operator
  // who ships logs elsewhere can detect even the deletion of checkpoints.
  log.info({ tenantId, chainSeq: cp.chainSeq, hash: cp.hash.toString('hex') }, 'audit checkpoint signed');
  return cp;
}

export interface SweepResult { tenantId: string; cutSeq: number; deleted: number }

/**
 * Deletes the tenant's entries older than the cutoff behind a signed cut
 * checkpoint, so the rest still verifies. Refuses (and logs) when the part to
 * be deleted does not verify: evidence of tampering is never swept away.
 */
export async function sweepTenant(tx: Tx, tenantId: string, cutoff: Date, signer: CheckpointSigner, now: Date, log: Logger): Promise<SweepResult | undefined> {
  const head = await lockHead(tx, tenantId, 'update');
  if (!head || head.chainSeq === 0) return undefined;
  const base = await lastSignedPoint(tx, tenantId, signer, 'cut');
  if (base === 'forged') {
    log.error({ tenantId }, 'audit retention sweep refused: the last cut checkpoint has an invalid signature');
    return undefined;
  }
  const cutSeq = await retentionCut(tx, tenantId, cutoff, head.chainSeq);
  if (cutSeq <= base.chainSeq) return undefined;
  const broken = await firstFaultyEntry(tx, tenantId, base, cutSeq);
  const hash = broken ? null : await hashAt(tx, tenantId, cutSeq);
  if (!hash) {
    log.error({ tenantId, chainSeq: broken?.chainSeq ?? cutSeq, reason: broken?.reason ?? 'entries_missing' }, 'audit retention sweep refused: the entries to delete do not verify');
    return undefined;
  }
  const cp: Checkpoint = { tenantId, kind: 'cut', chainSeq: cutSeq, hash, createdAt: truncateToMs(now) };
  await insertCheckpoint(tx, cp, signer.sign(cp));
  const deleted = await deleteThrough(tx, tenantId, cutSeq);
  log.info({ tenantId, cutSeq, deleted, hash: hash.toString('hex') }, 'audit retention cut signed');
  return { tenantId, cutSeq, deleted };
}
