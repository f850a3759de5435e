// The hash chain and its signed checkpoints.
//
//   hash(n) = SHA-256( hash(n-1) ‖ int64be(n) ‖ audit_canonical(row n) )
//
// with hash(0) = 32 zero bytes. audit_canonical is the SQL function of
// migration 0003 (one definition, used by the sealer and the verifier). A
// plain hash lets anyone holding an export check the links; what an attacker
// with database access could recompute is pinned by checkpoints, which are
// HMAC-signed with a key derived from the platform signing key — a key that
// lives in the nodes' configuration, never in the database.
import { createHash, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

export function entryHash(prevHash: Buffer, chainSeq: number, canonical: Buffer): Buffer {
  const seq = Buffer.alloc(8);
  seq.writeBigInt64BE(BigInt(chainSeq));
  return createHash('sha256').update(prevHash).update(seq).update(canonical).digest();
}

export type CheckpointKind = 'scheduled' | 'cut';

export interface Checkpoint {
  tenantId: string;
  kind: CheckpointKind;
  chainSeq: number;
  hash: Buffer;
  createdAt: Date;
}

export interface CheckpointSigner {
  sign(cp: Checkpoint): Buffer;
  valid(cp: Checkpoint, signature: Buffer): boolean;
}

/** Every field is signed, so a checkpoint cannot be moved, relabelled (scheduled → cut) or backdated. */
function payload(cp: Checkpoint): Buffer {
  return Buffer.from(['haven:audit:checkpoint:v1', cp.tenantId, cp.kind, String(cp.chainSeq), cp.hash.toString('hex'), String(cp.createdAt.getTime())].join('\n'));
}

export function createCheckpointSigner(signingKey: Buffer): CheckpointSigner {
  // A purpose-bound key: a signature made for tokens can never pass as a checkpoint's.
  const key = createSecretKey(createHmac('sha256', signingKey).update('haven:audit:checkpoint-key:v1').digest());
  const sign = (cp: Checkpoint) => createHmac('sha256', key).update(payload(cp)).digest();
  return {
    sign,
    valid(cp, signature) {
      const expected = sign(cp);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    },
  };
}
