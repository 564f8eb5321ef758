import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

/**
 * The renderer build: renderer/ -> dist/renderer, loaded by Electron (file://) and served by
 * `densenet-workbench serve`. `base: './'` keeps asset URLs relative so both hosts work.
 */
export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // Keep the bundle CSP-friendly: no inline scripts, no eval (chart.js and Vue's runtime need neither).
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
  },
  server: { port: 5173, strictPort: false },
});
