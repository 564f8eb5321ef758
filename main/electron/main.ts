import { join } from 'node:path';
import { BrowserWindow, Menu, app, dialog, ipcMain, nativeTheme, protocol, screen, session, shell, utilityProcess } from 'electron';
import { PRELOAD_GLOBAL } from '../../shared/api';
import { APP_INDEX_URL, APP_ORIGIN, APP_SCHEME, APP_SCHEME_PRIVILEGES, appProtocolHandler, originOf } from './app-protocol';
import { createDesktop } from './desktop';
import { createDesktopService } from './desktop-service';
import { contentSecurityPolicy, guardContents, isAllowedExternalUrl, secureSession } from './security';
import { rootsFromArgv } from './launch-args';
import { createMainWindow } from './window';

/**
 * The Electron main process: wires the pieces of main/electron to the real Electron modules.
 * Everything with logic lives in those modules (tested with fakes); this file only composes them.
 */

// Before ready: app:// must be a standard, secure scheme to get an origin (checklist #18), and
// every renderer is sandboxed whatever its webPreferences say (checklist #4).
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();

/**
 * `npm run dev` serves the renderer from vite on localhost. Honoured only from a checkout and only
 * for a loopback http URL: an installed app never hands its API to another origin.
 */
function devServerUrl(): string | undefined {
  const url = process.env.WORKBENCH_DEV_SERVER_URL;
  if (!url || app.isPackaged) return undefined;
  try {
    const { protocol: scheme, hostname } = new URL(url);
    return scheme === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname) ? url : undefined;
  } catch {
    return undefined;
  }
}
const devServer = devServerUrl();
const log = (message: string) => process.stderr.write(`[workbench] ${message}\n`);

// macOS sends 'open-file' (a run folder from the Dock's recent documents) possibly before ready.
let openRunFolder: ((path: string) => void) | null = null;
const openedEarly: string[] = [];
app.on('open-file', (event, path) => {
  event.preventDefault();
  if (openRunFolder) openRunFolder(path);
  else openedEarly.push(path);
});

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the run store and the trainer; it gets focused instead (second-instance).
  app.quit();
} else {
  app.whenReady().then(start, (err: unknown) => {
    log(`Startup failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  const appPath = app.getAppPath();
  const paths = {
    renderer: join(appPath, 'dist', 'renderer'),
    preload: join(appPath, 'dist-electron', 'main', 'electron', 'preload.cjs'),
    trainer: join(appPath, 'dist-electron', 'main', 'trainer', 'entry.js'),
    userData: app.getPath('userData'),
    // From a checkout, runs go where the CLI puts them; installed, beside the user's documents.
    runs: process.env.WORKBENCH_RUNS_DIR ?? (app.isPackaged ? join(app.getPath('documents'), 'DenseNet Workbench', 'runs') : join(appPath, 'runs')),
  };

  const csp = contentSecurityPolicy({ devServer });
  protocol.handle(APP_SCHEME, appProtocolHandler(paths.renderer, csp));
  secureSession(session.defaultSession, csp);

  const devOrigin = devServer ? originOf(devServer) : null;
  const allowedOrigins = devOrigin ? [APP_ORIGIN, devOrigin] : [APP_ORIGIN];
  const isAppUrl = (url: string) => allowedOrigins.includes(originOf(url) ?? '');
  const openExternal = (url: string) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url);
  };
  // Every web contents, present and future (DevTools included), gets the navigation rules.
  app.on('web-contents-created', (_event, contents) => guardContents(contents, isAppUrl, openExternal));

  let win: BrowserWindow | null = null;
  const openWindow = (): BrowserWindow => {
    const created = createMainWindow({
      BrowserWindow,
      preload: paths.preload,
      url: devServer ?? APP_INDEX_URL,
      stateFile: join(paths.userData, 'window-state.json'),
      workAreas: () => screen.getAllDisplays().map((d) => d.workArea),
      dark: nativeTheme.shouldUseDarkColors,
      devTools: !app.isPackaged,
      log,
    });
    win = created;
    created.on('closed', () => (win = null));
    return created;
  };

  const service = await createDesktopService({
    forkUtility: (modulePath, args, options) => utilityProcess.fork(modulePath, args, options),
    trainerEntry: paths.trainer,
    runsDir: paths.runs,
    version: app.getVersion(),
    roots: rootsFromArgv(process.argv),
  });
  const desktop = createDesktop({
    ipcMain,
    dialog,
    setMenu: (template) => Menu.setApplicationMenu(Menu.buildFromTemplate(template)),
    app: {
      addRecentDocument: (path) => app.addRecentDocument(path),
      clearRecentDocuments: () => app.clearRecentDocuments(),
      name: app.getName(),
      platform: process.platform,
    },
    window: () => win,
    service,
    allowedOrigins,
    runsDir: paths.runs,
    userData: paths.userData,
    openExternal,
    log,
  });
  log(`runs are stored in ${paths.runs}; the page sees the API as window.${PRELOAD_GLOBAL}`);

  const first = openWindow();

  app.on('second-instance', () => {
    if (!win) return void openWindow();
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  // macOS: Dock click with no window open.
  app.on('activate', () => {
    if (!win) openWindow();
  });
  openRunFolder = (path) => desktop.openRunFolder(path);
  // After the window loaded, so the UI is there to open the run.
  first.webContents.once('did-finish-load', () => openedEarly.splice(0).forEach((p) => desktop.openRunFolder(p)));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('child-process-gone', (_event, details) => {
    // The service already marked the run failed and told the UI; this is for the log.
    if (details.type === 'Utility') log(`The trainer process is gone: ${details.reason} (exit code ${details.exitCode}).`);
  });

  // On quit, a live run is stopped cleanly (it checkpoints) before the app goes.
  let disposed = false;
  app.on('before-quit', (event) => {
    if (disposed) return;
    event.preventDefault();
    disposed = true;
    desktop.dispose().finally(() => app.quit());
  });
}
