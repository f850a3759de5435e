// docs/configuration.md is generated from the configuration schema; these
// tests keep the checked-in reference, and the example in it, in step with
// what Haven actually accepts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { configurationDocPath, regionsExample, renderConfigurationDoc } from '../scripts/generate-docs.ts';
import { configSchema, envNames, loadConfig } from '../src/config.ts';

/** The first line where two texts part, for a failure message a person can act on. */
function firstDifference(expected: string, actual: string): string {
  const want = expected.split('\n');
  const have = actual.split('\n');
  const line = want.findIndex((text, i) => text !== have[i]);
  const at = line === -1 ? want.length : line;
  return `line ${at + 1}: expected ${JSON.stringify(want[at] ?? '(end of file)')}, found ${JSON.stringify(have[at] ?? '(end of file)')}`;
}

describe('configuration reference', () => {
  test('docs/configuration.md is what npm run docs renders from src/config.ts', () => {
    const rendered = renderConfigurationDoc();
    const checkedIn = readFileSync(configurationDocPath, 'utf8');
    assert.ok(checkedIn === rendered, `docs/configuration.md is out of date (${firstDifference(rendered, checkedIn)}): run \`npm run docs\``);
  });

  test('every setting is in the table with its environment variable and a description', () => {
    const doc = renderConfigurationDoc();
    const properties = (z.toJSONSchema(configSchema, { io: 'output' }) as { properties: Record<string, { description?: string }> }).properties;
    for (const [key, variable] of Object.entries(envNames)) {
      assert.ok(properties[key]?.description, `${key} has no .describe() text in src/config.ts`);
      assert.ok(doc.includes(`| \`${key}\` | \`${variable}\` |`), `${key} (${variable}) is missing from the table`);
    }
  });

  test('the regions example works from haven.config.json and from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'haven-docs-'));
    try {
      const file = join(dir, 'haven.config.json');
      writeFileSync(file, JSON.stringify(regionsExample));
      const fromFile = loadConfig({ HAVEN_CONFIG: file });
      const fromEnv = loadConfig({
        HAVEN_CONFIG: '',
        HAVEN_DEFAULT_REGION: regionsExample.defaultRegion,
        HAVEN_REGIONS: JSON.stringify(regionsExample.regions),
      });
      assert.equal(fromFile.defaultRegion, 'eu');
      assert.deepEqual(Object.keys(fromFile.regions), ['eu', 'ch']);
      assert.deepEqual(fromFile.regions.ch!.storage, { ...regionsExample.regions.ch.storage, forcePathStyle: true });
      assert.deepEqual(fromEnv.regions, fromFile.regions);
      assert.equal(fromEnv.defaultRegion, fromFile.defaultRegion);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
