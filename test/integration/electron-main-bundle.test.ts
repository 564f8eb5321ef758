import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, API_METHOD_NAMES, DESKTOP_METHODS, DESKTOP_METHOD_NAMES, EVENT_CHANNEL } from '../../shared/api';
import { getPreset } from '../../shared/presets';
import { TrainSettingsSchema } from '../../shared/training';
import { DROP_CHANNEL } from '../../main/electron/channels';

// The built main-process bundle (dist-electron/main/electron/main.js), run under plain Node with
// 'electron' resolved to a recording stand-in (test/support/electron-fake). It checks the composition that
// unit tests of the pieces cannot: the bundle loads, registers app:// and the session rules before
// opening a checklist-conform window, routes IPC to the real WorkbenchService, refuses foreign
// frames, forks its trainer as a utility process, reports that trainer's crash to the window, and
// quits cleanly. Electron itself is not involved; test/e2e/electron.test.ts covers that where the
// binary exists.

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'wb-main-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Report {
  schemes: { scheme: string; privileges: Record<string, boolean> }[];
  sandbox: boolean;
  handled: string[];
  permissions: string[];
  window: { webPreferences: Record<string, unknown> };
  windowOpen: { action: string };
  navigationPrevented: boolean;
  navigateListeners: number;
  loaded: string;
  menu: string[];
  forks: { modulePath: string; serviceName: string }[];
  pushed: { channel: string; batch: { type: string; message?: string }[] }[];
  channels: string[];
  appInfo: { ok: boolean; value: { mode: string; runsDir: string } };
  foreign: { ok: boolean; error: { name: string } };
  malformed: { ok: boolean; error: { message: string } };
  index: { status: number; csp: string };
  continueMissing: { ok: boolean };
  start: { ok: boolean; value: { runId: string } };
  afterCrash: { ok: boolean; value: { status: string } };
}

let report: Report;

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-electron.mjs')], { cwd: ROOT, stdio: 'ignore' });
  // A renderer stand-in, so this test does not depend on (or wait for) the vite build.
  const app = join(tmp, 'app');
  mkdirSync(join(app, 'dist', 'renderer'), { recursive: true });
  writeFileSync(join(app, 'dist', 'renderer', 'index.html'), '<!doctype html><div id="app"></div>');
  const result = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'support', 'electron-fake', 'register.mjs'), join(ROOT, 'dist-electron', 'main', 'electron', 'main.js')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      FAKE_ELECTRON_TMP: tmp,
      FAKE_ELECTRON_APP_PATH: app,
      WORKBENCH_RUNS_DIR: join(tmp, 'runs'),
      FAKE_ELECTRON_START: JSON.stringify({
        model: getPreset('demo-bc-tiny', { inputShape: [8, 8, 1], classes: 10 }),
        settings: TrainSettingsSchema.parse({ epochs: 1, backend: 'cpu' }),
        dataset: { kind: 'builtin', name: 'mnist', limit: 32 },
      }),
    },
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('FAKE-ELECTRON-REPORT '));
  if (!line) throw new Error(`The main bundle did not finish its script (exit ${result.status}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  report = JSON.parse(line.slice('FAKE-ELECTRON-REPORT '.length)) as Report;
});

describe('the main-process bundle', () => {
  it('registers app:// as a secure standard scheme and sandboxes every renderer before ready', () => {
    expect(report.schemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(report.schemes[0].privileges).not.toHaveProperty('bypassCSP');
    expect(report.sandbox).toBe(true);
    expect(report.handled).toEqual(['app']);
    expect(report.permissions).toEqual(['function', 'function', 'function']);
  });

  it('opens one checklist-conform window on app://workbench with the bundled preload and a menu', () => {
    expect(report.window.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(report.window.webPreferences.preload).toBe(join(tmp, 'app', 'dist-electron', 'main', 'electron', 'preload.cjs'));
    expect(report.loaded).toBe('app://workbench/index.html');
    // Guarded once, through 'web-contents-created': navigation away and window.open are denied.
    expect(report).toMatchObject({ windowOpen: { action: 'deny' }, navigationPrevented: true, navigateListeners: 1 });
    expect(report.menu).toEqual(['&File', 'editMenu', '&Run', 'viewMenu', 'windowMenu', 'help']);
    expect(report.index.status).toBe(200);
    expect(report.index.csp).toMatch(/script-src 'self'/);
  });

  it('routes every API channel to the service and refuses foreign or malformed calls', () => {
    const expected = [...API_METHOD_NAMES.map((m) => API_METHODS[m].channel), ...DESKTOP_METHOD_NAMES.map((m) => DESKTOP_METHODS[m].channel), DROP_CHANNEL].sort();
    expect(report.channels).toEqual(expected);
    expect(report.appInfo).toMatchObject({ ok: true, value: { mode: 'electron', runsDir: join(tmp, 'runs') } });
    expect(report.foreign).toMatchObject({ ok: false, error: { name: 'SecurityError' } });
    expect(report.malformed).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Invalid request for run:open/) } });
    expect(report.continueMissing.ok).toBe(false);
  });

  it('forks the bundled trainer entry as a utility process and reports its crash to the window', () => {
    expect(report.start).toMatchObject({ ok: true, value: { runId: expect.any(String) } });
    expect(report.forks).toEqual([{ modulePath: join(tmp, 'app', 'dist-electron', 'main', 'trainer', 'entry.js'), serviceName: 'DenseNet Workbench trainer' }]);
    const events = report.pushed.filter((p) => p.channel === EVENT_CHANNEL).flatMap((p) => p.batch);
    expect(events.find((e) => e.type === 'trainerExit')?.message).toMatch(/exited with code 134/);
    expect(report.afterCrash).toMatchObject({ ok: true, value: { status: 'failed' } });
  });
});

describe('the preload bundle', () => {
  it('needs nothing but electron (a sandboxed preload cannot require) and exposes only window.workbench', () => {
    const code = readFileSync(join(ROOT, 'dist-electron', 'main', 'electron', 'preload.cjs'), 'utf8');
    const exposed = new Map<string, Record<string, unknown>>();
    const listeners: string[] = [];
    const required: string[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.set(key, api) },
      ipcRenderer: { invoke: async () => ({ ok: true, value: null }), on: () => undefined, removeListener: () => undefined },
      webUtils: { getPathForFile: () => '' },
    };
    const sandbox = {
      require: (name: string) => {
        required.push(name);
        if (name !== 'electron') throw new Error(`A sandboxed preload cannot require ${name}.`);
        return electron;
      },
      module: { exports: {} },
      exports: {},
      addEventListener: (type: string) => listeners.push(type),
      console,
    };
    runInNewContext(code, sandbox, { filename: 'preload.cjs' });
    expect([...new Set(required)]).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['workbench']);
    expect(Object.keys(exposed.get('workbench')!).sort()).toEqual([...API_METHOD_NAMES, ...Object.keys(DESKTOP_METHODS), 'onEvent'].sort());
    expect(listeners.sort()).toEqual(['dragover', 'drop']);
  });
});
