// Tamper evidence: an attacker with the database owner's access (guard
// triggers off) edits, deletes, reorders, inserts or rewrites entries, and
// verification reports the first broken entry. Each case gets a fresh chain of
// 50 entries with signed checkpoints at positions 20, 40 and 50.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { createCheckpointSigner, entryHash } from '../src/modules/audit/chain.ts';
import type { AuditService, VerifyReport } from '../src/modules/audit/service.ts';
import { firstFaultyEntry } from '../src/modules/audit/store.ts';
import { verifyChain } from '../src/modules/audit/verify.ts';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import { asAttacker } from './helpers/audit.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { runHavenCommand } from './helpers/cli.ts';

interface Link { id: number; seq: number; hash: Buffer }

describe('audit tamper evidence', () => {
  let haven: TestHaven;
  let audit: AuditService;

  before(async () => {
    haven = await startTestHaven();
    audit = haven.modules.audit;
  });
  after(() => haven.stop());

  const ctx = (t: string): RequestContext => ({ actor: { type: 'user', userId: randomUUID(), tenantId: t, role: 'editor', platformRoles: [] }, tenantId: t, requestId: randomUUID() });

  async function record(t: string, from: number, to: number): Promise<void> {
    await haven.platform.db.withTenant(t, async (tx) => {
      for (let i = from; i <= to; i++) {
        await audit.record(tx, ctx(t), { action: i % 3 ? 'video.update' : 'video.publish', target: { type: 'video', id: `v${i}` }, details: { n: i } });
      }
    });
    await audit.seal(t);
  }

  /** A tenant chain of 50 entries, checkpoints at 20, 40 and 50. */
  async function chain(): Promise<{ t: string; links: Map<number, Link> }> {
    const t = randomUUID();
    for (const [from, to] of [[1, 20], [21, 40], [41, 50]] as const) {
      await record(t, from, to);
      await audit.checkpoint(t);
    }
    const links = new Map<number, Link>();
    for (const r of (await haven.platform.db.ownerPool.query('select id, chain_seq, hash from audit_events where tenant_id = $1', [t])).rows) {
      links.set(Number(r.chain_seq), { id: Number(r.id), seq: Number(r.chain_seq), hash: r.hash });
    }
    assert.equal(links.size, 50);
    const intact = await audit.verify(t);
    assert.equal(intact.ok, true);
    assert.deepEqual(await verifyInSegments(t), intact);
    return { t, links };
  }

  /**
   * The verification large chains get: concurrent segments (here of about a
   * dozen entries, so every case has tampering near or across a boundary).
   */
  function verifyInSegments(t: string): Promise<VerifyReport> {
    const { db, signingKey } = haven.platform;
    return db.withTenant(t, (tx) => verifyChain(tx, t, createCheckpointSigner(signingKey), {
      entriesPerSegment: 7,
      check: (segmentTx, base, last) => (segmentTx ? firstFaultyEntry(segmentTx, t, base, last) : db.withTenant(t, (own) => firstFaultyEntry(own, t, base, last))),
    }));
  }

  async function assertBroken(t: string, chainSeq: number, reason: string, id: number | null, lastCheckpoint?: number) {
    const report = await audit.verify(t);
    assert.equal(report.ok, false, 'tampering was detected');
    assert.deepEqual({ chainSeq: report.firstBroken?.chainSeq, reason: report.firstBroken?.reason, id: report.firstBroken?.id }, { chainSeq, reason, id });
    assert.equal(report.lastVerifiedCheckpoint?.chainSeq, lastCheckpoint);
    assert.deepEqual(await verifyInSegments(t), report, 'segmented verification finds the same');
  }

  /** Recomputes hashes from position `from` to the end, as a careful attacker would. */
  async function rehashFrom(client: pg.PoolClient, t: string, from: number): Promise<void> {
    const { rows } = await client.query('select id, chain_seq, audit_canonical(e) as canonical from audit_events e where tenant_id = $1 and chain_seq >= $2 order by chain_seq', [t, from]);
    let prev: Buffer = (await client.query('select hash from audit_events where tenant_id = $1 and chain_seq = $2', [t, from - 1])).rows[0].hash;
    let last = prev;
    for (const r of rows) {
      const hash = entryHash(prev, Number(r.chain_seq), r.canonical);
      await client.query('update audit_events set prev_hash = $2, hash = $3 where id = $1', [r.id, prev, hash]);
      prev = hash;
      last = hash;
    }
    await client.query('update audit_chain_heads set chain_seq = (select max(chain_seq) from audit_events where tenant_id = $1), hash = $2 where tenant_id = $1', [t, last]);
  }

  test('editing a field breaks that entry', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, (c) => c.query(`update audit_events set action = 'video.delete' where tenant_id = $1 and chain_seq = 30`, [t]));
    await assertBroken(t, 30, 'hash_mismatch', links.get(30)!.id, 20);
  });

  test('editing a field and its hash breaks the link to the next entry', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, async (c) => {
      await c.query(`update audit_events set outcome = 'failed' where tenant_id = $1 and chain_seq = 30`, [t]);
      const { rows } = await c.query('select prev_hash, audit_canonical(e) as canonical from audit_events e where tenant_id = $1 and chain_seq = 30', [t]);
      await c.query('update audit_events set hash = $2 where tenant_id = $1 and chain_seq = 30', [t, entryHash(rows[0].prev_hash, 30, rows[0].canonical)]);
    });
    await assertBroken(t, 31, 'prev_hash_mismatch', links.get(31)!.id, 20);
  });

  test('deleting an entry breaks the sequence after it', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, (c) => c.query('delete from audit_events where tenant_id = $1 and chain_seq = 30', [t]));
    await assertBroken(t, 31, 'sequence_break', links.get(31)!.id, 20);
  });

  test('swapping two entries\' content breaks the earlier one', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, (c) => c.query(`
      update audit_events e set action = o.action, target_id = o.target_id, target_ref = o.target_ref, details = o.details
      from audit_events o
      where e.tenant_id = $1 and o.tenant_id = $1 and ((e.chain_seq = 25 and o.chain_seq = 35) or (e.chain_seq = 35 and o.chain_seq = 25))`, [t]));
    await assertBroken(t, 25, 'hash_mismatch', links.get(25)!.id, 20);
  });

  test('reordering two entries (positions swapped, hashes moved along) breaks the earlier position', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, async (c) => {
      await c.query('update audit_events set chain_seq = -chain_seq where tenant_id = $1 and chain_seq in (25, 35)', [t]);
      await c.query('update audit_events set chain_seq = case chain_seq when -25 then 35 else 25 end where tenant_id = $1 and chain_seq in (-25, -35)', [t]);
    });
    await assertBroken(t, 25, 'hash_mismatch', links.get(35)!.id, 20);
  });

  test('inserting a forged entry with a valid hash breaks the entry it displaced', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, async (c) => {
      await c.query('update audit_events set chain_seq = chain_seq + 1000000 where tenant_id = $1 and chain_seq >= 30', [t]);
      await c.query('update audit_events set chain_seq = chain_seq - 999999 where tenant_id = $1 and chain_seq >= 1000000', [t]);
      const prev = links.get(29)!.hash;
      const { rows } = await c.query(
        `insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, chain_seq, prev_hash, hash)
         values ($1, date_trunc('milliseconds', now()), 'user.role.grant', 'success', 'system', 30, $2, $2) returning id`, [t, prev]);
      const canonical = (await c.query('select audit_canonical(e) as c from audit_events e where id = $1', [rows[0].id])).rows[0].c;
      await c.query('update audit_events set hash = $2 where id = $1', [rows[0].id, entryHash(prev, 30, canonical)]);
    });
    await assertBroken(t, 31, 'hash_mismatch', links.get(30)!.id, 20);
  });

  test('rewriting the whole tail consistently is caught by the next signed checkpoint', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, async (c) => {
      await c.query(`update audit_events set action = 'video.delete' where tenant_id = $1 and chain_seq = 30`, [t]);
      await rehashFrom(c, t, 30);
    });
    await assertBroken(t, 40, 'checkpoint_mismatch', links.get(40)!.id, 20);
  });

  test('re-signing a checkpoint without the key is caught', async () => {
    const { t, links } = await chain();
    await asAttacker(haven.platform, async (c) => {
      await c.query(`update audit_events set action = 'video.delete' where tenant_id = $1 and chain_seq = 30`, [t]);
      await rehashFrom(c, t, 30);
      await c.query(`update audit_checkpoints c set hash = e.hash, signature = sha256(e.hash) from audit_events e
                     where c.tenant_id = $1 and e.tenant_id = $1 and e.chain_seq = c.chain_seq and c.chain_seq > 20`, [t]);
    });
    await assertBroken(t, 40, 'checkpoint_signature_invalid', links.get(40)!.id, 20);
  });

  test('cutting off the tail (head moved back too) is caught by a checkpoint beyond it', async () => {
    const { t } = await chain();
    await asAttacker(haven.platform, async (c) => {
      await c.query('delete from audit_events where tenant_id = $1 and chain_seq > 44', [t]);
      await c.query('update audit_chain_heads set chain_seq = 44, hash = (select hash from audit_events where tenant_id = $1 and chain_seq = 44) where tenant_id = $1', [t]);
    });
    await assertBroken(t, 45, 'entries_missing', null, 40);
  });

  test('an entry appended behind the sealer\'s back is caught', async () => {
    const { t, links } = await chain();
    const id = await asAttacker(haven.platform, async (c) => {
      const prev = links.get(50)!.hash;
      const { rows } = await c.query(
        `insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, chain_seq, prev_hash, hash)
         values ($1, date_trunc('milliseconds', now()), 'video.update', 'success', 'system', 51, $2, $2) returning id`, [t, prev]);
      const canonical = (await c.query('select audit_canonical(e) as c from audit_events e where id = $1', [rows[0].id])).rows[0].c;
      await c.query('update audit_events set hash = $2 where id = $1', [rows[0].id, entryHash(prev, 51, canonical)]);
      return Number(rows[0].id);
    });
    await assertBroken(t, 51, 'beyond_head', id, 50);
  });

  test('erasable columns are outside the hash by design', async () => {
    const { t } = await chain();
    await haven.platform.db.withTenant(t, async (tx) => {
      const { rows } = await haven.platform.db.ownerPool.query('select actor_id from audit_events where tenant_id = $1 and chain_seq = 10', [t]);
      await audit.eraseSubject(tx, t, rows[0].actor_id, 'erased_1');
    });
    assert.equal((await audit.verify(t)).ok, true);
  });

  test('a broken chain gets no new checkpoint', async () => {
    const { t } = await chain();
    await record(t, 51, 55);
    await asAttacker(haven.platform, (c) => c.query(`update audit_events set action = 'video.delete' where tenant_id = $1 and chain_seq = 53`, [t]));
    const logged = haven.logs.length;
    assert.deepEqual(await audit.checkpoint(t), []);
    assert.ok(haven.logs.slice(logged).some((l) => l.includes('audit checkpoint withheld')));
  });

  test('the retention sweep refuses to delete a tampered range', async () => {
    const { t } = await chain();
    await asAttacker(haven.platform, (c) => c.query(`update audit_events set occurred_at = occurred_at - interval '3 years', action = 'video.delete' where tenant_id = $1 and chain_seq <= 10`, [t]));
    const swept = (await audit.sweep()).filter((r) => r.tenantId === t);
    assert.deepEqual(swept, []);
    const { rows } = await haven.platform.db.ownerPool.query('select count(*)::int as n from audit_events where tenant_id = $1', [t]);
    assert.equal(rows[0].n, 50, 'the evidence stays');
  });

  describe('haven audit verify', () => {
    const verifyCli = (...args: string[]) => runHavenCommand(['audit', 'verify', ...args], {
      HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'warn', HAVEN_DATA_DIR: haven.dataDir, DATABASE_URL: haven.database.url,
    });

    test('exit 0 and a summary for an intact chain, 1 and the first broken entry otherwise', async () => {
      const tenant = await haven.modules.tenants.create({ name: 'Verify CLI' });
      await record(tenant.id, 1, 5);
      const ok = await verifyCli('--tenant', tenant.slug);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`^verify-cli \\(${tenant.id}\\): ok, 7 entries`));

      await asAttacker(haven.platform, (c) => c.query(`update audit_events set outcome = 'denied' where tenant_id = $1 and chain_seq = 4`, [tenant.id]));
      const broken = await verifyCli('--tenant', tenant.id);
      assert.equal(broken.status, 1, broken.stderr);
      assert.match(broken.stdout, /BROKEN at entry #4 \(id \d+\): hash_mismatch/);

      const json = await verifyCli('--tenant', tenant.slug, '--json');
      assert.equal(JSON.parse(json.stdout.trim()).firstBroken.chainSeq, 4);

      const all = await verifyCli();
      assert.equal(all.status, 1, 'some chain in this database is broken');
      const lines = all.stdout.trim().split('\n');
      const { rows } = await haven.platform.db.ownerPool.query<{ n: number }>('select count(*)::int as n from audit_chain_heads');
      assert.equal(lines.length, rows[0]!.n, 'one line per chain');
      assert.ok(lines.some((l) => l.startsWith(`verify-cli (${tenant.id}): BROKEN at entry #4`)));
    });

    test('an unknown tenant is a usage error', async () => {
      const r = await verifyCli('--tenant', 'no-such-tenant');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /no tenant with slug or id "no-such-tenant"/);
    });
  });
});
