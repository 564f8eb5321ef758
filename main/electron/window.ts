import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { mainWindowOptions } from './security';
import { loadWindowState, trackWindowState, type Rect } from './window-state';

/**
 * The one workbench window: created with the checklist's options (security.ts), shown when its
 * first paint is ready, and remembered between launches. Navigation and pop-ups are guarded for
 * every web contents at once, in main.ts ('web-contents-created').
 */
export interface WindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  preload: string;
  /** app://workbench/index.html, or the vite dev server. */
  url: string;
  stateFile: string;
  workAreas(): Rect[];
  dark: boolean;
  devTools: boolean;
  log(message: string): void;
}

export function createMainWindow(deps: WindowDeps): BrowserWindow {
  const { bounds, maximized } = loadWindowState(deps.stateFile, deps.workAreas());
  const win = new deps.BrowserWindow(mainWindowOptions({ preload: deps.preload, bounds, devTools: deps.devTools, dark: deps.dark }));
  trackWindowState(win, deps.stateFile, { onError: (err) => deps.log(`Could not save the window position: ${String(err)}`) });

  win.once('ready-to-show', () => {
    if (maximized) win.maximize();
    win.show();
  });
  // A crashed or killed renderer is reloaded; the trainer and the run are unaffected (they live in
  // other processes), so the reloaded UI picks the live run up again.
  win.webContents.on('render-process-gone', (_event, details) => {
    deps.log(`The window's renderer is gone (${details.reason}, exit code ${details.exitCode}); reloading it.`);
    if (details.reason !== 'clean-exit' && !win.isDestroyed()) win.webContents.reload();
  });
  win.webContents.on('did-fail-load', (_event, code, description, url, isMainFrame) => {
    if (isMainFrame) deps.log(`Could not load ${url}: ${description} (${code}).`);
  });
  void win.loadURL(deps.url);
  return win;
}
