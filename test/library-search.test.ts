// Search and listing against real PostgreSQL: full-text matching across
// title, tags, description, custom fields and captions with per-language
// stemming and prefix matching of the last word; ranking by where a word
// occurs; filters; facets; keyset pagination under every sort with signed
// cursors; and, on 20,000 videos, plans that use the indexes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { searchQuery, textQuery, type VideoFilter } from '../src/modules/library/search-store.ts';
import type { ApiClient } from './helpers/client.ts';
import { expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideos, type Org } from './helpers/library.ts';

const day = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe('video search', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  const v: Record<string, string> = {};

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Search Org');
    other = await createOrg(haven, 'Other Search Org');
    const fixtures = {
      keynoteTitle: { title: 'Running the keynote', tags: ['keynote', 'launch'], durationMs: 30_000, createdAt: day('2024-01-10') },
      keynoteDescription: { title: 'Quarterly numbers', description: 'A recap of the keynote for finance.', tags: ['finance'], durationMs: 400_000, createdAt: day('2024-02-10'), publishedState: 'published' as const },
      keynoteCustom: { title: 'Onboarding', customFields: { cost_center: 'Keynote budget' }, tags: ['hr', 'launch'], durationMs: 1_500_000, createdAt: day('2024-03-10'), status: 'processing' as const },
      keynoteCaptions: { title: 'Team meeting', captionsText: 'and then she said the keynote went well', durationMs: null, createdAt: day('2024-03-20'), status: 'failed' as const },
      swedish: { title: 'Löpning i skogen', description: 'Vi springer genom skogarna', language: 'sv', tags: ['outdoor'], durationMs: 4_000_000, createdAt: day('2024-04-01') },
      german: { title: 'Die schnellen Läufer', language: 'de', tags: ['outdoor', 'launch'], durationMs: 200_000, createdAt: day('2024-04-02') },
      onboardingAgain: { title: 'onboarding', description: 'same title, other video', tags: ['hr'], durationMs: 30_000, createdAt: day('2024-04-03') },
    };
    const ids = await insertVideos(haven, org, Object.values(fixtures));
    Object.keys(fixtures).forEach((k, i) => { v[k] = ids[i]!; });
    await insertVideos(haven, other, [{ title: 'Running the keynote elsewhere', tags: ['keynote'] }]);
  });
  after(() => haven.stop());

  const search = async (client: ApiClient, query: Record<string, string | string[]>) => {
    const params = new URLSearchParams();
    for (const [k, val] of Object.entries(query)) for (const one of [val].flat()) params.append(k, one);
    const res = await client.get(`/api/v1/videos?${params}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { items: any[]; nextCursor: string | null; facets?: any };
  };
  const ids = (page: { items: any[] }) => page.items.map((i) => i.id);
  const name = (id: string) => Object.keys(v).find((k) => v[k] === id);

  test('a word is found in title, tags, description, custom fields and captions, ranked in that order', async () => {
    const page = await search(org.owner, { q: 'keynote' });
    assert.deepEqual(page.items.map((i) => name(i.id)), ['keynoteTitle', 'keynoteDescription', 'keynoteCustom', 'keynoteCaptions']);
    assert.equal(page.nextCursor, null);
    assert.equal(page.items[0].title, 'Running the keynote');
  });

  test('every word must match; the last one also as a prefix', async () => {
    assert.deepEqual(ids(await search(org.owner, { q: 'keynote quarterly' })), [v.keynoteDescription]);
    assert.deepEqual(ids(await search(org.owner, { q: 'quarterly num' })), [v.keynoteDescription]);
    assert.deepEqual(ids(await search(org.owner, { q: 'keyn' })), [v.keynoteTitle, v.keynoteDescription, v.keynoteCustom], 'a prefix matches the fields; captions match whole words');
    assert.deepEqual(ids(await search(org.owner, { q: 'went' })), [v.keynoteCaptions]);
    assert.deepEqual(ids(await search(org.owner, { q: 'keynote nonexistentword' })), []);
    assert.deepEqual(ids(await search(org.owner, { q: 'meeting went' })), [v.keynoteCaptions], 'one word in the title, one in the captions');
    assert.equal(ids(await search(org.owner, { q: 'the keynote' })).length, 4, 'a stop word constrains nothing');
    assert.deepEqual(ids(await search(org.owner, { q: 'Budget' })), [v.keynoteCustom], 'custom field values are searched');
  });

  test('each video is stemmed in its own language', async () => {
    assert.deepEqual(ids(await search(org.owner, { q: 'runs keynote' })), [v.keynoteTitle], 'English: runs ~ running');
    assert.deepEqual(ids(await search(org.owner, { q: 'skog' })), [v.swedish], 'Swedish: skogen, skogarna ~ skog');
    assert.deepEqual(ids(await search(org.owner, { q: 'läufer schnell' })), [v.german], 'German: schnellen ~ schnell');
  });

  test('query syntax is not interpreted: operators and quotes are just separators', async () => {
    for (const q of ['keynote & | ! ( ) : * \\', "keynote'", 'keynote:*', '<->keynote', "'); drop table videos; --"]) {
      const page = await search(org.owner, { q });
      assert.ok(page.items.length <= 4, q);
    }
    assert.deepEqual(ids(await search(org.owner, { q: '!!! ***' })).length, 7, 'no words: everything');
  });

  test('filters: tags (all of them), collection, status, publish state, dates, duration', async () => {
    assert.deepEqual(new Set(ids(await search(org.owner, { tag: 'launch' }))), new Set([v.keynoteTitle, v.keynoteCustom, v.german]));
    assert.deepEqual(ids(await search(org.owner, { tag: ['launch', 'KEYNOTE '] })), [v.keynoteTitle], 'tags are normalized and all must match');
    assert.deepEqual(ids(await search(org.owner, { status: 'failed' })), [v.keynoteCaptions]);
    assert.deepEqual(new Set(ids(await search(org.owner, { status: ['failed', 'processing'] }))), new Set([v.keynoteCaptions, v.keynoteCustom]));
    assert.deepEqual(ids(await search(org.owner, { publishState: 'published' })), [v.keynoteDescription]);
    assert.deepEqual(new Set(ids(await search(org.owner, { createdFrom: '2024-02-01T00:00:00Z', createdTo: '2024-03-15T00:00:00Z' }))), new Set([v.keynoteDescription, v.keynoteCustom]));
    assert.deepEqual(new Set(ids(await search(org.owner, { durationMin: '300', durationMax: '1500' }))), new Set([v.keynoteDescription, v.keynoteCustom]));
    assert.deepEqual(ids(await search(org.owner, { q: 'keynote', tag: 'hr' })), [v.keynoteCustom]);

    const folder = await org.owner.post('/api/v1/collections', { name: 'Launch material' });
    await org.owner.post(`/api/v1/collections/${folder.body.id}/videos`, { videoIds: [v.keynoteTitle, v.german] });
    assert.deepEqual(new Set(ids(await search(org.owner, { collection: folder.body.id }))), new Set([v.keynoteTitle, v.german]));
    const inFolder = await search(org.owner, { collection: folder.body.id, q: 'keynote' });
    assert.deepEqual(ids(inFolder), [v.keynoteTitle]);
    assert.deepEqual(inFolder.items[0].collectionIds, [folder.body.id]);

    expectError(await org.owner.get('/api/v1/videos?status=done'), 400, 'invalid_request');
    expectError(await org.owner.get('/api/v1/videos?createdFrom=yesterday'), 400, 'invalid_request');
    expectError(await org.owner.get('/api/v1/videos?createdFrom=2024-05-01T00:00:00Z&createdTo=2024-01-01T00:00:00Z'), 400, 'invalid_filter');
    expectError(await org.owner.get('/api/v1/videos?durationMin=10&durationMax=5'), 400, 'invalid_filter');
    expectError(await org.owner.get(`/api/v1/videos?tag=${'x'.repeat(10_000)}`), 400, 'invalid_request');
    expectError(await org.owner.get('/api/v1/videos?sort=relevance'), 400, 'invalid_sort');
    expectError(await org.owner.get('/api/v1/videos?limit=1000'), 400, 'invalid_request');
  });

  test('facets count everything that matches, not just the page', async () => {
    const page = await search(org.owner, { facets: 'true', limit: '1' });
    assert.equal(page.items.length, 1);
    const f = page.facets;
    assert.equal(f.total, 7);
    assert.deepEqual(f.tags.slice(0, 3), [{ value: 'launch', count: 3 }, { value: 'hr', count: 2 }, { value: 'outdoor', count: 2 }]);
    assert.deepEqual(f.status, { ready: 5, processing: 1, failed: 1 });
    assert.deepEqual(f.publishState, { draft: 6, published: 1 });
    assert.deepEqual(f.createdMonth, [{ value: '2024-04', count: 3 }, { value: '2024-03', count: 2 }, { value: '2024-02', count: 1 }, { value: '2024-01', count: 1 }]);
    assert.deepEqual(Object.fromEntries(f.duration.map((d: any) => [d.bucket, d.count])), { under_1m: 2, '1m_5m': 1, '5m_20m': 1, '20m_60m': 1, over_60m: 1 });
    assert.equal(f.collections[0].name, 'Launch material');
    assert.equal(f.collections[0].count, 2);

    const narrowed = (await search(org.owner, { q: 'keynote', facets: 'true' })).facets;
    assert.equal(narrowed.total, 4);
    assert.deepEqual(narrowed.status, { ready: 2, processing: 1, failed: 1 });
    // A narrowed search counts memberships of its matches only (looked up by id, not joined: search-store.ts).
    assert.deepEqual(narrowed.collections.map((c: any) => [c.name, c.count]), [['Launch material', 1]]);
    assert.equal((await search(org.owner, {})).facets, undefined, 'facets only when asked');
  });

  test('pages under every sort cover each video once, in order', async () => {
    await insertVideos(haven, org, Array.from({ length: 5 }, () => ({ title: 'Weekly sync', tags: ['weekly'], durationMs: 30_000, createdAt: day('2024-04-03') })));
    const cases: [Record<string, string>, (a: any, b: any) => number][] = [
      [{}, (a, b) => b.createdAt.localeCompare(a.createdAt)],
      [{ sort: 'created', order: 'asc' }, (a, b) => a.createdAt.localeCompare(b.createdAt)],
      [{ sort: 'title' }, (a, b) => (a.title.toLowerCase() < b.title.toLowerCase() ? -1 : a.title.toLowerCase() > b.title.toLowerCase() ? 1 : 0)],
      [{ sort: 'duration' }, (a, b) => (b.durationMs ?? -1) - (a.durationMs ?? -1)],
      [{ sort: 'duration', order: 'asc' }, (a, b) => (a.durationMs ?? -1) - (b.durationMs ?? -1)],
      [{ q: 'weekly sync' }, () => 0],
    ];
    for (const [query, inOrder] of cases) {
      const all = await search(org.owner, { ...query, limit: '100' });
      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await search(org.owner, { ...query, limit: '2', ...(cursor ? { cursor } : {}) });
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 20);
      assert.deepEqual(seen.map((i) => i.id), all.items.map((i) => i.id), `paging ${JSON.stringify(query)} gives the same rows as one page`);
      assert.equal(new Set(seen.map((i) => i.id)).size, seen.length, `no repeats for ${JSON.stringify(query)}`);
      for (let i = 1; i < seen.length; i++) assert.ok(inOrder(seen[i - 1], seen[i]) <= 0, `order under ${JSON.stringify(query)} at ${i}`);
    }
    assert.equal((await search(org.owner, { q: 'weekly sync', limit: '100' })).items.length, 5, 'equal ranks are told apart by id');
  });

  test('a cursor is bound to its tenant and search; an edited one is a 400', async () => {
    const first = await search(org.owner, { limit: '2' });
    assert.ok(first.nextCursor);
    const [body, sig] = first.nextCursor!.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...payload, k: '1970-01-01 00:00:00+00' })).toString('base64url')}.${sig}`;
    expectError(await org.owner.get(`/api/v1/videos?limit=2&cursor=${encodeURIComponent(forged)}`), 400, 'invalid_cursor');
    expectError(await org.owner.get(`/api/v1/videos?limit=2&cursor=${first.nextCursor!.slice(0, -2)}xx`), 400, 'invalid_cursor');
    expectError(await org.owner.get('/api/v1/videos?limit=2&cursor=garbage'), 400, 'invalid_cursor');
    expectError(await org.owner.get(`/api/v1/videos?limit=2&tag=hr&cursor=${first.nextCursor}`), 400, 'invalid_cursor');
    expectError(await other.owner.get(`/api/v1/videos?limit=2&cursor=${first.nextCursor}`), 400, 'invalid_cursor');
    assert.equal((await org.owner.get(`/api/v1/videos?limit=3&cursor=${first.nextCursor}`)).status, 200, 'the page size may change between pages');
  });

  test('another tenant finds only its own videos', async () => {
    const page = await search(other.owner, { q: 'keynote', facets: 'true' });
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0].title, 'Running the keynote elsewhere');
    assert.equal(page.facets.total, 1);
  });

  test('every row policy reads the scope and tenant once per statement (migration 0021)', async () => {
    const { rows } = await haven.platform.db.ownerPool.query<{ table: string; policy: string }>(
      `select tablename as table, policyname as policy
       from pg_policies, lateral (select coalesce(qual, '') || ' ' || coalesce(with_check, '') as expr) e
       where schemaname = current_schema()
         and (expr ~ 'haven_tenant_visible\\(' or (expr ~ 'haven_trash_visible\\(' and expr !~ 'SELECT haven_trash_visible\\('))`,
    );
    assert.deepEqual(rows, [], 'policies still calling haven_tenant_visible() or haven_trash_visible() per row');
    const { rows: videos } = await haven.platform.db.ownerPool.query<{ qual: string }>(`select qual from pg_policies where tablename = 'videos' and policyname = 'tenant_isolation'`);
    assert.match(videos[0]!.qual, /\( SELECT /, 'the tenant policy of videos compares with a sub-select');
  });

  test('on 20,000 videos the searches use their indexes', async () => {
    const big = await createOrg(haven, 'Big Library');
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
    await haven.platform.db.ownerPool.query(
      `insert into videos (id, tenant_id, region, title, description, language, tags, status, duration_ms, created_at)
       select gen_random_uuid(), $1, $2,
              'Session ' || g || ' ' || ($3::text[])[1 + g % 10] || ' ' || ($3::text[])[1 + (g / 10) % 10] || ' w' || g,
              'Notes about ' || ($3::text[])[1 + (g / 100) % 10], 'en',
              array['topic' || (g % 40), 'series' || (g % 7)], 'ready', (g % 3600) * 1000, now() - g * interval '1 minute'
       from generate_series(1, 20000) g`,
      [big.tenantId, big.region, words],
    );
    await haven.platform.db.ownerPool.query('analyze videos');

    const explain = async (filter: Partial<VideoFilter> & { words?: string[] }, sort: 'relevance' | 'created' = 'created') => {
      return haven.platform.db.withTenant(big.tenantId, async (tx) => {
        const text = await textQuery(tx, filter.words ?? []);
        const compiled = searchQuery({ tenantId: big.tenantId, tags: [], ...filter, text }, { sort, order: 'desc' }, 26).compile(haven.platform.db.app);
        const res = await tx.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`explain (analyze, format json) ${compiled.sql}`, [...compiled.parameters]));
        return JSON.stringify(res.rows[0]!['QUERY PLAN']);
      });
    };
    const rare = await explain({ words: ['w12345'] }, 'relevance');
    assert.match(rare, /"Index Name":"videos_search"/, 'text search uses the GIN index');
    assert.match(rare, /"Index Name":"videos_captions_search"/, 'and the captions\' one');
    assert.doesNotMatch(rare, /"Node Type":"Seq Scan"/);
    assert.doesNotMatch(rare, /current_setting/, 'the row policies read their settings once per statement (InitPlans), not on every row');
    const prefix = await explain({ words: ['charlie', 'del'] }, 'relevance');
    assert.match(prefix, /"Index Name":"videos_search"/, 'prefix search uses the GIN index');
    const tagged = await explain({ tags: ['topic7', 'series3'] });
    assert.match(tagged, /"Index Name":"videos_(tags|tenant_created)"/);
    assert.doesNotMatch(tagged, /"Node Type":"Seq Scan"/);
    const newest = await explain({});
    assert.match(newest, /"Index Name":"videos_tenant_created"/, 'the default listing reads the created index in order');
    assert.doesNotMatch(newest, /"Node Type":"Sort"/, 'no sort of all rows');

    const t0 = performance.now();
    const res = await big.owner.get('/api/v1/videos?q=charlie%20del&facets=true');
    const ms = performance.now() - t0;
    assert.equal(res.status, 200);
    const wordsOf = (g: number) => new Set([words[g % 10], words[Math.floor(g / 10) % 10], words[Math.floor(g / 100) % 10]]);
    const expected = Array.from({ length: 20_000 }, (_, i) => wordsOf(i + 1)).filter((w) => w.has('charlie') && w.has('delta')).length;
    assert.equal(res.body.facets.total, expected);
    assert.ok(res.body.items.every((i: any) => /charlie/.test(`${i.title} ${i.description}`) && /delta/.test(`${i.title} ${i.description}`)));
    assert.ok(ms < 2000, `a search with facets over 20,000 videos took ${ms.toFixed(0)} ms`);
  });
});
