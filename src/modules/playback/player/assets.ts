// The player's browser files: its own modules, styles and dictionaries
// (assets/), the web app's icon, and hls.js from the installed package — every byte from
// Haven's origin, none from a CDN. Read once at start-up; the pages link to
// them under a version path (/player/assets/v/<hash>/…), so they can be
// cached for a year and a new release is fetched at once. Relative imports
// between the modules stay inside that path.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PlayerAsset { body: Buffer; contentType: string; etag: string }

export interface PlayerAssets {
  /** Changes whenever any file does. */
  version: string;
  /** URL prefix the pages use: /player/assets/v/<version>/ */
  base: string;
  get(file: string): PlayerAsset | undefined;
  /** A dictionary of the player's strings (assets/i18n/<lang>.json). */
  strings(lang: string): Record<string, string>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
/** The web app's icon, so a player page (which browsers ask for an icon too) has one. */
const ICON_FILE = fileURLToPath(new URL('../../../../web/public/favicon.svg', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** hls.js's minified ES module, without its source-map comment (the map is not served). */
function readHlsJs(): Buffer {
  const require = createRequire(import.meta.url);
  const file = join(require.resolve('hls.js/package.json').replace(/package\.json$/, ''), 'dist', 'hls.min.mjs');
  return Buffer.from(readFileSync(file, 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}

export function loadPlayerAssets(): PlayerAssets {
  const files = new Map<string, PlayerAsset>();
  const add = (name: string, body: Buffer) => {
    const type = TYPES[extname(name)];
    if (!type) return;
    files.set(name, { body, contentType: type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  };
  for (const file of walk(ASSETS_DIR)) add(relative(ASSETS_DIR, file).split(sep).join('/'), readFileSync(file));
  add('hls.mjs', readHlsJs());
  add('favicon.svg', readFileSync(ICON_FILE));
  const all = createHash('sha256');
  for (const [name, asset] of [...files].sort(([a], [b]) => a.localeCompare(b))) all.update(name).update(asset.etag);
  const version = all.digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 12);
  const dictionaries = new Map<string, Record<string, string>>();
  for (const [name, asset] of files) {
    const m = /^i18n\/([a-z]{2})\.json$/.exec(name);
    if (m) dictionaries.set(m[1]!, JSON.parse(asset.body.toString('utf8')) as Record<string, string>);
  }
  return {
    version,
    base: `/player/assets/v/${version}/`,
    get: (file) => files.get(file),
    strings: (lang) => dictionaries.get(lang) ?? dictionaries.get('en') ?? {},
  };
}
