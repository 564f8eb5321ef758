import { createReadStream, promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { contentType } from '../host/mime';

/** Serves the built renderer (dist/renderer) read-only; nothing outside that folder is reachable. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The token is in the first URL; never leak it through a Referer.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  );
}

/** Sends `urlPath` from `dir`, or index.html for `/`; 404 for anything missing or outside. */
export async function sendStatic(dir: string, urlPath: string, res: ServerResponse): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    rel = '\0';
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = path.join(dir, path.normalize(rel));
  const inside = file.startsWith(dir + path.sep) && !rel.includes('\0');
  const stat = inside ? await fs.stat(file).catch(() => null) : null;
  if (!stat || !stat.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found.\n');
    return;
  }
  const type = contentType(path.extname(file));
  // Hashed assets can be cached; index.html must not be (it names the current assets).
  const cache = rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store';
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Cache-Control': cache });
  createReadStream(file).pipe(res);
}
