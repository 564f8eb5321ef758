import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Access control for browser mode: whoever can reach the port must not get a shell on the box. A random token is printed in the URL; the first
 * page load trades it for an HttpOnly, SameSite=Strict cookie, and every HTTP request and WebSocket
 * upgrade must carry one or the other. WebSocket upgrades must also come from the server's own
 * origin, which stops other web pages from driving the workbench through the user's browser.
 */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The cookie is per port: browsers share cookies between ports of one host. */
export function cookieName(port: number): string {
  return `dwb_token_${port}`;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** How the request proved it holds the token, or null when it did not. */
export function tokenOf(req: IncomingMessage, token: string, port: number): 'query' | 'cookie' | null {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const q = url.searchParams.get('token');
  if (q !== null && sameSecret(q, token)) return 'query';
  const c = cookies(req).get(cookieName(port));
  if (c !== undefined && sameSecret(c, token)) return 'cookie';
  return null;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Whether a Host header is acceptable. On a loopback bind only loopback names are: a web page on
 * a DNS-rebinding domain that resolves to 127.0.0.1 sends its own name and is refused.
 */
export function hostAllowed(hostHeader: string | undefined, boundToLoopback: boolean): boolean {
  if (!hostHeader) return false;
  if (!boundToLoopback) return true;
  const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0];
  return LOOPBACK_NAMES.has(name.toLowerCase());
}

/** A WebSocket upgrade's Origin must name this very server (scheme, host and port). */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    const o = new URL(origin);
    return o.protocol === 'http:' && o.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
