// Video search on a library of 100,000 videos (issue 5): p50/p95 latency of
// typical searches and listings through the library service — the same
// path as GET /api/v1/videos minus HTTP: the app role under row-level
// security, keyset pages, views with collections — against plain SQL over
// the same table as the baseline. Target: p95 ≤ 50 ms.
//
// The library is generated in bulk (generate_series, fixed seed): titles and
// descriptions from a 2,000-word vocabulary with a skewed (Zipf-like) word
// frequency, 2–5 tags of 300, custom fields, five languages, caption text on
// one video in ten, 40 collections holding half the videos.
//
// Knobs, for working on queries without regenerating the library each time:
// SEARCH_BENCH_DATABASE_URL runs on that database instead of a fresh embedded
// one and keeps it (the library is generated only the first time; migrations
// added since run on start as usual; its data dir is kept beside it in the
// temp dir); SEARCH_BENCH_RUNS sets the runs per kind (default 150).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { startHaven } from '../src/main.ts';
import { searchParamsSchema } from '../src/modules/library/search-params.ts';
import { startStandaloneHaven, type StandaloneHaven } from '../test/helpers/audit.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult } from './lib/result.ts';

const VIDEOS = 100_000;
const BATCH = 20_000;
const RUNS = Number(process.env.SEARCH_BENCH_RUNS ?? 150);
const TARGET_P95_MS = 50;
const TENANT_NAME = 'Search bench';
const keptDatabaseUrl = process.env.SEARCH_BENCH_DATABASE_URL;

/** Haven on a kept database (SEARCH_BENCH_DATABASE_URL), or on its own embedded PostgreSQL removed afterwards. */
async function startBenchHaven(): Promise<StandaloneHaven> {
  if (!keptDatabaseUrl) return startStandaloneHaven();
  const dataDir = join(tmpdir(), `haven-search-bench-${new URL(keptDatabaseUrl).pathname.slice(1)}`);
  mkdirSync(dataDir, { recursive: true });
  const env = { HAVEN_CONFIG: '', HAVEN_ENV: 'test', HAVEN_LOG_LEVEL: 'warn', HAVEN_DATA_DIR: dataDir, DATABASE_URL: keptDatabaseUrl };
  const haven = await startHaven(loadConfig(env), { workers: false, http: false, logDestination: { write: () => undefined } });
  return { haven, env, stop: () => haven.close() };
}

