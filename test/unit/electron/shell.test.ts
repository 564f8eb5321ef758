import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { APP_ORIGIN, appProtocolHandler, originOf, resolveAppFile } from '../../../main/electron/app-protocol';
import { DATASET_DIALOG, checkDatasetFolder, chooseDatasetFolder, chooseExportDir } from '../../../main/electron/dialogs';
import { menuTemplate, type MenuActions } from '../../../main/electron/menu';
import { createRecentRuns } from '../../../main/electron/recent-runs';
import { DEFAULT_BOUNDS, loadWindowState, saveWindowState, trackWindowState } from '../../../main/electron/window-state';

const dir = mkdtempSync(join(tmpdir(), 'wb-electron-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];

describe('window state', () => {
  it('round-trips position, size and maximised state', () => {
    const file = join(dir, 'state', 'window.json');
    saveWindowState(file, { x: 100, y: 80, width: 1400, height: 900, maximized: true });
    expect(loadWindowState(file, screen)).toEqual({ bounds: { x: 100, y: 80, width: 1400, height: 900 }, maximized: true });
  });

  it('falls back to the default for a missing, damaged or off-screen state', () => {
    expect(loadWindowState(join(dir, 'missing.json'), screen).bounds).toEqual(DEFAULT_BOUNDS);
    const damaged = join(dir, 'damaged.json');
    writeFileSync(damaged, '{"x": 1, "y"');
    expect(loadWindowState(damaged, screen).bounds).toEqual(DEFAULT_BOUNDS);
    const off = join(dir, 'off.json');
    saveWindowState(off, { x: 5000, y: 200, width: 800, height: 600, maximized: false });
    expect(loadWindowState(off, screen).bounds).toEqual(DEFAULT_BOUNDS);
    // The same position is fine once a second monitor is to the right.
    expect(loadWindowState(off, [...screen, { x: 1920, y: 0, width: 3840, height: 2160 }]).bounds).toMatchObject({ x: 5000 });
  });

  it('saves the normal bounds when the window closes', () => {
    const file = join(dir, 'tracked.json');
    const listeners = new Map<string, () => void>();
    trackWindowState(
      { on: (e, l) => listeners.set(e, l), getNormalBounds: () => ({ x: 10.4, y: 20, width: 1300, height: 760 }), isMaximized: () => false },
      file,
    );
    listeners.get('close')!();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ x: 10, y: 20, width: 1300, height: 760, maximized: false });
  });
});

describe('application menu', () => {
  const calls: string[] = [];
  const actions: MenuActions = {
    openDatasetFolder: () => calls.push('open'),
    openRecentRun: (id) => calls.push(`recent:${id}`),
    clearRecentRuns: () => calls.push('clear'),
    pauseRun: () => calls.push('pause'),
    resumeRun: () => calls.push('resume'),
    stopRun: () => calls.push('stop'),
    snapshotRun: () => calls.push('snapshot'),
    openExternal: (u) => calls.push(u),
  };
  const flat = (items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
    items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);

  it('uses the standard roles and gives every own command a unique shortcut', () => {
    const items = flat(menuTemplate({ platform: 'linux', appName: 'DenseNet Workbench', recent: [], actions }));
    const roles = items.map((i) => i.role).filter(Boolean);
    expect(roles).toEqual(expect.arrayContaining(['editMenu', 'viewMenu', 'windowMenu', 'quit', 'help', 'about']));
    const accelerators = items.map((i) => i.accelerator).filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
    expect(items.find((i) => i.label === 'Open Dataset Folder…')?.accelerator).toBe('CmdOrCtrl+O');
    expect(items.find((i) => i.label === 'No Recent Runs')?.enabled).toBe(false);
  });

  it('has the macOS app menu there, and recent runs that call back with their id', () => {
    const items = flat(menuTemplate({ platform: 'darwin', appName: 'DenseNet Workbench', recent: [{ runId: 'r7', label: 'cifar run' }], actions }));
    expect(items[0]).toMatchObject({ role: 'appMenu' });
    expect(items.some((i) => i.role === 'quit')).toBe(false);
    calls.length = 0;
    for (const label of ['cifar run', 'Clear Recent Runs', 'Pause Training', 'Stop Training', 'Open Dataset Folder…']) {
      (items.find((i) => i.label === label)!.click as () => void)();
    }
    expect(calls).toEqual(['recent:r7', 'clear', 'pause', 'stop', 'open']);
  });
});

