// Haven's encrypted backup of a ~1 GB database against a raw `pg_dump -Fc` of
// the same database to a file. Haven's includes everything a backup is: the
// pg_dump, the SHA-256 of the plaintext and the ciphertext, HVN1 encryption,
// the write into the backup location, the object-key manifest and the signed
// manifest. Target: Haven's time ≤ 1.3 × pg_dump's. Also reports verify
// (read back, decrypt, check both digests) and the stored sizes.
// HAVEN_BENCH_BACKUP_MB sets the seeded size (default 1150, which seeds about 1 GiB) for dry runs.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { connectionOf } from '../src/modules/privacy/backup/pgtools.ts';
import { startStandaloneHaven } from '../test/helpers/audit.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult, median } from './lib/result.ts';

const TARGET_RATIO = 1.3;
const SIZE_MB = Number(process.env.HAVEN_BENCH_BACKUP_MB ?? 1150);
const RUNS = 2;

await runBenchmark(async () => {
  process.stdout.write('starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startStandaloneHaven();
  const untrack = track(standalone);
  try {
    const { platform, modules } = standalone.haven;
    const pool = platform.db.ownerPool;
    // Rows like a busy installation's: uuids, timestamps, short text, and a
    // mix of repetitive and random payload (view events, audit details).
    process.stdout.write(`seeding ~${SIZE_MB} MB…\n`);
    const t0 = performance.now();
    await pool.query(`create table bench_backup_rows (id bigint primary key, tenant uuid not null, at timestamptz not null, kind text not null, payload text not null)`);
    const rowsPerMb = 4000; // ~250 bytes per row on disk, index included
    const total = SIZE_MB * rowsPerMb;
    const batch = 500_000;
    for (let start = 1; start <= total; start += batch) {
      await pool.query(`insert into bench_backup_rows
        select g, md5((g % 97)::text)::uuid, now() - (g || ' seconds')::interval,
               (array['view','seek','pause','audit','upload'])[1 + g % 5],
               md5(random()::text) || md5(g::text) || repeat('segment-', (1 + g % 8)::int) || md5(random()::text)
          from generate_series($1::bigint, $2::bigint) g`, [start, Math.min(total, start + batch - 1)]);
    }
    await pool.query('vacuum analyze bench_backup_rows');
    const { rows } = await pool.query<{ bytes: string }>('select pg_database_size(current_database()) as bytes');
    const dbBytes = Number(rows[0]!.bytes);
    process.stdout.write(`seeded ${(dbBytes / 1024 ** 3).toFixed(2)} GiB in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);

    const conn = connectionOf(platform.db.ownerUrl);
    const rawFile = join(platform.config.dataDir, 'raw.pgdump');
    const rawTimes: number[] = [];
    const havenTimes: number[] = [];
    const verifyTimes: number[] = [];
    let rawSize = 0;
    let storedSize = 0;
    const rawDump = () => {
      const t = performance.now();
      const raw = spawnSync('pg_dump', ['-Fc', '--no-password', '-d', conn.url, '-f', rawFile], { env: conn.env, encoding: 'utf8' });
      if (raw.status !== 0) throw new Error(`pg_dump failed: ${raw.stderr}`);
      rawTimes.push((performance.now() - t) / 1000);
      rawSize = statSync(rawFile).size;
    };
    const havenBackup = async () => {
      let t = performance.now();
      const manifest = await modules.privacy.backup.create({ tier: 'hourly' });
      havenTimes.push((performance.now() - t) / 1000);
      storedSize = manifest.database.stored.size;
      t = performance.now();
      await modules.privacy.backup.verify(manifest.id);
      verifyTimes.push((performance.now() - t) / 1000);
    };
    // Alternating which goes first, so neither always meets a cache the other warmed.
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) { rawDump(); await havenBackup(); } else { await havenBackup(); rawDump(); }
      process.stdout.write(`run ${run + 1}: pg_dump ${rawTimes.at(-1)!.toFixed(1)} s, haven backup ${havenTimes.at(-1)!.toFixed(1)} s, verify ${verifyTimes.at(-1)!.toFixed(1)} s\n`);
    }
    const rawSeconds = median(rawTimes);
    const havenSeconds = median(havenTimes);
    const ratio = havenSeconds / rawSeconds;
    emitResult({
      name: 'Encrypted backup vs pg_dump',
      issue: 'privacy operations (backups)',
      metrics: [
        { label: 'database size', value: dbBytes / 1024 ** 2, unit: 'MiB' },
        { label: `raw pg_dump -Fc to a file (median of ${RUNS})`, value: rawSeconds, unit: 's' },
        { label: `haven backup create (median of ${RUNS})`, value: havenSeconds, unit: 's' },
        { label: `haven backup verify (median of ${RUNS})`, value: median(verifyTimes), unit: 's' },
        { label: 'pg_dump archive size', value: rawSize / 1024 ** 2, unit: 'MiB' },
        { label: 'encrypted backup size', value: storedSize / 1024 ** 2, unit: 'MiB' },
      ],
      targets: [{
        label: 'haven backup time / raw pg_dump -Fc time',
        target: `≤ ${TARGET_RATIO}`,
        actual: ratio.toFixed(2),
        met: ratio <= TARGET_RATIO,
        ratio: ratio / TARGET_RATIO,
      }],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
