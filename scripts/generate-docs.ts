// npm run docs: writes docs/configuration.md from the configuration schema in
// src/config.ts, so the reference can never disagree with what Haven accepts.
// test/docs.test.ts fails when the checked-in file differs from this output.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Config, ConfigError, configSchema, envNames, loadConfig, productionProblem } from '../src/config.ts';
import { secretNames } from '../src/platform/crypto/secrets.ts';
import { dataMapRows } from '../src/modules/privacy/records/datamap-view.ts';
import { activitiesFrom } from '../src/modules/privacy/records/record.ts';
import { subjectRoles } from '../src/modules/privacy/records/vocabulary.ts';

export const configurationDocPath = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
export const privacyDocPath = fileURLToPath(new URL('../docs/privacy.md', import.meta.url));
export const privacyChaptersDir = fileURLToPath(new URL('../docs/privacy/', import.meta.url));
/** The hand-written chapters of docs/privacy.md in reading order; any other chapter follows alphabetically. */
export const privacyChapterOrder = ['dsar.md', 'export.md', 'erasure.md', 'trash.md', 'residency.md', 'offboarding.md'];

/** The subset of JSON Schema that z.toJSONSchema produces for this schema. */
interface JsonSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  oneOf?: JsonSchema[];
}

/** A working multi-region configuration; test/docs.test.ts proves Haven accepts it. */
export const regionsExample = {
  defaultRegion: 'eu',
  regions: {
    eu: {
      jurisdiction: 'EU',
      storage: { driver: 'fs', path: '/var/lib/haven/storage/eu' },
    },
    ch: {
      jurisdiction: 'CH',
      storage: {
        driver: 's3',
        bucket: 'haven-media-ch',
        endpoint: 'https://s3.ch.example.net',
        region: 'ch-zurich-1',
        prefix: 'haven/',
      },
    },
  },
};

// Output types: what Haven works with after parsing (a boolean, not the string an environment variable holds).
const schema = z.toJSONSchema(configSchema, { io: 'output' }) as JsonSchema;
const keys = Object.keys(schema.properties ?? {}) as (keyof Config)[];

const escapeCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('*', '\\*');
const code = (text: string) => `\`${text}\``;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

function describeType(node: JsonSchema): string {
  if (node.enum) return `one of ${node.enum.map((v) => code(String(v))).join(', ')}`;
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (node.oneOf) return node.oneOf.map(describeType).join(' or ');
  switch (node.type) {
    case 'integer':
    case 'number': {
      const range = node.minimum !== undefined && node.maximum !== undefined ? ` ${node.minimum}–${node.maximum}` : '';
      return `${node.type}${range}`;
    }
    case 'string':
      if (node.format === 'uri') return 'URL';
      if (node.pattern) return `string matching ${code(node.pattern)}`;
      return node.minLength && node.minLength > 1 ? `string, at least ${node.minLength} characters` : 'string';
    case 'object':
      return 'object';
    default:
      return node.type ?? 'any';
  }
}

function describeDefault(node: JsonSchema): string {
  if (node.default === undefined) return '—';
  return code(typeof node.default === 'string' ? node.default || '""' : JSON.stringify(node.default));
}

function settingsTable(): string {
  const rows = keys.map((key) => {
    const node = schema.properties![key]!;
    const type = node.type === 'object' ? `${describeType(node)}, JSON in the environment (see [Regions](#regions))` : describeType(node);
    return [code(key), envNames[key] ? code(envNames[key]) : '—', type, describeDefault(node), escapeCell(node.description ?? '')];
  });
  return table(['key', 'environment variable', 'type', 'default', 'description'], rows);
}

function fieldsTable(node: JsonSchema, prefix = ''): string {
  // The output schema lists defaulted fields as required; a reader may leave them out.
  const required = new Set(node.required ?? []);
  const rows = Object.entries(node.properties ?? {}).map(([name, field]) => [
    code(prefix + name),
    describeType(field),
    required.has(name) && field.default === undefined ? 'yes' : 'no',
    describeDefault(field),
    escapeCell(field.description ?? '—'),
  ]);
  return table(['field', 'type', 'required', 'default', 'description'], rows);
}

/** The exact line Haven prints for a bad value, produced by the real loader. */
function badValueExample(): string {
  try {
    loadConfig({ HAVEN_CONFIG: '', HAVEN_PORT: '70000' });
  } catch (err) {
    if (err instanceof ConfigError) return `haven: ${err.message}`;
    throw err;
  }
  throw new Error('loadConfig accepted HAVEN_PORT=70000');
}

/**
 * Each production refusal, worded as Haven words it: a configuration that is
 * safe in every other respect is spoiled in one way at a time.
 */