describe('recent runs', () => {
  it('keeps the newest first, without duplicates, capped, across restarts, and tells the OS', () => {
    const file = join(dir, 'recent.json');
    const docs: string[] = [];
    const changes: number[] = [];
    const deps = { file, max: 3, addRecentDocument: (p: string) => docs.push(p), clearRecentDocuments: () => docs.push('<clear>'), onChange: (r: unknown[]) => changes.push(r.length) };
    const recent = createRecentRuns(deps);
    for (const id of ['a', 'b', 'c', 'a', 'd']) recent.add({ runId: id, label: `run ${id}`, dir: `/runs/${id}` });
    expect(recent.list().map((r) => r.runId)).toEqual(['d', 'a', 'c']);
    expect(docs).toEqual(['/runs/a', '/runs/b', '/runs/c', '/runs/a', '/runs/d']);
    expect(createRecentRuns(deps).list().map((r) => r.runId)).toEqual(['d', 'a', 'c']);
    recent.remove('a');
    recent.clear();
    expect(recent.list()).toEqual([]);
    expect(docs.at(-1)).toBe('<clear>');
    expect(changes).toEqual([1, 2, 3, 3, 3, 2, 0]);
  });

  it('drops damaged entries from the file', () => {
    const file = join(dir, 'recent-damaged.json');
    writeFileSync(file, JSON.stringify([{ runId: 'ok', label: 'fine', dir: '/runs/ok' }, { runId: 3 }, 'junk']));
    const recent = createRecentRuns({ file, addRecentDocument: () => undefined, clearRecentDocuments: () => undefined });
    expect(recent.list().map((r) => r.runId)).toEqual(['ok']);
  });
});

describe('dialogs', () => {
  const dialog = (result: { canceled: boolean; filePaths: string[] }) => {
    const seen: unknown[][] = [];
    return { seen, showOpenDialog: async (...args: unknown[]) => (seen.push(args), result) };
  };

  it('opens a folder picker parented to the window and returns the folder or null', async () => {
    const d = dialog({ canceled: false, filePaths: ['/data/cifar'] });
    await expect(chooseDatasetFolder(d as never, { id: 1 } as never)).resolves.toBe('/data/cifar');
    expect(d.seen[0]).toEqual([{ id: 1 }, DATASET_DIALOG]);
    await expect(chooseExportDir(dialog({ canceled: true, filePaths: [] }) as never, null)).resolves.toBeNull();
    const e = dialog({ canceled: false, filePaths: ['/out'] });
    await chooseExportDir(e as never, null, '/runs/r1');
    expect(e.seen[0][0]).toMatchObject({ defaultPath: '/runs/r1', properties: expect.arrayContaining(['openDirectory', 'createDirectory']) });
  });

  it('accepts a dropped folder and refuses a file or a missing path with a reason', async () => {
    const folder = join(dir, 'dataset');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(dir, 'image.png'), 'x');
    await expect(checkDatasetFolder(folder)).resolves.toEqual({ ok: true, path: folder });
    await expect(checkDatasetFolder(join(dir, 'image.png'))).resolves.toMatchObject({ ok: false, message: expect.stringMatching(/is a file/) });
    await expect(checkDatasetFolder(join(dir, 'nope'))).resolves.toMatchObject({ ok: false, message: expect.stringMatching(/cannot be read/) });
  });
});

describe('app:// protocol', () => {
  const root = join(dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>wb</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'secret');

  it.each([
    ['app://workbench/', 'index.html'],
    ['app://workbench/assets/app.js', 'assets/app.js'],
    ['app://workbench/runs/r1', 'index.html'],
    // The URL parser already removes these dot segments: what is left stays inside the root.
    ['app://workbench/../secret.txt', 'inside'],
    ['app://workbench/%2e%2e/secret.txt', 'inside'],
    ['app://workbench/..%2fsecret.txt', null],
    ['app://evil/index.html', null],
    ['https://workbench/index.html', null],
  ])('resolves %s', (url, expected) => {
    const file = resolveAppFile(root, url);
    if (expected === null) expect(file).toBeNull();
    else if (expected === 'inside') expect(file === null || file.startsWith(root)).toBe(true);
    else expect(file).toBe(join(root, expected));
  });

  it('serves files with their type and the CSP, and 404s the rest', async () => {
    const handle = appProtocolHandler(root, "default-src 'self'");
    const ok = await handle(new Request('app://workbench/assets/app.js'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/javascript/);
    expect(ok.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(await ok.text()).toBe('console.log(1)');
    expect((await handle(new Request('app://workbench/assets/missing.js'))).status).toBe(404);
    expect((await handle(new Request('app://workbench/%2e%2e/secret.txt'))).status).toBe(404);
  });

  it('computes the origin Chromium gives a standard custom scheme', () => {
    expect(originOf('app://workbench/index.html#x')).toBe(APP_ORIGIN);
    expect(originOf('http://localhost:5173/')).toBe('http://localhost:5173');
    expect(originOf('file:///tmp/x')).toBeNull();
    expect(originOf('nonsense')).toBeNull();
  });
});
