// Privacy by construction: every column of every table in the live schema is
// declared in some module's datamap.ts, and nothing declared is stale.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { combinedDataMap } from '../src/modules/datamaps.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

describe('data map', () => {
  let haven: TestHaven;
  before(async () => { haven = await startTestHaven({ haven: { http: false, workers: false } }); });
  after(() => haven.stop());

  test('every column in the schema is declared, and every declaration exists', async () => {
    const { rows } = await haven.platform.db.ownerPool.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
    );
    const map = combinedDataMap();
    const undeclared = rows.filter((r) => !map[r.table_name]?.[r.column_name]).map((r) => `${r.table_name}.${r.column_name}`);
    assert.deepEqual(undeclared, [], 'declare these columns in their module\'s datamap.ts');
    const live = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
    const stale = Object.entries(map).flatMap(([t, cols]) => Object.keys(cols).map((c) => `${t}.${c}`)).filter((k) => !live.has(k));
    assert.deepEqual(stale, [], 'these declarations name columns that do not exist');
  });

  test('personal columns say how they are erased, and retained ones say why', () => {
    for (const [table, cols] of Object.entries(combinedDataMap())) {
      for (const [column, d] of Object.entries(cols)) {
        if (!d.personal) continue;
        assert.match(d.category, /^[a-z_]+(\.[a-z_]+)+$/, `${table}.${column} category`);
        assert.ok(d.subject && d.purpose && d.legalBasis && d.retention, `${table}.${column} is fully declared`);
        if (d.erasure === 'retain') assert.ok(d.retainBasis && d.retainBasis.length > 20, `${table}.${column} says why it is retained`);
      }
    }
  });
});