function productionRefusals(): string[] {
  const key = Buffer.alloc(32, 1).toString('base64');
  const safe = {
    env: 'production', masterKey: key, signingKey: key, pseudonymKey: key,
    tlsCertFile: '/etc/haven/tls.crt', tlsKeyFile: '/etc/haven/tls.key',
    smtpUrl: 'smtps://mail.example.net', databaseUrl: 'postgres://haven@db.example.net/haven',
  };
  const spoiled: [Record<string, unknown>, string[]][] = [
    [safe, [...secretNames]],
    [{ ...safe, tlsCertFile: undefined, tlsKeyFile: undefined }, []],
    [{ ...safe, smtpUrl: undefined }, []],
    [{ ...safe, databaseUrl: undefined }, []],
  ];
  return spoiled
    .map(([raw, generated]) => productionProblem(configSchema.parse(raw), generated))
    .filter((problem): problem is string => problem !== undefined);
}

function regionsSection(): string {
  const regions = schema.properties!.regions!;
  const region = regions.additionalProperties as JsonSchema;
  const storage = region.properties!.storage!;
  const drivers = (storage.oneOf ?? []).map((location) => {
    const driver = String(location.properties!.driver!.const);
    return `Storage with \`"driver": "${driver}"\`:\n\n${fieldsTable(location, 'storage.')}`;
  });
  return [
    '## Regions',
    escapeCell(regions.description ?? '') + '. Every tenant lives in one region (`defaultRegion` unless it was created with `--region`); ' +
      'its media is stored only in that region\'s storage location, and `haven worker --region R` runs only the jobs of region R. ' +
      `Region names match ${code(regions.propertyNames?.pattern ?? '')}. Without \`regions\`, Haven has one region:`,
    '```json\n' + JSON.stringify(regions.default, null, 2) + '\n```',
    'Each region is an object with these fields:',
    fieldsTable({ ...region, properties: { jurisdiction: region.properties!.jurisdiction! } }),
    ...drivers,
    'For S3 storage, `accessKeyId` and `secretAccessKey` are given together or not at all; without them the AWS SDK\'s ' +
      'default credential chain applies (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` in the environment, or an instance role), ' +
      'which keeps keys out of the configuration file. `prefix` is put before every object key, so several installations or ' +
      'regions can share a bucket.',
    'An example `haven.config.json` with an EU region on local disk and a Swiss region in an S3-compatible bucket:',
    '```json\n' + JSON.stringify(regionsExample, null, 2) + '\n```',
    'The same regions from the environment:',
    '```sh\n' +
      `HAVEN_DEFAULT_REGION=${regionsExample.defaultRegion}\n` +
      `HAVEN_REGIONS='${JSON.stringify(regionsExample.regions)}'\n` +
      '```',
  ].join('\n\n');
}

export function renderConfigurationDoc(): string {
  const secretFiles = secretNames.map((name) => `\`${name}\` (\`${envNames[name]}\`)`).join(', ');
  const sections = [
    '# Configuration',
    '<!-- Generated from the schema in src/config.ts by `npm run docs`; edit the schema, not this file. -->',
    'Every setting Haven reads is listed below. Most installations need none of them: `npm start` runs with the defaults.',
    '## Where settings come from',
    'Later sources win:\n\n' +
      '1. the defaults in the table below;\n' +
      '2. a JSON file: `haven.config.json` in the working directory, or the file `HAVEN_CONFIG` names (which must then exist). ' +
      'It holds an object whose names are the keys in the table;\n' +
      '3. environment variables, named in the table. An empty variable counts as unset. `HAVEN_REGIONS` holds JSON;\n' +
      '4. command-line options where a command has them: `haven serve --host H --port P`, `haven worker --region R`.',
    'A relative `dataDir` is resolved against the working directory. Booleans are written `true` or `false` ' +
      '(`1`/`0`, `yes`/`no` and `on`/`off` work as well).',
    '## Bad values',
    'Haven checks the whole configuration before it starts anything. A bad value stops it with exit code 2 and one line ' +
      'that names the key, where it came from and what is wrong, for example:',
    '```\n' + badValueExample() + '\n```',
    '## Secrets',
    `${secretFiles} may be left unset: Haven then generates each once into \`<dataDir>/secrets/\` (files readable by ` +
      'the owner only) and reuses it on every start, which suits one machine. Back these files up with the data dir: ' +
      'without the master key, encrypted media cannot be read. Several nodes of one installation must be given the same ' +
      'keys through their configuration; the password of the embedded PostgreSQL is generated into the same directory.',
    '## Production',
    'With `env` set to `production` (`HAVEN_ENV=production`), Haven refuses to start, with exit code 2, when a setting is ' +
      'only safe on a laptop. The refusals, as Haven prints them:',
    productionRefusals().map((problem) => `- ${escapeCell(problem)}`).join('\n'),
    '## Settings',
    settingsTable(),
    regionsSection(),
  ];
  return `${sections.join('\n\n')}\n`;
}

