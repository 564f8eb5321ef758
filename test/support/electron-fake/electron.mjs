// A recording stand-in for the 'electron' module, just wide enough for dist-electron's main bundle.
// Once the bundle has created its window, it plays a short script against what the bundle
// registered (IPC calls from a trusted and a foreign frame, an app:// request, a crashing trainer,
// quitting) and prints one JSON report line on stdout.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';

const record = { schemes: [], sandbox: false, handled: [], permissions: [], window: null, loaded: null, menu: null, forks: [], pushed: [] };
const appEvents = new EventEmitter();
const ipcHandlers = new Map();
let protocolHandler = null;
let readyResolve;
const ready = new Promise((r) => (readyResolve = r));
const tmp = process.env.FAKE_ELECTRON_TMP;

export const app = {
  isPackaged: false,
  whenReady: () => ready,
  requestSingleInstanceLock: () => true,
  enableSandbox: () => (record.sandbox = true),
  on: (event, listener) => appEvents.on(event, listener),
  getAppPath: () => process.env.FAKE_ELECTRON_APP_PATH,
  getPath: (name) => join(tmp, name),
  getName: () => 'DenseNet Workbench',
  getVersion: () => '0.0.0-test',
  addRecentDocument: () => undefined,
  clearRecentDocuments: () => undefined,
  quit: () => {
    const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    appEvents.emit('before-quit', event);
    if (!event.defaultPrevented) finish();
  },
  exit: (code) => process.exit(code),
};

export const protocol = {
  registerSchemesAsPrivileged: (schemes) => record.schemes.push(...schemes),
  handle: (scheme, handler) => {
    record.handled.push(scheme);
    protocolHandler = handler;
  },
};

const webRequest = { onHeadersReceived: () => undefined };
export const session = {
  defaultSession: {
    setPermissionRequestHandler: (h) => record.permissions.push(typeof h),
    setPermissionCheckHandler: (h) => record.permissions.push(typeof h),
    setDevicePermissionHandler: (h) => record.permissions.push(typeof h),
    webRequest,
  },
};

export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    record.window = options;
    this.webContents = Object.assign(new EventEmitter(), {
      setWindowOpenHandler: (handler) => (record.windowOpen = handler({ url: 'https://evil.example/' })),
      send: (channel, batch) => record.pushed.push({ channel, batch }),
      reload: () => undefined,
    });
    // As Electron does, for every web contents it creates.
    appEvents.emit('web-contents-created', {}, this.webContents);
    const navigation = { url: 'https://evil.example/', defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    this.webContents.emit('will-navigate', navigation);
    record.navigationPrevented = navigation.defaultPrevented;
    record.navigateListeners = this.webContents.listenerCount('will-navigate');
  }
  loadURL(url) {
    record.loaded = url;
    setTimeout(play, 50);
    return Promise.resolve();
  }
  isDestroyed() { return false; }
  isMaximized() { return false; }
  isMinimized() { return false; }
  getNormalBounds() { return { x: 0, y: 0, width: 1280, height: 800 }; }
  maximize() {}
  show() {}
  focus() {}
}

export const ipcMain = {
  handle: (channel, handler) => ipcHandlers.set(channel, handler),
  removeHandler: (channel) => ipcHandlers.delete(channel),
};
export const Menu = { buildFromTemplate: (t) => t, setApplicationMenu: (m) => (record.menu = m.map((i) => i.label ?? i.role)) };
export const dialog = { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showMessageBox: async () => ({ response: 0 }) };
export const shell = { openExternal: async () => undefined };
export const nativeTheme = { shouldUseDarkColors: false };
export const screen = { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] };
export const webUtils = { getPathForFile: () => '' };

/** utilityProcess.fork: the child "spawns", says nothing, and crashes with code 134. */
export const utilityProcess = {
  fork: (modulePath, args, options) => {
    const child = Object.assign(new EventEmitter(), { pid: 999_999, postMessage: () => undefined, kill: () => true });
    record.forks.push({ modulePath, serviceName: options.serviceName });
    setTimeout(() => child.emit('spawn'), 10);
    setTimeout(() => child.emit('exit', 134), 200);
    return child;
  },
};

const appFrame = { senderFrame: { origin: 'app://workbench', url: 'app://workbench/index.html', parent: null } };
const foreignFrame = { senderFrame: { origin: 'https://evil.example', url: 'https://evil.example/', parent: null } };

async function play() {
  const call = (channel, payload, event = appFrame) => ipcHandlers.get(channel)(event, payload);
  record.channels = [...ipcHandlers.keys()].sort();
  record.appInfo = await call('app:info', undefined);
  record.foreign = await call('run:list', undefined, foreignFrame);
  record.malformed = await call('run:open', { runId: '../x' });
  const index = await protocolHandler(new Request('app://workbench/index.html'));
  record.index = { status: index.status, csp: index.headers.get('content-security-policy') };
  record.continueMissing = await call('run:continue', { runId: 'no-such-run' });
  record.start = await call('run:start', JSON.parse(process.env.FAKE_ELECTRON_START));
  // The fake trainer crashes; the bundle must tell the window (throttled, so allow it a moment).
  for (let i = 0; i < 60 && !record.pushed.some((p) => p.batch.some((e) => e.type === 'trainerExit')); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  record.afterCrash = await call('run:active', undefined);
  app.quit();
}

function finish() {
  process.stdout.write(`FAKE-ELECTRON-REPORT ${JSON.stringify(record)}\n`);
  process.exit(0);
}

setTimeout(() => readyResolve(), 10);
