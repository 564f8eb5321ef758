import { describe, expect, it } from 'vitest';
import {
  EXTERNAL_ORIGINS,
  contentSecurityPolicy,
  guardContents,
  isAllowedExternalUrl,
  mainWindowOptions,
  secureSession,
} from '../../../main/electron/security';
import { APP_ORIGIN, originOf } from '../../../main/electron/app-protocol';

// The Electron security checklist (docs/tutorial/security.md), asserted item by item against the
// options and handlers the shell really installs.

describe('window options', () => {
  const options = mainWindowOptions({ preload: '/app/preload.cjs', bounds: { width: 1280, height: 800 }, devTools: false, dark: true });
  const web = options.webPreferences!;

  it.each([
    ['#2 no Node.js integration', 'nodeIntegration', false],
    ['#2 no Node.js in workers', 'nodeIntegrationInWorker', false],
    ['#2 no Node.js in sub-frames', 'nodeIntegrationInSubFrames', false],
    ['#3 context isolation', 'contextIsolation', true],
    ['#4 sandbox', 'sandbox', true],
    ['#6 webSecurity stays on', 'webSecurity', true],
    ['#8 no insecure content', 'allowRunningInsecureContent', false],
    ['#9 no experimental features', 'experimentalFeatures', false],
    ['#12 no <webview>', 'webviewTag', false],
    ['#13 dropping a file does not navigate', 'navigateOnDragDrop', false],
  ] as const)('checklist %s', (_item, key, value) => {
    expect(web[key]).toBe(value);
  });

  it('#10 enables no Blink features and loads the given preload', () => {
    expect(web.enableBlinkFeatures).toBeUndefined();
    expect(web.preload).toBe('/app/preload.cjs');
    expect(web.devTools).toBe(false);
    expect(options.show).toBe(false);
  });
});

describe('content security policy (#7)', () => {
  const directives = (csp: string) => new Map(csp.split(';').map((d) => {
    const [name, ...values] = d.trim().split(/\s+/);
    return [name, values] as const;
  }));

  it('allows scripts only from the app itself, never eval or inline', () => {
    const csp = directives(contentSecurityPolicy());
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('frame-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(contentSecurityPolicy()).not.toMatch(/unsafe-eval/);
  });

  it('lets only the dev server HMR socket in under npm run dev', () => {
    const csp = directives(contentSecurityPolicy({ devServer: 'http://localhost:5173/' }));
    expect(csp.get('connect-src')).toEqual(["'self'", 'ws://localhost:5173']);
    expect(csp.get('script-src')).toEqual(["'self'"]);
  });
});

describe('session (#5 permissions, #7 CSP header)', () => {
  function fakeSession() {
    const s = {
      request: undefined as undefined | ((...a: unknown[]) => void),
      check: undefined as undefined | ((...a: unknown[]) => boolean),
      device: undefined as undefined | ((...a: unknown[]) => boolean),
      headers: undefined as undefined | ((details: unknown, cb: (r: unknown) => void) => void),
      setPermissionRequestHandler(h: never) { s.request = h; },
      setPermissionCheckHandler(h: never) { s.check = h; },
      setDevicePermissionHandler(h: never) { s.device = h; },
      webRequest: { onHeadersReceived(h: never) { s.headers = h; } },
    };
    return s;
  }

  it('denies every permission request and check', () => {
    const s = fakeSession();
    secureSession(s as never, 'default-src none');
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fileSystem']) {
      let granted: boolean | undefined;
      s.request!({}, permission, (g: boolean) => (granted = g), {});
      expect(granted, permission).toBe(false);
      expect(s.check!({}, permission, APP_ORIGIN, {})).toBe(false);
    }
    expect(s.device!({ deviceType: 'usb' })).toBe(false);
  });

  it('replaces any Content-Security-Policy header with the app one', () => {
    const s = fakeSession();
    secureSession(s as never, "default-src 'none'");
    let result: { responseHeaders: Record<string, string[]> } | undefined;
    s.headers!({ responseHeaders: { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] } }, (r) => (result = r as never));
    expect(result!.responseHeaders).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': ["default-src 'none'"] });
  });
});

describe('navigation and new windows (#13, #14, #15)', () => {
  function fakeContents() {
    const listeners = new Map<string, (e: { preventDefault(): void; url?: string }) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    return {
      contents: {
        on: (name: string, l: never) => listeners.set(name, l),
        setWindowOpenHandler: (h: never) => (openHandler = h),
      },
      fire(name: string, url?: string) {
        let prevented = false;
        listeners.get(name)!({ url, preventDefault: () => (prevented = true) });
        return prevented;
      },
      open: (url: string) => openHandler!({ url }),
    };
  }
  const isApp = (url: string) => originOf(url) === APP_ORIGIN;

  it('keeps the window on the app and sends allow-listed links to the system browser', () => {
    const f = fakeContents();
    const opened: string[] = [];
    guardContents(f.contents as never, isApp, (u) => opened.push(u));
    expect(f.fire('will-navigate', 'app://workbench/index.html#runs')).toBe(false);
    expect(f.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(f.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(f.fire('will-redirect', 'https://arxiv.org/abs/1608.06993')).toBe(true);
    expect(f.fire('will-attach-webview')).toBe(true);
    expect(opened).toEqual(['https://arxiv.org/abs/1608.06993']);
  });

  it('denies every window.open, opening only allow-listed https links externally', () => {
    const f = fakeContents();
    const opened: string[] = [];
    guardContents(f.contents as never, isApp, (u) => opened.push(u));
    expect(f.open('https://github.com/liuzhuang13/DenseNet')).toEqual({ action: 'deny' });
    expect(f.open('app://workbench/index.html')).toEqual({ action: 'deny' });
    expect(f.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://github.com/liuzhuang13/DenseNet']);
  });

  it.each([
    ['https://arxiv.org/abs/1608.06993', true],
    ['HTTPS://GITHUB.COM:443/x', true],
    ['http://arxiv.org/abs/1608.06993', false],
    ['https://github.com.evil.example/', false],
    ['https://user:pw@github.com/', false],
    ['https://evil.example/?u=https://github.com', false],
    ['file:///home/user/.ssh/id_rsa', false],
    ['smb://server/share', false],
    ['not a url', false],
  ])('isAllowedExternalUrl(%s) is %s', (url, allowed) => {
    expect(isAllowedExternalUrl(url)).toBe(allowed);
  });

  it('allow-lists only https origins', () => {
    for (const origin of EXTERNAL_ORIGINS) expect(new URL(origin).origin).toBe(origin);
    expect(EXTERNAL_ORIGINS.every((o) => o.startsWith('https://'))).toBe(true);
  });
});