/** The chapter files of docs/privacy/, in the order docs/privacy.md includes them. */
export function privacyChapters(dir = privacyChaptersDir): string[] {
  const present = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.md')) : [];
  const known = privacyChapterOrder.filter((f) => present.includes(f));
  return [...known, ...present.filter((f) => !known.includes(f)).sort()];
}

const slug = (heading: string) => heading.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ /g, '-');

/** A chapter one heading level down (its title becomes a section of privacy.md); code blocks are left alone. */
function demoted(text: string): { title: string; body: string } {
  let fenced = false;
  let title = '';
  const lines = text.trim().split('\n').map((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced || !/^#{1,5} /.test(line)) return line;
    if (!title && line.startsWith('# ')) title = line.slice(2).trim();
    return `#${line}`;
  });
  return { title, body: lines.join('\n') };
}

function dataMapSection(): string {
  const rows = dataMapRows();
  const modules = [...new Set(rows.map((r) => r.module))];
  const roles = Object.entries(subjectRoles).map(([role, r]) => `- \`${role}\` (${r.tables.join(', ')}): ${escapeCell(r.meaning)}`).join('\n');
  return [
    '## Data map',
    'Every column that can hold personal data, declared in its module\'s `datamap.ts` (`haven privacy datamap` prints the same). ' +
      'The subject is the column that links a row to its data subject: a column of the row, `a / b` (either), ' +
      '`table.column (through col)` (named in another table), or one of these roles:',
    roles,
    ...modules.map((module) => `### ${module}\n\n` + table(
      ['table', 'column', 'category', 'subject', 'purpose', 'legal basis', 'retention', 'erasure'],
      rows.filter((r) => r.module === module).map((r) => [
        code(r.table), code(r.column), code(r.category), escapeCell(r.subject), escapeCell(r.purpose), escapeCell(r.legalBasis), escapeCell(r.retention),
        r.erasure === 'retain' ? `retain: ${escapeCell(r.retainBasis ?? '')}` : r.erasure,
      ]),
    )),
  ].join('\n\n');
}

function recordSection(): string {
  const { activities, dataCategories, dataSubjects, rules } = activitiesFrom(dataMapRows());
  return [
    '## Record of processing',
    'Derived from the data map above. The record of an installation adds what its configuration says — the operator ' +
      '(`controller`), the subprocessors and the transfers outside each jurisdiction with their bases, the retention ' +
      'settings in force and the security measures — and is printed by `haven privacy records [--tenant T]` and served ' +
      'at `GET /api/v1/privacy/records`.',
    '### Purposes and legal bases',
    table(['purpose', 'legal basis', 'data categories', 'data subjects'], activities.map((a) => [
      escapeCell(a.purpose), escapeCell(a.legalBases.join('; ')), a.dataCategories.map(code).join(', '), a.dataSubjects.join(', '),
    ])),
    '### Categories of personal data',
    table(['category', 'what it is'], dataCategories.map((c) => [code(c.category), escapeCell(c.description)])),
    '### Categories of data subjects',
    table(['kind', 'who'], dataSubjects.map((s) => [s.kind, escapeCell(s.description)])),
    '### Retention',
    table(['table', 'retention'], rules.map((r) => [code(r.table), escapeCell(r.rule)])),
  ].join('\n\n');
}

export function renderPrivacyDoc(dir = privacyChaptersDir): string {
  const chapters = privacyChapters(dir).map((file) => ({ file, ...demoted(readFileSync(`${dir}/${file}`, 'utf8')) }));
  const titled = chapters.map((c) => ({ ...c, title: c.title || c.file.replace(/\.md$/, '') }));
  const toc = [...titled.map((c) => c.title), 'Data map', 'Record of processing'].map((t) => `- [${t}](#${slug(t)})`).join('\n');
  const sections = [
    '# Privacy',
    '<!-- Generated by `npm run docs` from docs/privacy/*.md and the data map (every module\'s datamap.ts); edit those, not this file. -->',
    toc,
    ...titled.map((c) => (c.body.startsWith('## ') ? c.body : `## ${c.title}\n\n${c.body}`)),
    dataMapSection(),
    recordSection(),
  ];
  return `${sections.join('\n\n')}\n`;
}

if (import.meta.main) {
  writeFileSync(configurationDocPath, renderConfigurationDoc());
  process.stdout.write(`wrote ${configurationDocPath}\n`);
  writeFileSync(privacyDocPath, renderPrivacyDoc());
  process.stdout.write(`wrote ${privacyDocPath}\n`);
}
