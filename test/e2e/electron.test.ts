import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import type { HostEvent, WorkbenchApi } from '../../shared/api';
import { getPreset } from '../../shared/presets';

// Smoke test of the real desktop app through Playwright's Electron driver: it opens the window,
// checks the page is locked down, and starts a tiny demo run through window.workbench (preload ->
// IPC router -> WorkbenchService -> trainer in a utilityProcess) until steps arrive.
// Electron's binary cannot be downloaded on every machine (this project's CI installs with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1), so without it the test is skipped, saying why.

const ROOT = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

function electronBinary(): string | null {
  try {
    const path = require('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const SKIP_REASON = 'Electron binary not installed (run `node node_modules/electron/install.js` with internet access)';
if (!binary) console.warn(`test/e2e/electron.test.ts skipped: ${SKIP_REASON}.`);

/** The page's global scope, as seen from page.evaluate callbacks. */
type PageGlobals = { workbench: WorkbenchApi; __events: HostEvent[]; require?: unknown; process?: unknown; open(url: string): unknown; location: { href: string } };

describe('Electron app', () => {
  let app: ElectronApplication | undefined;
  let page: Page;
  const runs = mkdtempSync(join(tmpdir(), 'wb-electron-e2e-'));
  afterAll(async () => {
    await app?.close();
    rmSync(runs, { recursive: true, force: true });
  });

  it.skipIf(!binary)(`opens a locked-down window and trains a demo run${binary ? '' : ` (skipped: ${SKIP_REASON})`}`, async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-electron.mjs')], { cwd: ROOT, stdio: 'inherit' });
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });

    app = await _electron.launch({ executablePath: binary!, args: [ROOT], env: { ...process.env, WORKBENCH_RUNS_DIR: runs }, timeout: 60_000 });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toBe('app://workbench/index.html');

    // The checklist as the running page sees it: no Node, only the API, no pop-ups, no navigation.
    const seen = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { require: typeof g.require, process: typeof g.process, api: Object.keys(g.workbench).sort(), popup: g.open('https://example.com/') === null };
    });
    expect(seen).toMatchObject({ require: 'undefined', process: 'undefined', popup: true });
    // The file system is reachable only through the API.
    const fileRead = await page.evaluate(() => fetch('file:///etc/hostname').then(() => 'read', () => 'refused'));
    expect(fileRead).toBe('refused');
    expect(seen.api).toContain('startRun');
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe('app://workbench/index.html');

    // A tiny demo run, all the way through the utilityProcess trainer.
    const model = getPreset('demo-bc-tiny', { inputShape: [28, 28, 1], classes: 10 });
    const runId = await page.evaluate(async (model) => {
      const g = globalThis as unknown as PageGlobals;
      g.__events = [];
      g.workbench.onEvent((e) => g.__events.push(e));
      const { runId } = await g.workbench.startRun({
        model,
        settings: { epochs: 1, batchSize: 16, backend: 'cpu', valFraction: 0.2 },
        dataset: { kind: 'builtin', name: 'mnist', limit: 64 },
      });
      return runId;
    }, model);
    expect(runId).toMatch(/\S/);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__events.some((e) => e.type === 'step'), undefined, { timeout: 120_000 });
    await page.evaluate(() => (globalThis as unknown as PageGlobals).workbench.stopRun().catch(() => null));
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__events.some((e) => e.type === 'finished' || e.type === 'trainerExit'), undefined, {
      timeout: 60_000,
    });
    await page.screenshot({ path: join(ROOT, 'test-results', 'electron-window.png') });
  });
});