/** 2,000 pronounceable words, the same every run. */
function vocabulary(): string[] {
  const onsets = ['b', 'br', 'c', 'ch', 'd', 'f', 'g', 'gr', 'h', 'k', 'l', 'm', 'n', 'p', 'pl', 'r', 's', 'st', 't', 'tr', 'v', 'w', 'z'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ou'];
  const codas = ['', 'n', 'r', 'l', 's', 'nd', 'rt', 'x', 'm', 'ck'];
  const words = new Set<string>();
  for (let i = 0; words.size < 2000; i++) {
    const syl = (k: number) => onsets[(i * 7 + k * 13) % onsets.length]! + vowels[(i * 3 + k * 5) % vowels.length]! + codas[(i * 11 + k) % codas.length]!;
    words.add(syl(1) + syl(Math.floor(i / 37) + 2) + (i % 3 === 0 ? syl(i % 17) : ''));
  }
  return [...words];
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function timed(runs: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 10; i++) await fn(i); // warm-up: plans, caches
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

await runBenchmark(async () => {
  process.stdout.write(keptDatabaseUrl ? 'starting Haven on the kept database…\n' : 'starting Haven on its own embedded PostgreSQL…\n');
  const standalone = await startBenchHaven();
  const untrack = track(standalone);
  try {
    const { platform, modules } = standalone.haven;
    const existing = await platform.db.ownerPool.query<{ id: string; region: string }>('select id, region from tenants where name = $1', [TENANT_NAME]);
    const tenant = existing.rows[0]
      ?? (await modules.setup({ tenantName: TENANT_NAME, adminEmail: 'owner@search.bench', adminPassword: 'correct horse battery staple' })).tenant;
    const owner = await platform.db.withTenant(tenant.id, (tx) => tx.selectFrom('memberships').select('user_id').where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow());
    const ctx = { actor: { type: 'user' as const, userId: owner.user_id, tenantId: tenant.id, role: 'owner' as const, platformRoles: [] }, tenantId: tenant.id };
    const words = vocabulary();
    const tags = Array.from({ length: 300 }, (_, i) => `${words[(i * 7) % words.length]}-${i}`);
    const departments = ['sales', 'marketing', 'engineering', 'support', 'legal', 'finance', 'hr', 'operations', 'research', 'design', 'product', 'security'];
    const pick = (n: number, skew: number) => `($3::text[])[1 + floor(${n} * power(random(), ${skew}))::int]`;

    const t0 = performance.now();
    const client = await platform.db.ownerPool.connect();
    try {
      if (existing.rows[0]) process.stdout.write('library kept from an earlier run\n');
      else await generateLibrary(client);
    } finally {
      client.release();
    }
    const generateSeconds = existing.rows[0] ? undefined : (performance.now() - t0) / 1000;
    if (generateSeconds !== undefined) process.stdout.write(`generated in ${generateSeconds.toFixed(1)} s\n`);

    async function generateLibrary(client: pg.PoolClient): Promise<void> {
      process.stdout.write(`generating ${VIDEOS.toLocaleString('en')} videos…\n`);
      await client.query('select setseed(0.42)');
      for (let from = 1; from <= VIDEOS; from += BATCH) {
        await client.query(
          `insert into videos (id, tenant_id, region, title, description, language, tags, custom_fields, captions_text, status, duration_ms, created_at, published_state)
           select gen_random_uuid(), $1, $2,
                  initcap(${pick(2000, 2.5)}) || ' ' || ${pick(2000, 2.5)} || ' ' || ${pick(2000, 2.5)} || ' ' || ${pick(2000, 2.5)} || ' ' || ${pick(2000, 2.5)},
                  (select string_agg(${pick(2000, 2.5)}, ' ') from generate_series(1, 20 + g * 0)),
                  (array['en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'sv', 'sv', 'fi', 'de', 'de', 'fr', 'nl'])[1 + g % 20],
                  array(select distinct ($4::text[])[1 + floor(300 * power(random(), 2))::int] from generate_series(1, 2 + g % 4)),
                  jsonb_build_object('department', ($5::text[])[1 + g % 12], 'budget', g % 5000),
                  case when g % 10 = 0 then (select string_agg(${pick(2000, 2)}, ' ') from generate_series(1, 300 + g * 0)) else '' end,
                  (array['ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'processing', 'failed'])[1 + g % 10],
                  (30 + (g * 7919) % 7200) * 1000,
                  now() - g * interval '15 minutes',
                  (array['draft', 'published', 'published'])[1 + g % 3]
           from generate_series($6::int, $7::int) g`,
          [tenant.id, tenant.region, words, tags, departments, from, Math.min(VIDEOS, from + BATCH - 1)],
        );
        process.stdout.write(`  ${Math.min(VIDEOS, from + BATCH - 1).toLocaleString('en')}\n`);
      }
      await client.query(
        `insert into collections (id, tenant_id, name) select gen_random_uuid(), $1, 'Collection ' || c from generate_series(1, 40) c`,
        [tenant.id],
      );
      await client.query(
        `insert into collection_videos (collection_id, video_id, tenant_id)
         select c.id, v.id, $1 from (select id, row_number() over (order by created_at) as n from videos where tenant_id = $1) v
         join (select id, row_number() over (order by name) as k from collections where tenant_id = $1) c on c.k = 1 + v.n % 40
         where v.n % 2 = 0`,
        [tenant.id],
      );
      await client.query('vacuum analyze videos');
      await client.query('vacuum analyze collection_videos');
    }

    // Query words by how many videos they occur in (title, description, tags, custom fields, captions).
    const { rows: freq } = await platform.db.ownerPool.query<{ word: string; ndoc: number }>(
      `select word, ndoc from ts_stat($$select search from videos where language = 'en'$$) where word ~ '^[a-z]{5,}$' order by ndoc desc`,
    );
    const near = (ndoc: number) => freq.reduce((best, f) => (Math.abs(f.ndoc - ndoc) < Math.abs(best.ndoc - ndoc) ? f : best));
    const common = near(8000);
    const mid = near(2000);
    const rare = freq.at(-1)!;
    const collection = await platform.db.ownerPool.query<{ id: string }>('select id from collections where tenant_id = $1 limit 1', [tenant.id]);
    const popularTag = tags[1]!;

    const search = (params: Record<string, unknown>) => modules.library.videos.search(ctx, searchParamsSchema.parse(params));
    // How many videos each query word finds (every language, fields and captions), for the labels.
    const matches = async (word: string) => (await search({ q: word, facets: 'true' })).facets!.total;
    for (const w of [common, mid, rare]) w.ndoc = await matches(w.word);
    process.stdout.write(`query words: common "${common.word}" (finds ${common.ndoc} videos), mid "${mid.word}" (${mid.ndoc}), rare "${rare.word}" (${rare.ndoc})\n`);
    // A cursor 5 pages deep into the newest-first listing.
    let deep: string | undefined;
    for (let page = 0, cursor: string | undefined; page < 5; page++) {
      const res = await search({ limit: 25, ...(cursor ? { cursor } : {}) });
      cursor = res.nextCursor ?? undefined;
      deep = cursor;
    }

    const typical: [string, (i: number) => Promise<unknown>][] = [
      [`one word finding ${mid.ndoc} videos`, () => search({ q: mid.word })],
      [`one word finding ${rare.ndoc} videos`, () => search({ q: rare.word })],
      [`one word finding ${common.ndoc} videos`, () => search({ q: common.word })],
      ['search as you type: two words, last a prefix', (i) => search({ q: `${mid.word} ${rare.word.slice(0, 3 + (i % 3))}` })],
      ['q + tag filter', () => search({ q: mid.word, tag: [popularTag] })],
      ['q + facets', () => search({ q: mid.word, facets: 'true' })],
      ['q + collection + status filter', () => search({ q: common.word, collection: collection.rows[0]!.id, status: ['ready'] })],
      ['list newest first', () => search({})],
      ['list, page 6 by cursor', () => search({ limit: 25, cursor: deep })],
      ['list by tag, created range, sorted by title', () => search({ tag: [popularTag], createdFrom: new Date(Date.now() - 365 * 86_400_000).toISOString(), sort: 'title' })],
      ['list by duration range, longest first', () => search({ durationMin: 600, durationMax: 1800, sort: 'duration' })],
    ];
    const results: { label: string; times: number[] }[] = [];
    for (const [label, fn] of typical) {
      const times = await timed(RUNS, fn);
      results.push({ label, times });
      process.stdout.write(`  ${label}: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms\n`);
    }
    const wholeFacets = await timed(40, () => search({ facets: 'true' }));
    process.stdout.write(`  whole library with facets: p50 ${percentile(wholeFacets, 50).toFixed(1)} ms, p95 ${percentile(wholeFacets, 95).toFixed(1)} ms\n`);

    const baselineCount = await timed(RUNS, () => platform.db.ownerPool.query('select count(*) from videos where tenant_id = $1', [tenant.id]));
    const baselineSelect = await timed(RUNS, () => platform.db.ownerPool.query('select id, title from videos where tenant_id = $1 order by created_at desc limit 25', [tenant.id]));
    const all = results.flatMap((r) => r.times).sort((a, b) => a - b);
    const p95 = percentile(all, 95);
    const worst = results.reduce((a, b) => (percentile(b.times, 95) > percentile(a.times, 95) ? b : a));

    emitResult({
      name: 'Video search at 100,000 videos',
      issue: '#5',
      metrics: [
        { label: 'videos', value: VIDEOS, unit: 'videos' },
        ...(generateSeconds === undefined ? [] : [{ label: 'generation (insert, index, analyze)', value: generateSeconds, unit: 's' }]),
        ...results.flatMap((r) => [
          { label: `${r.label}, p50`, value: percentile(r.times, 50), unit: 'ms' },
          { label: `${r.label}, p95`, value: percentile(r.times, 95), unit: 'ms' },
        ]),
        { label: 'all typical searches together, p50', value: percentile(all, 50), unit: 'ms' },
        { label: 'all typical searches together, p95', value: p95, unit: 'ms' },
        { label: 'whole library with facets (not a search), p50', value: percentile(wholeFacets, 50), unit: 'ms' },
        { label: 'whole library with facets (not a search), p95', value: percentile(wholeFacets, 95), unit: 'ms' },
        { label: 'baseline: plain SQL count(*) of the tenant\'s videos, p50', value: percentile(baselineCount, 50), unit: 'ms' },
        { label: 'baseline: plain SQL count(*), p95', value: percentile(baselineCount, 95), unit: 'ms' },
        { label: 'baseline: plain SQL newest 25 (owner, no RLS), p50', value: percentile(baselineSelect, 50), unit: 'ms' },
        { label: 'baseline: plain SQL newest 25, p95', value: percentile(baselineSelect, 95), unit: 'ms' },
      ],
      targets: [
        {
          label: `p95 of typical searches and listings (${typical.length} kinds × ${RUNS} runs) at ${VIDEOS.toLocaleString('en')} videos`,
          target: `≤ ${TARGET_P95_MS} ms`,
          actual: `${p95.toFixed(1)} ms`,
          met: p95 <= TARGET_P95_MS,
          ratio: p95 / TARGET_P95_MS,
        },
        {
          label: `slowest kind: ${worst.label}, p95`,
          target: `≤ ${TARGET_P95_MS} ms`,
          actual: `${percentile(worst.times, 95).toFixed(1)} ms`,
          met: percentile(worst.times, 95) <= TARGET_P95_MS,
          ratio: percentile(worst.times, 95) / TARGET_P95_MS,
        },
      ],
    });
  } finally {
    untrack();
    await standalone.stop();
  }
});
