// Initial JavaScript per route of the web app (issue 8), gzipped: what a
// browser must fetch and parse before a route's page can render. That is
// index.html's module script with its modulepreloads (the shell), plus the
// route's lazy page chunk and every chunk it imports statically. The
// route → page mapping comes from the features' route tables
// (web/src/features/*/index.ts); the page → chunks mapping from Vite's
// manifest. The player pages (/watch, /embed) are served by the playback
// module and counted the same way from their script tags. Target: ≤ 250 KB
// per route.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from './lib/haven.ts';
import { runBenchmark, track } from './lib/processes.ts';
import { emitResult, type Metric, type Target } from './lib/result.ts';

const TARGET_KB = 250;

interface ManifestChunk { file: string; imports?: string[]; isEntry?: boolean; isDynamicEntry?: boolean; src?: string }
type Manifest = Record<string, ManifestChunk>;

/** `{ path: 'library', page: () => import('./pages/LibraryPage.tsx') }` in each feature's index.ts. */
function routeTable(): { path: string; module: string }[] {
  const featuresDir = join(repoRoot, 'web/src/features');
  const routes: { path: string; module: string }[] = [];
  for (const feature of readdirSync(featuresDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    let source: string;
    try { source = readFileSync(join(featuresDir, feature.name, 'index.ts'), 'utf8'); } catch { continue; }
    for (const m of source.matchAll(/path:\s*'([^']*)'\s*,\s*page:\s*\(\)\s*=>\s*import\('\.\/([^']+)'\)/g)) {
      routes.push({ path: `/${m[1]}`, module: `src/features/${feature.name}/${m[2]}` });
    }
  }
  if (routes.length === 0) throw new Error('no routes found in web/src/features/*/index.ts');
  return routes;
}

/** The chunk files a manifest entry needs: itself and its static imports, transitively. */
function closure(manifest: Manifest, key: string, into = new Set<string>()): Set<string> {
  const chunk = manifest[key];
  if (!chunk) throw new Error(`${key} is not in the manifest`);
  if (into.has(chunk.file)) return into;
  into.add(chunk.file);
  for (const imported of chunk.imports ?? []) closure(manifest, imported, into);
  return into;
}

await runBenchmark(async () => {
  const dist = mkdtempSync(join(tmpdir(), 'haven-web-bundle-'));
  track({ stop: async () => rmSync(dist, { recursive: true, force: true }) });
  process.stdout.write('building web/ into a temp dir…\n');
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--outDir', dist, '--emptyOutDir', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit' });
  const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8')) as Manifest;
  const gz = new Map<string, { raw: number; gzip: number }>();
  const size = (dir: string, file: string) => {
    const key = `${dir}:${file}`;
    let s = gz.get(key);
    if (!s) {
      const bytes = readFileSync(join(dir, file));
      s = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
      gz.set(key, s);
    }
    return s;
  };
  const total = (dir: string, files: Iterable<string>) => [...files].reduce((a, f) => ({ raw: a.raw + size(dir, f).raw, gzip: a.gzip + size(dir, f).gzip }), { raw: 0, gzip: 0 });

  // The shell: index.html's module script and modulepreloads (= the manifest's entry closure).
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const fromHtml = new Set([...html.matchAll(/<script type="module"[^>]*src="\/([^"]+\.js)"/g), ...html.matchAll(/<link rel="modulepreload"[^>]*href="\/([^"]+\.js)"/g)].map((m) => m[1]!));
  const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!;
  const entryFiles = closure(manifest, entryKey);
  for (const f of entryFiles) if (!fromHtml.has(f)) throw new Error(`${f} is imported by the entry but not preloaded by index.html`);
  const shell = total(dist, fromHtml);
  process.stdout.write(`shell (index.html script + modulepreloads): ${fromHtml.size} files, ${(shell.gzip / 1024).toFixed(1)} KB gzipped (${(shell.raw / 1024).toFixed(1)} KB raw)\n`);

  const rows: { route: string; gzip: number; raw: number; files: number }[] = [];
  for (const route of routeTable()) {
    const files = new Set(fromHtml);
    closure(manifest, route.module, files);
    const t = total(dist, files);
    rows.push({ route: route.path, gzip: t.gzip, raw: t.raw, files: files.size });
  }

  // The player pages (served by the playback module from its own assets).
  const playerAssets = join(repoRoot, 'src/modules/playback/player/assets');
  const hlsDir = join(repoRoot, 'node_modules/hls.js/dist');
  const playerFiles = readdirSync(playerAssets).filter((f) => f.endsWith('.js'));
  const player = total(playerAssets, playerFiles);
  const hls = size(hlsDir, 'hls.min.mjs'); // what src/modules/playback/player/assets.ts serves as hls.mjs
  rows.push({ route: '/watch/:id and /embed/:id (player)', gzip: player.gzip + hls.gzip, raw: player.raw + hls.raw, files: playerFiles.length + 1 });

  for (const r of rows) process.stdout.write(`  ${r.route.padEnd(36)} ${(r.gzip / 1024).toFixed(1).padStart(6)} KB gzipped  (${(r.raw / 1024).toFixed(1)} KB raw, ${r.files} files)\n`);
  const worst = rows.reduce((a, b) => (b.gzip > a.gzip ? b : a));
  const metrics: Metric[] = [
    { label: 'shell (index.html + modulepreloads), gzipped', value: shell.gzip / 1024, unit: 'KB' },
    ...rows.map((r) => ({ label: `${r.route}, gzipped`, value: r.gzip / 1024, unit: 'KB' })),
  ];
  const targets: Target[] = [{
    label: `largest initial route JavaScript (${worst.route}), gzipped, of ${rows.length} routes`,
    target: `≤ ${TARGET_KB} KB`,
    actual: `${(worst.gzip / 1024).toFixed(1)} KB`,
    met: worst.gzip / 1024 <= TARGET_KB,
    ratio: worst.gzip / 1024 / TARGET_KB,
  }];
  emitResult({ name: 'Web app initial JavaScript per route', issue: 'web console (issue 8)', metrics, targets });
});
