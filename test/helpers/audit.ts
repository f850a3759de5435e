// Audit trail helpers for tests and benchmarks: a large sealed history built
// in bulk, and tampering as an attacker with database owner access would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { type Haven, startHaven } from '../../src/main.ts';
import { entryHash, GENESIS_HASH } from '../../src/modules/audit/chain.ts';
import { withDatabaseName } from '../../src/platform/db/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/platform/db/embedded.ts';
import { unusedPort } from './process.ts';
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
 * temporary table, their canonical bytes read once through a cursor
 * (audit_canonical), the chain hashed here, and everything inserted with one
 * statement. Sealing a million rows batch by batch, as the sealer does for
 * live traffic, would take about a minute; this takes seconds.
 */
export async function seedSealedHistory(platform: Platform, tenantId: string, n: number, opts: SeedOptions): Promise<{ headSeq: number; headHash: Buffer }> {
  const client = await platform.db.ownerPool.connect();
  try {
    await client.query(`select set_config('app.scope', 'platform', false)`);
    await client.query('begin');
    const head = await client.query<{ chain_seq: number; hash: Buffer }>('select chain_seq, hash from audit_chain_heads where tenant_id = $1 for update', [tenantId]);
    let seq = head.rows[0] ? Number(head.rows[0].chain_seq) : 0;
    let prev: Buffer = head.rows[0]?.hash ?? GENESIS_HASH;
    // Values chosen so every index of audit_events is appended to in order (fast bulk insert).
    await client.query('create temp table audit_seed (like audit_events) on commit drop');
    await client.query(
      `insert into audit_seed (id, tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, actor_tenant_id,
                               target_type, target_id, target_ref, request_id, ip_pseudonym, ua_pseudonym, diff, details)
       select g, $1, $2::timestamptz + (g - 1) * $3::int * interval '1 millisecond',
              (array['video.update', 'video.read', 'auth.login.failed', 'user.add'])[1 + g % 4],
              (array['success', 'success', 'failed', 'success'])[1 + g % 4],
              'user', $4::uuid, $5, $1,
              'video', 'v' || g, 'p_t' || lpad(g::text, 10, '0'), 'req-' || g, 'p_ip' || (g % 1000), 'p_ua' || (g % 50),
              jsonb_build_object('title', jsonb_build_object('from', jsonb_build_object('masked', true, 'ref', 'p_old' || g), 'to', 'draft')),
              jsonb_build_object('n', g, 'category', 'bulk')
       from generate_series(1, $6::int) g`,
      [tenantId, opts.start, opts.stepMs, opts.actorId, opts.actorRef, n],
    );
    await client.query('create temp table audit_seed_links (id bigint, chain_seq bigint, prev_hash bytea, hash bytea) on commit drop');
    await client.query('declare seed_rows no scroll cursor for select id, audit_canonical(row(s.*)::audit_events) as canonical from audit_seed s order by id');
    for (;;) {
      const { rows } = await client.query<{ id: string; canonical: Buffer }>('fetch forward 50000 from seed_rows');
      if (rows.length === 0) break;
      const ids: number[] = [];
      const seqs: number[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const r of rows) {
        seq += 1;
        const hash = entryHash(prev, seq, r.canonical);
        ids.push(Number(r.id));
        seqs.push(seq);
        prevs.push(prev.toString('hex'));
        hashes.push(hash.toString('hex'));
        prev = hash;
      }
      await client.query(
        `insert into audit_seed_links select id, seq, decode(p, 'hex'), decode(h, 'hex') from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) as u(id, seq, p, h)`,
        [ids, seqs, prevs, hashes],
      );
    }
    await client.query('close seed_rows');
    await client.query(
      `insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, actor_tenant_id,
                                 target_type, target_id, target_ref, request_id, ip_pseudonym, ua_pseudonym, diff, details, chain_seq, prev_hash, hash)
       select s.tenant_id, s.occurred_at, s.action, s.outcome, s.actor_type, s.actor_id, s.actor_ref, s.actor_tenant_id,
              s.target_type, s.target_id, s.target_ref, s.request_id, s.ip_pseudonym, s.ua_pseudonym, s.diff, s.details,
              l.chain_seq, l.prev_hash, l.hash
       from audit_seed s join audit_seed_links l using (id)
       order by s.id`,
    );
    await client.query(
      `insert into audit_chain_heads (tenant_id, chain_seq, hash) values ($1, $2, $3)
       on conflict (tenant_id) do update set chain_seq = excluded.chain_seq, hash = excluded.hash, updated_at = now()`,
      [tenantId, seq, prev],
    );
    await client.query('commit');
    // Fresh statistics and visibility map, as a long-lived table would have.
    await client.query('vacuum analyze audit_events');
    return { headSeq: seq, headHash: prev };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * n entries sealed in one INSERT ... SELECT, with placeholder hashes that link
 * to each other but do not cover the content: for measuring what does not
 * depend on the chain (export, search). Verification of such a tenant fails
 * by design; use seedSealedHistory where the chain matters.
 */
export async function seedFillerHistory(platform: Platform, tenantId: string, n: number, opts: SeedOptions): Promise<void> {
  const filler = (seq: string) => `sha256(convert_to($1::uuid::text || ':' || (${seq})::text, 'UTF8'))`;
  const client = await platform.db.ownerPool.connect();
  try {
    await client.query(`select set_config('app.scope', 'platform', false)`);
    await client.query('begin');
    await client.query(
      `insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, actor_tenant_id,
                                 target_type, target_id, target_ref, request_id, ip_pseudonym, ua_pseudonym, diff, details, chain_seq, prev_hash, hash)
       select $1::uuid, $2::timestamptz + (g - 1) * $3::int * interval '1 millisecond',
              (array['video.update', 'video.read', 'auth.login.failed', 'user.add'])[1 + g % 4],
              (array['success', 'success', 'failed', 'success'])[1 + g % 4],
              'user', $4::uuid, $5, $1::uuid,
              'video', 'v' || g, 'p_t' || lpad(g::text, 10, '0'), 'req-' || g, 'p_ip' || (g % 1000), 'p_ua' || (g % 50),
              case when g % 4 = 0 then '{"title": {"to": "draft", "from": {"ref": "p_oldtitle", "masked": true}}}'::jsonb end,
              jsonb_build_object('n', g),
              g, case when g = 1 then decode(repeat('00', 32), 'hex') else ${filler('g - 1')} end, ${filler('g')}
       from generate_series(1, $6::int) g`,
      [tenantId, opts.start, opts.stepMs, opts.actorId, opts.actorRef, n],
    );
    await client.query(
      `insert into audit_chain_heads (tenant_id, chain_seq, hash) values ($1::uuid, $2, ${filler('$2::bigint')})
       on conflict (tenant_id) do update set chain_seq = excluded.chain_seq, hash = excluded.hash, updated_at = now()`,
      [tenantId, n],
    );
    await client.query('commit');
    await client.query('vacuum analyze audit_events');
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

export interface StandaloneHaven {
  haven: Haven;
  /** Environment for another Haven process on the same database and secrets (CLI, export worker). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A Haven (no HTTP, no workers) on its own embedded PostgreSQL in a temp dir,
 * for benchmarks that must not share a server with anything else.
 */
export async function startStandaloneHaven(): Promise<StandaloneHaven> {
  const dir = mkdtempSync(join(tmpdir(), 'haven-audit-bench-'));
  let postgres: EmbeddedPostgres | undefined;
  let haven: Haven;
  let env: Record<string, string>;
  try {
    // The temp dir itself: startEmbeddedPostgres opens it to the database user when running as root.
    postgres = await startEmbeddedPostgres(dir, await unusedPort(), () => undefined);
    env = { HAVEN_CONFIG: '', HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'warn', HAVEN_DATA_DIR: join(dir, 'data'), DATABASE_URL: withDatabaseName(postgres.url, 'haven_bench') };
    haven = await startHaven(loadConfig(env), { workers: false, http: false, logDestination: { write: () => undefined } });
  } catch (err) {
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    haven,
    env,
    async stop() {
      await haven.close();
      await postgres!.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
