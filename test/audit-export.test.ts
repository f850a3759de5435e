// Exporting a million audit entries streams in constant memory: the process's
// resident memory hardly grows while the whole range goes out as NDJSON.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RequestContext } from '../src/modules/identity/actor.ts';
import { seedFillerHistory } from './helpers/audit.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

const ENTRIES = 1_000_000;
const MAX_GROWTH_MB = 100;

describe('audit export at scale', () => {
  let haven: TestHaven;
  const tenantId = randomUUID();
  const start = new Date(Date.now() - 2 * 86_400_000);

  before(async () => {
    haven = await startTestHaven({ haven: { workers: false } });
    await seedFillerHistory(haven.platform, tenantId, ENTRIES, { start, stepMs: 100, actorId: randomUUID(), actorRef: 'p_seedactor' });
  });
  after(() => haven.stop());

  test(`${ENTRIES.toLocaleString('en')} entries as NDJSON with bounded memory`, async () => {
    const ctx: RequestContext = { actor: { type: 'system', job: 'test' }, tenantId };
    const range = { from: start.toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    let lines = 0;
    let bytes = 0;
    let lastLine = '';
    try {
      const stream = await haven.modules.audit.exportEvents(tenantId, range, 'ndjson', ctx);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        lastLine = chunk.toString('utf8', chunk.lastIndexOf(10, chunk.length - 2) + 1);
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    } finally {
      clearInterval(sampler);
    }
    assert.equal(lines, ENTRIES + 1, 'every seeded entry, plus the audit.export entry itself');
    assert.equal(JSON.parse(lastLine).action, 'audit.export');
    const growthMb = (peak - baseline) / 1e6;
    assert.ok(growthMb < MAX_GROWTH_MB, `resident memory grew by ${growthMb.toFixed(0)} MB while exporting ${(bytes / 1e6).toFixed(0)} MB`);
  });
});
