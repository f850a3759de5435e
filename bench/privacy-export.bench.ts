// Time to a ready access archive for one data subject (media excluded) in a
// database of 100,000 users, 1,000,000 analytics sessions and 1,000,000
// audit entries: the whole path of an approved access request — locate the
// subject, walk the data map, build the ZIP, encrypt it (HVN1), store it,
// record the link and mail it. Target ≤ 2 s. Reference: the plain SQL
// selects the archive needs, run by hand; the ratio is archive / selects.
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startStandaloneHaven } from '../test/helpers/audit.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const USERS = 100_000;
const SESSIONS = 1_000_000;
const AUDIT = 1_000_000;
const TARGET_SECONDS = 2;

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const { haven } = standalone;
    const { tenant } = await haven.modules.setup({ tenantName: 'Bench', adminEmail: 'owner@bench.test', adminPassword: 'correct horse battery staple' });
    const owner = haven.platform.db.ownerPool;
    const t0 = performance.now();
    process.stdout.write(`seeding ${USERS.toLocaleString('en')} users, ${SESSIONS.toLocaleString('en')} analytics sessions, ${AUDIT.toLocaleString('en')} audit entries…\n`);
    await owner.query(`
      insert into users (id, username, username_normalized, email, email_normalized, display_name)
      select md5('u' || i)::uuid, 'user' || i, 'user' || i, 'user' || i || '@bench.test', 'user' || i || '@bench.test', 'User ' || i
      from generate_series(1, ${USERS}) i`);
    await owner.query(`insert into memberships (tenant_id, user_id, role) select $1, md5('u' || i)::uuid, 'viewer' from generate_series(1, ${USERS}) i`, [tenant.id]);
    await owner.query(`
      insert into videos (id, tenant_id, region, title, status, owner_id)
      select md5('v' || i)::uuid, $1, $2, 'Video ' || i, 'ready', md5('u' || i)::uuid from generate_series(1, 100) i`, [tenant.id, tenant.region]);
    await owner.query(`
      insert into analytics_sessions (playback_id, tenant_id, video_id, day, started_at, last_event_at, watch_seconds, device_class, browser, viewer_user_id)
      select md5('s' || i)::uuid, $1, md5('v' || (1 + i % 100))::uuid, date '2025-01-01' + (i % 90), now() - (i % 90) * interval '1 day', now(), i % 600, 'desktop', 'Firefox',
             md5('u' || (1 + i % ${USERS}))::uuid
      from generate_series(1, ${SESSIONS}) i`, [tenant.id]);
    await owner.query(`
      insert into audit_events (tenant_id, occurred_at, action, outcome, actor_type, actor_id, actor_ref, target_type, target_id, target_ref)
      select $1, date_trunc('milliseconds', now() - i * interval '1 second'), 'bench.event', 'success', 'user',
             md5('u' || (1 + i % ${USERS}))::uuid, 'p_' || (i % ${USERS}), 'user', md5('u' || (1 + (i * 7) % ${USERS}))::uuid::text, 'p_t' || i
      from generate_series(1, ${AUDIT}) i`, [tenant.id]);
    await owner.query('analyze');
    process.stdout.write(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const subjectEmail = 'user4242@bench.test';
    const ownerUser = await haven.platform.db.withPlatform((tx) => tx.selectFrom('users').select('id').where('email_normalized', '=', 'owner@bench.test').executeTakeFirstOrThrow());
    const ctx = { actor: { type: 'user' as const, userId: ownerUser.id, tenantId: tenant.id, role: 'owner' as const, platformRoles: [] }, tenantId: tenant.id };
    const dsar = haven.modules.privacy.dsar;

    // Reference: the selects by hand.
    const plainSelects = async () => haven.platform.db.withPlatform(async (tx) => {
      const u = await sql<{ id: string }>`select id, username, email, display_name, preferred_language from users where email_normalized = ${subjectEmail}`.execute(tx);
      const id = u.rows[0]!.id;
      await sql`select * from memberships where user_id = ${id} and tenant_id = ${tenant.id}`.execute(tx);
      await sql`select * from analytics_sessions where viewer_user_id = ${id} and tenant_id = ${tenant.id}`.execute(tx);
      await sql`select actor_id, actor_ref, actor_via, ip_pseudonym, ua_pseudonym, details from audit_events where actor_id = ${id} and tenant_id = ${tenant.id}`.execute(tx);
      await sql`select target_id, target_ref, diff from audit_events where target_type = 'user' and target_id = ${id}::text and tenant_id = ${tenant.id}`.execute(tx);
      await sql`select * from consent_records where user_id = ${id}`.execute(tx);
      await sql`select * from videos where owner_id = ${id}`.execute(tx);
    });

    const runs: { archive: number; plain: number; bytes: number; rows: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const p0 = performance.now();
      await plainSelects();
      const plain = (performance.now() - p0) / 1000;
      const request = await dsar.createForTenant(ctx, { email: subjectEmail, type: 'access' });
      const a0 = performance.now();
      await dsar.process(request.id);
      const archive = (performance.now() - a0) / 1000;
      const done = await haven.platform.db.withTenant(tenant.id, (tx) => tx.selectFrom('privacy_requests').select(['state', 'result', 'error']).where('id', '=', request.id).executeTakeFirstOrThrow());
      if (done.state !== 'complete') throw new Error(`request ended ${done.state}: ${done.error}`);
      const rows = Object.values(done.result.rowsPerTable as Record<string, number>).reduce((a, b) => a + b, 0);
      const exp = await haven.platform.db.withTenant(tenant.id, (tx) => tx.selectFrom('privacy_exports').select('size_bytes').where('request_id', '=', request.id).executeTakeFirstOrThrow());
      runs.push({ archive, plain, bytes: exp.size_bytes, rows });
      process.stdout.write(`run ${i + 1}: archive ready in ${(archive * 1000).toFixed(0)} ms (${rows} rows, ${exp.size_bytes} bytes encrypted); plain selects ${(plain * 1000).toFixed(1)} ms${i === 0 ? ' (cold)' : ''}\n`);
    }
    const warm = runs.slice(1);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const archive = median(warm.map((r) => r.archive));
    const plain = median(warm.map((r) => r.plain));
    emitResult({
      name: 'Privacy: access archive for one subject',
      issue: 'privacy operations',
      metrics: [
        { label: 'time to a ready archive (median of 3 warm runs)', value: archive * 1000, unit: 'ms' },
        { label: 'time to a ready archive (first, cold)', value: runs[0]!.archive * 1000, unit: 'ms' },
        { label: 'plain SQL selects (median of 3 warm runs)', value: plain * 1000, unit: 'ms' },
        { label: 'subject rows in the archive', value: warm[0]!.rows, unit: 'rows' },
        { label: 'archive size (encrypted)', value: warm[0]!.bytes / 1e3, unit: 'kB' },
      ],
      targets: [{
        label: `time to a ready archive (media excluded) among ${USERS.toLocaleString('en')} users, ${SESSIONS.toLocaleString('en')} sessions, ${AUDIT.toLocaleString('en')} audit entries`,
        target: `≤ ${TARGET_SECONDS} s`,
        actual: `${archive.toFixed(3)} s (${(archive / plain).toFixed(1)}× the plain selects)`,
        met: archive <= TARGET_SECONDS,
        ratio: archive / TARGET_SECONDS,
      }],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
