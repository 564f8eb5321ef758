import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';

/**
 * The window and session rules of Electron's security checklist
 * (https://www.electronjs.org/docs/latest/tutorial/security). Each rule cites its checklist item.
 * Everything here takes the Electron pieces as arguments, so tests assert the rules with fakes.
 */

/** Documentation links the UI may open in the system browser (checklist #15: no openExternal on untrusted URLs). */
export const EXTERNAL_ORIGINS: readonly string[] = [
  'https://arxiv.org',
  'https://github.com',
  'https://www.tensorflow.org',
  'https://js.tensorflow.org',
  'https://www.electronjs.org',
  'https://onnx.ai',
  'https://pytorch.org',
];

export function isAllowedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // URL.origin drops credentials and normalises case and default ports, so `https://github.com@evil`
  // or `HTTPS://GITHUB.COM:443` are judged by where they really go.
  return parsed.protocol === 'https:' && !parsed.username && !parsed.password && EXTERNAL_ORIGINS.includes(parsed.origin);
}

export interface WindowBounds { x?: number; y?: number; width: number; height: number }

/** BrowserWindow options; a pure function so the checklist is asserted without Electron. */
export function mainWindowOptions(opts: { preload: string; bounds: WindowBounds; devTools: boolean; dark: boolean }): BrowserWindowConstructorOptions {
  return {
    ...opts.bounds,
    minWidth: 1024,
    minHeight: 640,
    title: 'DenseNet Workbench',
    // Shown on 'ready-to-show' so the user never sees a blank frame.
    show: false,
    backgroundColor: opts.dark ? '#16181d' : '#ffffff',
    webPreferences: {
      preload: opts.preload,
      contextIsolation: true, // checklist #3
      sandbox: true, // checklist #4
      nodeIntegration: false, // checklist #2
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true, // checklist #6
      allowRunningInsecureContent: false, // checklist #8
      experimentalFeatures: false, // checklist #9
      webviewTag: false, // checklist #11 and #12
      // A file dropped outside the drop zone must not navigate the window to file:// (checklist #12).
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: opts.devTools,
    },
  };
}

export interface CspOptions {
  /** Origin of a vite dev server whose HMR WebSocket must be reachable (npm run dev only). */
  devServer?: string;
}

/** Content-Security-Policy of every app page (checklist #7). */
export function contentSecurityPolicy(opts: CspOptions = {}): string {
  const connect = ["'self'"];
  if (opts.devServer) {
    const dev = new URL(opts.devServer);
    connect.push(`ws://${dev.host}`);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Vue and chart.js set element styles; scripts stay locked to 'self'.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onHeadersReceived'>;
};

/** Deny every permission (checklist #5) and add the CSP header to every response (checklist #7). */
export function secureSession(session: SessionLike, csp: string): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    for (const key of Object.keys(headers)) if (key.toLowerCase() === 'content-security-policy') delete headers[key];
    headers['Content-Security-Policy'] = [csp];
    callback({ responseHeaders: headers });
  });
}

type ContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * Deny navigation away from the app (checklist #13), new windows (checklist #14) and <webview>
 * (checklist #12). Allow-listed documentation links go to the system browser instead.
 * `isAppUrl` decides what counts as the app itself (its custom scheme, or the dev server).
 */
export function guardContents(contents: ContentsLike, isAppUrl: (url: string) => boolean, openExternal: (url: string) => void): void {
  const onNavigate = (event: { preventDefault(): void; url: string }) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    if (isAllowedExternalUrl(event.url)) openExternal(event.url);
  };
  contents.on('will-navigate', onNavigate);
  contents.on('will-redirect', onNavigate);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) openExternal(url);
    return { action: 'deny' };
  });
}
