#!/usr/bin/env node
// Bundles the Electron main process, its preload and the trainer entry into dist-electron/ with
// esbuild (it comes with vite). The CLI runs TypeScript through tsx, but Electron loads plain
// JavaScript, and a sandboxed preload must be one CommonJS file that requires nothing but
// 'electron' (Electron security checklist #4).
//
//   node scripts/build-electron.mjs           one build
//   import { electronBuildOptions } ...       used by scripts/start.mjs and scripts/dev.mjs
import { build } from 'esbuild';
import { copyFileSync, cpSync, existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, extname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = join(ROOT, 'dist-electron');

// Electron 38 embeds Node 22 and Chromium 140.
const NODE_TARGET = 'node22';

/**
 * Files the engine loads from beside its own module (import.meta.url): wasm kernels, onnx.proto,
 * and the self-contained worker script of the wasm kernels' helper thread (pool-worker.mjs).
 */
const SIBLING_ASSETS = new Set(['.wasm', '.proto', '.mjs']);
/**
 * Folders the engine finds beside its own module: the PyTorch engine's Python package, which the
 * Python trainer imports from there (asarUnpack in electron-builder.yml puts it on disk).
 */
const SIBLING_FOLDERS = ['densenet_torch'];

/**
 * Copies the sibling assets of every bundled source file next to the output that contains it, so
 * `new URL('./kernels.wasm', import.meta.url)` still finds its file once bundled.
 */
const siblingAssets = {
  name: 'sibling-assets',
  setup(b) {
    b.onEnd((result) => {
      if (!result.metafile) return;
      for (const [out, info] of Object.entries(result.metafile.outputs)) {
        const dirs = new Set(Object.keys(info.inputs).filter((i) => !i.includes('node_modules')).map((i) => dirname(join(ROOT, i))));
        for (const dir of dirs) {
          for (const name of readdirSync(dir)) {
            if (SIBLING_ASSETS.has(extname(name))) copyFileSync(join(dir, name), join(ROOT, dirname(out), name));
          }
          for (const folder of SIBLING_FOLDERS) {
            if (existsSync(join(dir, folder))) {
              cpSync(join(dir, folder), join(ROOT, dirname(out), folder), { recursive: true, filter: (src) => !src.includes('__pycache__') });
            }
          }
        }
      }
    });
  },
};

/** The three bundles. Paths mirror the sources so package.json "main" reads naturally. */
export function electronBuildOptions({ dev = false } = {}) {
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    sourcemap: dev ? 'inline' : false,
    logLevel: 'warning',
    metafile: true,
    plugins: [siblingAssets],
  };
  return [
    {
      ...common,
      entryPoints: { 'main/electron/main': 'main/electron/main.ts' },
      outdir: OUT_DIR,
      format: 'esm',
      // The host imports the engine lazily (scans, exports, backend info); splitting keeps those
      // dynamic imports lazy, so the main process does not load tfjs before it needs it.
      splitting: true,
      chunkNames: 'main/electron/chunks/[name]-[hash]',
      // Dependencies load from node_modules at run time (inside app.asar once packaged): native
      // modules such as sharp and tfjs-node cannot be bundled, and the rest need not be.
      packages: 'external',
      external: ['electron'],
    },
    {
      ...common,
      entryPoints: { 'main/electron/preload': 'main/electron/preload.ts' },
      outdir: OUT_DIR,
      format: 'cjs',
      outExtension: { '.js': '.cjs' },
      minify: !dev,
      // Everything but electron is bundled: a sandboxed preload cannot require from node_modules.
      external: ['electron'],
    },
    {
      ...common,
      // The same entry the CLI forks with tsx; here it runs in Electron's utilityProcess.
      entryPoints: { 'main/trainer/entry': 'main/trainer/entry.ts' },
      outdir: OUT_DIR,
      format: 'esm',
      packages: 'external',
      external: ['electron'],
    },
  ];
}

export async function buildElectron(opts = {}) {
  await Promise.all(electronBuildOptions(opts).map((o) => build(o)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  process.stdout.write(`Electron bundles written to ${OUT_DIR}\n`);
}
