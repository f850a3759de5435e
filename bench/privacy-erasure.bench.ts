// Erasure of one person, verification included, on a database with
// 1,000,000 analytics sessions, 100,000 users and 1,000,000 audit entries.
// Target: ≤ 5 s. The reference is the plain SQL a hand-written erasure of
// the same person would run (its rows deleted or unlinked, in one
// transaction), timed on a twin person; the ratio is erasure / plain SQL.
// The verification scan (every text-like column of every table, uuid columns
// by equality; docs/privacy/erasure.md) is reported on its own, with its
// slowest tables: it is the costly part.
import { randomUUID } from 'node:crypto';
import { systemContext } from '../src/modules/identity/actor.ts';
import { eraseSubject } from '../src/modules/privacy/erasure/index.ts';
import { seedSealedHistory, startStandaloneHaven } from '../test/helpers/audit.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const USERS = 100_000;
const SESSIONS = 1_000_000;
const AUDIT = 1_000_000;
const TARGET_SECONDS = 5;

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const { platform, modules } = standalone.haven;
    const pool = platform.db.ownerPool;
    const tenant = await modules.tenants.create({ name: 'Erasure bench' });
    const video = randomUUID();
    process.stdout.write(`seeding ${USERS.toLocaleString('en')} users, ${SESSIONS.toLocaleString('en')} analytics sessions, ${AUDIT.toLocaleString('en')} audit entries…\n`);
    await pool.query(`insert into users (id, username, username_normalized, email, email_normalized, display_name)
      select md5('u' || i)::uuid, 'user' || i, 'user' || i, 'user' || i || '@bench.test', 'user' || i || '@bench.test', 'Bench Person ' || i
      from generate_series(1, ${USERS}) i`);
    await pool.query(`insert into memberships (tenant_id, user_id, role) select $1, md5('u' || i)::uuid, 'viewer' from generate_series(1, ${USERS}) i`, [tenant.id]);
    await pool.query(`insert into videos (id, tenant_id, region, title, status) values ($1, $2, $3, 'Town hall', 'ready')`, [video, tenant.id, tenant.region]);
    await pool.query(`insert into analytics_sessions (playback_id, tenant_id, video_id, day, started_at, last_event_at, viewer_user_id, user_agent, os, browser, visitor_hash)
      select gen_random_uuid(), $1, $2, current_date, now(), now(), md5('u' || (1 + i % ${USERS}))::uuid, 'Mozilla/5.0 (X11; Linux x86_64)', 'Linux', 'Firefox', md5(i::text)
      from generate_series(1, ${SESSIONS}) i`, [tenant.id, video]);
    await seedSealedHistory(platform, tenant.id, AUDIT, { start: new Date(Date.now() - 7 * 86_400_000), stepMs: 100, actorId: randomUUID(), actorRef: 'p_benchactor' });
    const subjectId = (await pool.query(`select md5('u42')::uuid as id`)).rows[0].id as string;
    const twinId = (await pool.query(`select md5('u43')::uuid as id`)).rows[0].id as string;
    for (const userId of [subjectId, twinId]) {
      for (let i = 0; i < 5; i++) {
        await modules.audit.recordNow({ actor: { type: 'user', userId, tenantId: tenant.id, role: 'viewer', platformRoles: [] }, tenantId: tenant.id }, { action: 'video.view', target: { type: 'video', id: video } });
      }
    }
    await pool.query('vacuum analyze');

    // The reference: the statements a hand-written erasure of the twin would run, in one transaction.
    const t0 = performance.now();
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('app.scope', 'platform', true)`);
      await client.query('delete from analytics_sessions where tenant_id = $1 and viewer_user_id = $2', [tenant.id, twinId]);
      await client.query('delete from memberships where user_id = $1', [twinId]);
      await client.query('delete from sessions where user_id = $1', [twinId]);
      await client.query('update videos set owner_id = null where owner_id = $1', [twinId]);
      await client.query(`update audit_events set actor_id = null where tenant_id = $1 and actor_id = $2`, [tenant.id, twinId]);
      await client.query('delete from users where id = $1', [twinId]);
      await client.query('commit');
    } finally {
      client.release();
    }
    const plainSeconds = (performance.now() - t0) / 1000;

    const t1 = performance.now();
    const report = await eraseSubject({ platform, audit: modules.audit }, { userId: subjectId }, systemContext('bench.erasure'));
    const erasureSeconds = (performance.now() - t1) / 1000;
    if (report.state !== 'done') throw new Error(`erasure ended in ${report.state}: ${JSON.stringify(report.verification?.findings)}`);
    const v = report.verification!;
    const rows = report.tables.reduce((n, t) => n + t.rows, 0);
    process.stdout.write(`erased ${rows} rows in ${report.tables.length} table actions; verification scanned ${v.database.tables} tables / ${v.database.columns} columns in ${v.database.ms} ms\n`);
    process.stdout.write(`slowest tables (scanned concurrently): ${v.database.slowest.map((t) => `${t.table} ${t.ms} ms`).join(', ')}\n`);
    process.stdout.write(`columns not searched, by reason: ${JSON.stringify(v.database.skipped)}\n`);
    emitResult({
      name: 'Erasure of one data subject',
      issue: 'privacy operations',
      metrics: [
        { label: 'rows erased', value: rows, unit: 'rows' },
        { label: 'audit entries relabelled', value: report.audit.reduce((n, a) => n + a.entries, 0), unit: 'entries' },
        { label: 'eraseSubject, whole (plan, database, ledger, verification)', value: erasureSeconds, unit: 's' },
        { label: 'verification database scan', value: v.database.ms / 1000, unit: 's' },
        { label: 'plain SQL statements of the same erasure (twin person)', value: plainSeconds, unit: 's' },
        { label: 'erasure / plain SQL', value: erasureSeconds / plainSeconds, unit: '×' },
      ],
      targets: [{
        label: `erase one person incl. verification (${SESSIONS.toLocaleString('en')} sessions, ${USERS.toLocaleString('en')} users, ${AUDIT.toLocaleString('en')} audit entries)`,
        target: `≤ ${TARGET_SECONDS} s`,
        actual: `${erasureSeconds.toFixed(2)} s`,
        met: erasureSeconds <= TARGET_SECONDS,
        ratio: erasureSeconds / TARGET_SECONDS,
      }],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
