import { readFile } from 'node:fs/promises';
import { extname, join, normalize, relative, isAbsolute, sep } from 'node:path';
import { contentType } from '../host/mime';

/**
 * The renderer is served from `app://workbench/`, not file:// (Electron security checklist #18):
 * a custom standard scheme has a real origin, so the CSP's 'self', the IPC sender check and the
 * navigation rules all have something exact to compare against.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** For protocol.registerSchemesAsPrivileged, before the app is ready. No bypassCSP, no CORS. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
} as const;

/**
 * The origin of a URL, with custom schemes handled: WHATWG URL gives `null` as the origin of
 * non-special schemes such as app:, while Chromium (a registered standard scheme) gives `app://host`.
 */
export function originOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol === `${APP_SCHEME}:`) return parsed.host ? `${APP_SCHEME}://${parsed.host}` : null;
  return parsed.origin === 'null' ? null : parsed.origin;
}

/**
 * The file under `root` that an app:// URL names, or null when it is not ours or escapes the root.
 * Paths without an extension fall back to index.html so client-side routes survive a reload.
 */
export function resolveAppFile(root: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  if (!extname(pathname)) pathname = '/index.html';
  const file = normalize(join(root, pathname));
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return null;
  return file;
}

/** The protocol.handle handler: the file with its type and the CSP header, or 404. */
export function appProtocolHandler(root: string, csp: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const file = resolveAppFile(root, request.url);
    if (!file) return new Response('Not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': contentType(extname(file)),
          'Content-Security-Policy': csp,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  };
}
