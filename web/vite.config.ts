/** The shop's front end: `vite build web` → web/dist, served by the api at `/`. Preact through the automatic JSX runtime. */
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', sourcemap: false, chunkSizeWarningLimit: 200 },
  // `vite` (dev server) proxies the api, so the page can be worked on with hot reload against `npm start`.
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
