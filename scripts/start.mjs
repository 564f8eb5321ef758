#!/usr/bin/env node
// `npm start`: build what is out of date (renderer + Electron bundles) and launch the desktop app.
//
// When Electron's binary is missing (an offline install, or install scripts blocked, as this
// project's allowScripts does by default), it runs Electron's own installer once, bounded in time.
// If that fails too, it prints ONE line saying why and how to fix it, and opens the same UI in
// browser mode (`densenet-workbench serve`) instead: the built-in datasets are always there.
//
//   npm start                 desktop app, or browser mode as a fallback
//   npm start -- --browser    browser mode straight away
//   npm start -- --root DIR   the dataset folders the UI may browse (repeatable; default: your
//                             home folder), passed on to the app or to serve
//
// Environment: WORKBENCH_ELECTRON_INSTALL_TIMEOUT_MS (default 120000) bounds the installer;
// BROWSER=none stops it opening a browser in browser mode.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, buildElectron } from './build-electron.mjs';
import { ensureRendererBuild } from '../main/server/renderer-build.mjs';

const require = createRequire(import.meta.url);
const say = (line) => process.stderr.write(`${line}\n`);

/**
 * `--root DIR` and `--root=DIR`, repeatable, in order, as absolute paths. npm runs this script from
 * the checkout, so a relative folder is taken from where `npm start` was typed (INIT_CWD).
 */
function rootsFromArgs(args) {
  const roots = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--root') {
      const dir = args[i + 1];
      if (dir === undefined || dir.startsWith('--')) throw new Error('--root needs a folder, e.g. npm start -- --root ~/datasets.');
      roots.push(dir);
      i++;
    } else if (arg.startsWith('--root=')) roots.push(arg.slice('--root='.length));
  }
  return roots.map((r) => resolve(process.env.INIT_CWD ?? process.cwd(), r));
}

/** The Electron executable if it is installed, else null (require('electron') throws or names a missing file). */
function electronBinary() {
  try {
    const resolved = require.resolve('electron');
    delete require.cache[resolved];
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** Runs node_modules/electron/install.js once; resolves to null on success, else the reason in a few words. */
function runElectronInstaller(timeoutMs) {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    return Promise.resolve('ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it was not downloaded');
  }
  let installer;
  try {
    installer = join(require.resolve('electron/package.json'), '..', 'install.js');
  } catch {
    return Promise.resolve('the electron package is not installed');
  }
  say("Electron's binary is missing; running Electron's installer (node node_modules/electron/install.js)…");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [installer], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`the download did not finish within ${Math.round(timeoutMs / 1000)} s`);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : installerReason(stderr, code));
    });
  });
}

/** The informative part of the installer's stack trace, e.g. "getaddrinfo ENOTFOUND github.com". */
function installerReason(stderr, code) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at '));
  const first = lines[0] ?? `the installer exited with code ${code}`;
  return first.replace(/^(RequestError|HTTPError|Error):\s*/, '').slice(0, 200);
}

/** The renderer build, rebuilt by the same rule as `densenet-workbench serve` (main/server/renderer-build.mjs). */
function buildRendererIfStale() {
  return ensureRendererBuild(undefined, say);
}

function forwardSignals(child) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function launchElectron(binary, roots) {
  await Promise.all([buildRendererIfStale(), buildElectron()]);
  const env = { ...process.env };
  // Set by some shells and tools; it would make Electron behave as plain Node.
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(binary, [ROOT, ...roots.flatMap((r) => ['--root', r])], { cwd: ROOT, stdio: 'inherit', env });
  forwardSignals(child);
}

/** Opens `url` in the user's browser when there is a screen to show it on; never fails. */
function openBrowser(url) {
  if (process.env.BROWSER === 'none') return;
  const platform = process.platform;
  const hasDisplay = platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (!hasDisplay) return;
  const [command, args] =
    platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the URL is printed above.
  }
}

async function launchBrowserMode(roots) {
  await buildRendererIfStale();
  // The --root folders, else the home folder, as the desktop app's folder picker would start
  // there; the built-in datasets need none. start.mjs opens the browser itself (below), hence --no-open.
  const args = ['serve', '--no-open', ...(roots.length ? roots : [homedir()]).flatMap((r) => ['--root', r])];
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'densenet-workbench.mjs'), ...args], {
    cwd: ROOT,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  let buffered = '';
  let opened = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (opened) return;
    buffered += chunk;
    const url = /https?:\/\/\S+/.exec(buffered)?.[0];
    if (url) {
      opened = true;
      openBrowser(url);
    }
  });
  forwardSignals(child);
}

async function main() {
  const roots = rootsFromArgs(process.argv.slice(2));
  if (process.argv.includes('--browser')) return launchBrowserMode(roots);
  let binary = electronBinary();
  if (!binary) {
    const timeoutMs = Number(process.env.WORKBENCH_ELECTRON_INSTALL_TIMEOUT_MS) || 120_000;
    const failure = await runElectronInstaller(timeoutMs);
    binary = electronBinary();
    if (!binary) {
      const why = failure ?? 'the installer finished but no binary appeared';
      say(
        `Electron's binary could not be downloaded (${why}); opening the workbench in browser mode instead. ` +
          'To get the desktop app: check your network (or set ELECTRON_MIRROR), then run `node node_modules/electron/install.js` and `npm start` again.',
      );
      return launchBrowserMode(roots);
    }
  }
  return launchElectron(binary, roots);
}

main().catch((err) => {
  say(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
