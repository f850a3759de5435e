// Builds the SPA into web/dist. Haven serves it with a strict CSP
// (script-src 'self', style-src 'self'), so the output must carry no inline
// script or style: the module-preload polyfill (an inline script) is off.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // dist/.vite/manifest.json: which chunks each route loads (bench/web-bundle.bench.ts reads it).
    manifest: true,
    modulePreload: { polyfill: false },
    // Keep CSS as files (style-src 'self'); never inline assets as data: scripts.
    cssCodeSplit: true,
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        // React and the router change rarely: their own long-cached chunk.
        // Pages are lazy (features' `page: () => import(...)`), so each is its own chunk.
        manualChunks(id: string) {
          if (/node_modules\/(react|react-dom|scheduler|react-router)\//.test(id)) return 'vendor-react';
          if (id.includes('node_modules/openapi-fetch/')) return 'vendor-api';
          return undefined;
        },
      },
    },
  },
  server: { strictPort: true },
});
