// The sealer links committed audit rows into their tenant's hash chain.
//
// Writers only INSERT (in their own transaction, taking no lock), so they
// never wait for each other. Sealing happens afterwards, one transaction per
// tenant and batch: lock the tenant's head row, take the unsealed rows in id
// order, give them the next positions, hash them, move the head. The chain's
// order is therefore the order of sealing: well defined with any number of
// writers on any number of nodes, even when a lower id commits after a higher
// one (it simply gets a later position). Every node that runs workers runs the
// loop; the head's row lock (SKIP LOCKED) lets exactly one of them seal a
// tenant at a time. Verification and export seal on demand first.
import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { entryHash, GENESIS_HASH } from './chain.ts';
import { applySeal, ensureHead, hasUnsealed, lockHead, type SealedLink, tenantsWithUnsealed, unsealedBatch } from './store.ts';

export const SEAL_BATCH = 5000;

export type SealMode = 'wait' | 'skip';

export interface Sealer {
  /** Seals every committed row of the tenant; returns how many it linked. */
  sealTenant(tenantId: string, mode?: SealMode): Promise<number>;
  sealAll(mode?: SealMode): Promise<number>;
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

export function createSealer(db: Database, log: Logger): Sealer {
  async function sealBatch(tenantId: string, mode: SealMode): Promise<number | undefined> {
    return db.withTenant(tenantId, async (tx) => {
      // A chain starts with its first entry: no head rows for tenants with nothing to seal.
      if (!(await hasUnsealed(tx, tenantId))) return 0;
      await ensureHead(tx, tenantId, GENESIS_HASH);
      const head = await lockHead(tx, tenantId, mode === 'wait' ? 'update' : 'skip');
      if (!head) return undefined; // another node holds the head right now
      const rows = await unsealedBatch(tx, tenantId, SEAL_BATCH);
      let prev = head.hash;
      let seq = head.chainSeq;
      const links: SealedLink[] = rows.map((row) => {
        seq += 1;
        const hash = entryHash(prev, seq, row.canonical);
        const link = { id: row.id, chainSeq: seq, prevHash: prev, hash };
        prev = hash;
        return link;
      });
      await applySeal(tx, tenantId, links);
      return rows.length;
    });
  }

  async function sealTenant(tenantId: string, mode: SealMode = 'wait'): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await sealBatch(tenantId, mode);
      if (n === undefined) return total;
      total += n;
      if (n < SEAL_BATCH) return total;
    }
  }

  async function sealAll(mode: SealMode = 'wait'): Promise<number> {
    const tenants = await db.withPlatform((tx) => tenantsWithUnsealed(tx));
    let total = 0;
    for (const tenantId of tenants) total += await sealTenant(tenantId, mode);
    return total;
  }

  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> | undefined;
  let running = false;

  return {
    sealTenant,
    sealAll,
    start(intervalMs = 500) {
      if (running) return;
      running = true;
      const tick = () => {
        pass = sealAll('skip')
          .catch((err) => log.warn({ err }, 'audit sealer pass failed; retrying'))
          .finally(() => {
            if (running) timer = setTimeout(tick, intervalMs).unref();
          });
      };
      // Unref'd: the loop alone never keeps a process alive; stop() ends it cleanly.
      timer = setTimeout(tick, intervalMs).unref();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await pass;
    },
  };
}
