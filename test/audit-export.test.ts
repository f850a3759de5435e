// Exporting a million audit entries streams in constant memory. V8 enlarges
// its young generation once data flows at full speed (by up to ~150 MB on a
// machine with plenty of RAM, whatever the amount exported), so the test
// checks what constant memory means: after the first fifth of the export,
// resident memory stops growing, however many entries follow. (An export
// that held its rows would add ~500 MB after that point.)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import { seedFillerHistory } from './helpers/audit.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const ENTRIES = 1_000_000;
const MAX_LATE_GROWTH_MB = 100;
const MAX_TOTAL_GROWTH_MB = 350;

describe('audit export at scale', () => {
  let haven: TestHaven;
  const tenantId = randomUUID();
  const start = new Date(Date.now() - 2 * 86_400_000);

  before(async () => {
    haven = await startTestHaven({ haven: { workers: false } });
    await seedFillerHistory(haven.platform, tenantId, ENTRIES, { start, stepMs: 100, actorId: randomUUID(), actorRef: 'p_seedactor' });
  });
  after(() => haven.stop());

  test(`${ENTRIES.toLocaleString('en')} entries as NDJSON in constant memory`, async (t) => {
    const ctx: RequestContext = { actor: { type: 'system', job: 'test' }, tenantId };
    const range = { from: start.toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    const baseline = process.memoryUsage().rss;
    let lines = 0;
    let bytes = 0;
    let lastLine = '';
    let warmPeak = baseline;
    let latePeak = 0;
    const sample = () => {
      const rss = process.memoryUsage().rss;
      if (lines < ENTRIES / 5) warmPeak = Math.max(warmPeak, rss);
      else latePeak = Math.max(latePeak, rss);
    };
    const sampler = setInterval(sample, 20);
    try {
      const stream = await haven.modules.audit.exportEvents(tenantId, range, 'ndjson', ctx);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        lastLine = chunk.toString('utf8', chunk.lastIndexOf(10, chunk.length - 2) + 1);
        sample();
      }
    } finally {
      clearInterval(sampler);
    }
    assert.equal(lines, ENTRIES + 1, 'every seeded entry, plus the audit.export entry itself');
    assert.equal(JSON.parse(lastLine).action, 'audit.export');
    const mb = (n: number) => (n / 1e6).toFixed(0);
    const report = `baseline ${mb(baseline)} MB, peak in the first fifth ${mb(warmPeak)} MB, afterwards ${mb(latePeak)} MB, exported ${mb(bytes)} MB`;
    t.diagnostic(report);
    assert.ok(latePeak - warmPeak < MAX_LATE_GROWTH_MB * 1e6, `memory kept growing with the export: ${report}`);
    assert.ok(Math.max(warmPeak, latePeak) - baseline < MAX_TOTAL_GROWTH_MB * 1e6, `memory grew too much: ${report}`);
  });
});
