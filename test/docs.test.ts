// docs/configuration.md is generated from the configuration schema; these
// tests keep the checked-in reference, and the example in it, in step with
// what Haven actually accepts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { configurationDocPath, privacyChapters, privacyDocPath, regionsExample, renderConfigurationDoc, renderPrivacyDoc } from '../scripts/generate-docs.ts';
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

describe('privacy document', () => {
  test('docs/privacy.md is what npm run docs renders from docs/privacy/*.md and the data map', () => {
    const rendered = renderPrivacyDoc();
    const checkedIn = readFileSync(privacyDocPath, 'utf8');
    assert.ok(checkedIn === rendered, `docs/privacy.md is out of date (${firstDifference(rendered, checkedIn)}): run \`npm run docs\``);
  });

  test('chapters come in reading order, others alphabetically after them, each in the table of contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'haven-privacy-docs-'));
    try {
      for (const [file, title] of [['zeta.md', 'Zeta notes'], ['erasure.md', 'Erasure'], ['alpha.md', 'Alpha notes'], ['dsar.md', 'Data-subject requests']] as const) {
        writeFileSync(join(dir, file), `# ${title}\n\nText of ${file}.\n\n## A section\n\n\`\`\`sh\n# not a heading\n\`\`\`\n`);
      }
      assert.deepEqual(privacyChapters(dir), ['dsar.md', 'erasure.md', 'alpha.md', 'zeta.md']);
      const doc = renderPrivacyDoc(dir);
      const at = (text: string) => doc.indexOf(text);
      assert.ok(at('## Data-subject requests') < at('## Erasure') && at('## Erasure') < at('## Alpha notes') && at('## Alpha notes') < at('## Zeta notes'));
      assert.ok(at('## Zeta notes') < at('## Data map') && at('## Data map') < at('## Record of processing'));
      assert.ok(doc.includes('- [Data-subject requests](#data-subject-requests)') && doc.includes('- [Zeta notes](#zeta-notes)'));
      assert.ok(doc.includes('### A section') && doc.includes('```sh\n# not a heading\n```'), 'headings move one level down, code blocks do not');
      assert.deepEqual(doc.match(/^# [A-Z].*$/gm), ['# Privacy'], 'one title');
      assert.ok(doc.includes('| `users` | `email` | `user.contact.email` |'), 'the data map is in it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
