// Serves the web app (web/dist, built by Vite) at `/`: files as they are,
// hashed assets cached for a year, and index.html for any other GET that is
// not one of the server's own namespaces (the SPA's routes). The strict CSP
// of security.ts applies unchanged: the build carries no inline script.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { HttpServer } from './server.ts';

export const defaultWebDistDir = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths the SPA never answers: the API, playback, storage and operations endpoints keep their own 404s. */
export const serverPrefixes = ['/api/', '/play/', '/watch/', '/embed/', '/player/', '/storage/', '/healthz', '/readyz', '/metrics'];

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
};

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Haven: web app not built</title></head>
<body><h1>The web app has not been built</h1>
<p>Haven's API is running, but the browser app in <code>web/dist</code> is missing. Build it with <code>npm run web:build</code> (or start Haven with <code>npm start</code>, which builds it) and reload this page.</p>
</body></html>
`;

export interface WebAppOptions { log: Logger; distDir?: string }

export function registerWebApp(app: HttpServer, opts: WebAppOptions): void {
  const dist = normalize(opts.distDir ?? defaultWebDistDir);
  const root = dist.endsWith(sep) ? dist : dist + sep;
  let warned = false;

  async function file(path: string): Promise<{ body: Buffer; mtime: Date } | undefined> {
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      return { body: await readFile(path), mtime: info.mtime };
    } catch {
      return undefined;
    }
  }

  // Static files need no session: the cookie is not read (no database round trip per asset), and the
  // consent and enrolment gates do not apply — the app itself must load to show those gates.
  const config = { rateLimit: false, tokenAuthenticated: true, consentExempt: true, enrollmentExempt: true } as Record<string, unknown>;
  app.get('/*', { schema: { hide: true }, config }, async (req, reply) => {
    const url = req.url.split('?')[0]!;
    if (serverPrefixes.some((p) => url === p.replace(/\/$/, '') || url.startsWith(p))) {
      return reply.status(404).send({ error: { code: 'route_not_found', message: `No route GET ${url}.` } });
    }
    let path: string;
    try {
      path = decodeURIComponent(url);
    } catch {
      return reply.status(400).send({ error: { code: 'bad_url', message: 'The request URL is malformed.' } });
    }
    const target = normalize(join(root, path));
    const inside = target.startsWith(root) && !path.includes('\0') && !/\/\./.test(path);
    const found = inside && path !== '/' && path !== '/index.html' ? await file(target) : undefined;
    if (found) {
      const immutable = path.startsWith('/assets/');
      const etag = `W/"${found.body.length.toString(16)}-${found.mtime.getTime().toString(16)}"`;
      reply
        .type(contentTypes[extname(target).toLowerCase()] ?? 'application/octet-stream')
        .header('etag', etag)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
      if (req.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.send(found.body);
    }
    // A missing hashed asset is a 404 (a stale page then offers Retry), not the app's HTML.
    if (path.startsWith('/assets/') || extname(path) !== '' || /\/\./.test(path)) {
      return reply.status(404).send({ error: { code: 'not_found', message: `No file ${url}.` } });
    }
    const index = await file(join(root, 'index.html'));
    reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
    if (!index) {
      if (!warned) {
        warned = true;
        opts.log.warn(`web app not built: ${root}index.html is missing; run "npm run web:build"`);
      }
      return reply.status(503).send(notBuiltPage);
    }
    return reply.send(index.body);
  });
}
