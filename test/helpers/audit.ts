// Audit trail helpers for tests and benchmarks: a large sealed history built
// in bulk, and tampering as an attacker with database owner access would.
import type pg from 'pg';
import { entryHash, GENESIS_HASH } from '../../src/modules/audit/chain.ts';
import type { Platform } from '../../src/platform/platform.ts';

export interface SeedOptions {
  /** Time of the first entry; entries follow every stepMs. */
  start: Date;
  stepMs: number;
  actorId: string;
  actorRef: string;
}

/**
 * Appends n sealed entries to the tenant's chain the way the sealer would
 * (same canonical form, same hashes), but in bulk: rows are generated in a
 * temporary table, their canonical bytes computed by audit_canonical, the
 * chain hashed here, and everything inserted with a few statements. Sealing a
 * million rows one batch at a time would take minutes; this takes seconds.
 */
export async function seedSealedHistory(platform: Platform, tenantId: string, n: number, opts: SeedOptions): Promise<{ headSeq: number; headHash: Buffer }> {
  const client = await platform.db.ownerPool.connect();
  try {
    await client.query(`select set_config('app.scope', 'platform', false)`);
    await client.query('begin');
    const head = await client.query<{ chain_seq: number; hash: Buffer }>('select chain_seq, hash from audit_chain_heads where tenant_id = $1 for update', [tenantId]);
    let seq = head.rows[0] ? Number(head.rows[0].chain_seq) : 0;
    let prev: Buffer = head.rows[0]?.hash ?? GENESIS_HASH;
    await client.query('create temp table audit_seed (like audit_events) on commit drop');
    await client.query(
      `insert into audit_seed (id, tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, actor_tenant_id,
                               target_type, target_id, target_ref, request_id, ip_pseudonym, ua_pseudonym, diff, details)
       select g, $1, $2::timestamptz + (g - 1) * $3::int * interval '1 millisecond',
              (array['video.update', 'video.read', 'auth.login.failed', 'user.add'])[1 + g % 4],
              (array['success', 'success', 'failed', 'success'])[1 + g % 4],
              'user', $4::uuid, $5, $1,
              'video', 'v' || g, 'p_target' || g, 'req-' || g, 'p_ip' || (g % 1000), 'p_ua' || (g % 50),
              jsonb_build_object('title', jsonb_build_object('from', jsonb_build_object('masked', true, 'ref', 'p_old' || g), 'to', jsonb_build_object('masked', true, 'ref', 'p_new' || g))),
              jsonb_build_object('n', g, 'category', 'bulk')
       from generate_series(1, $6::int) g`,
      [tenantId, opts.start, opts.stepMs, opts.actorId, opts.actorRef, n],
    );
    const BATCH = 100_000;
    for (let lo = 1; lo <= n; lo += BATCH) {
      const hi = Math.min(n, lo + BATCH - 1);
      const { rows } = await client.query<{ canonical: Buffer }>('select audit_canonical(row(s.*)::audit_events) as canonical from audit_seed s where id between $1 and $2 order by id', [lo, hi]);
      const seqs: number[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const r of rows) {
        seq += 1;
        const hash = entryHash(prev, seq, r.canonical);
        seqs.push(seq);
        prevs.push(prev.toString('hex'));
        hashes.push(hash.toString('hex'));
        prev = hash;
      }
      await client.query(
        `insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, actor_tenant_id,
                                   target_type, target_id, target_ref, request_id, ip_pseudonym, ua_pseudonym, diff, details, chain_seq, prev_hash, hash)
         select s.tenant_id, s.occurred_at, s.action, s.outcome, s.actor_type, s.actor_id, s.actor_ref, s.actor_tenant_id,
                s.target_type, s.target_id, s.target_ref, s.request_id, s.ip_pseudonym, s.ua_pseudonym, s.diff, s.details,
                l.seq, decode(l.prev, 'hex'), decode(l.hash, 'hex')
         from unnest($1::bigint[], $2::text[], $3::text[]) with ordinality as l(seq, prev, hash, k)
         join audit_seed s on s.id = $4::bigint + l.k - 1
         order by l.seq`,
        [seqs, prevs, hashes, lo],
      );
    }
    await client.query(
      `insert into audit_chain_heads (tenant_id, chain_seq, hash) values ($1, $2, $3)
       on conflict (tenant_id) do update set chain_seq = excluded.chain_seq, hash = excluded.hash, updated_at = now()`,
      [tenantId, seq, prev],
    );
    await client.query('commit');
    await client.query('analyze audit_events');
    return { headSeq: seq, headHash: prev };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Runs fn as the database owner with the audit tables' guard triggers off,
 * in one transaction: what an attacker with database access can do.
 */
export async function asAttacker<T>(platform: Platform, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await platform.db.ownerPool.connect();
  try {
    await client.query(`select set_config('app.scope', 'platform', false)`);
    await client.query('begin');
    await client.query('alter table audit_events disable trigger user');
    const result = await fn(client);
    await client.query('alter table audit_events enable trigger user');
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
