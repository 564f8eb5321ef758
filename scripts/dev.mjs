#!/usr/bin/env node
// `npm run dev`: the renderer from vite's dev server (hot module replacement), the Electron
// bundles rebuilt by esbuild on every save, and Electron restarted whenever main, preload or the
// trainer entry changed. The main process learns the dev server's URL from
// WORKBENCH_DEV_SERVER_URL; its CSP and IPC sender check then allow that origin too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { context } from 'esbuild';
import { createServer } from 'vite';
import { ROOT, electronBuildOptions } from './build-electron.mjs';

const require = createRequire(import.meta.url);
const say = (line) => process.stderr.write(`[dev] ${line}\n`);

let binary = null;
try {
  binary = require('electron');
} catch {
  binary = null;
}
if (typeof binary !== 'string' || !existsSync(binary)) {
  say("Electron's binary is not installed; run `node node_modules/electron/install.js` (needs internet), or use `npm start -- --browser`.");
  process.exit(1);
}

const vite = await createServer({ configFile: join(ROOT, 'vite.config.ts') });
await vite.listen();
const devUrl = vite.resolvedUrls?.local[0];
if (!devUrl) throw new Error('The vite dev server did not report a local URL.');
say(`renderer: ${devUrl}`);

let electron = null;
let restarting = false;
function startElectron() {
  const env = { ...process.env, WORKBENCH_DEV_SERVER_URL: devUrl };
  delete env.ELECTRON_RUN_AS_NODE;
  electron = spawn(binary, [ROOT], { cwd: ROOT, stdio: 'inherit', env });
  electron.on('exit', () => {
    // Closing the window ends the dev session; a restart we asked for does not.
    if (!restarting) void shutdown(0);
  });
}

let timer;
function restartSoon() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (!electron) return startElectron();
    restarting = true;
    electron.once('exit', () => {
      restarting = false;
      startElectron();
    });
    electron.kill('SIGTERM');
  }, 200);
}

const restartPlugin = {
  name: 'restart-electron',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length) say(`build failed (${result.errors.length} errors); keeping the running app`);
      else restartSoon();
    });
  },
};
const contexts = await Promise.all(electronBuildOptions({ dev: true }).map((o) => context({ ...o, plugins: [...o.plugins, restartPlugin] })));
await Promise.all(contexts.map((c) => c.watch()));

async function shutdown(code) {
  clearTimeout(timer);
  await Promise.all(contexts.map((c) => c.dispose()));
  await vite.close();
  if (electron && electron.exitCode === null) electron.kill('SIGTERM');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
