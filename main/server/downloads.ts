import { createReadStream, promises as fs, type Dirent } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { contentType } from '../host/mime';

/**
 * Browser mode's downloads: files of the run store, so an export written on a remote training box
 * reaches the browser (`GET /download/<run id>/<path inside the run>`), and a whole folder as one
 * zip (`…/<folder>?zip=1`). Served behind the same token as everything else (./server), and only
 * from inside the run store: every segment is a plain name (no `..`, no separators), the real path
 * (symlinks resolved) must stay inside the run's real folder, the run folder itself must really be
 * in the store, and a zip leaves out symbolic links rather than follow them out.
 */
export const DOWNLOAD_PREFIX = '/download/';

/** Folders with more files than this are refused as a zip: an export is a handful of files. */
const MAX_ZIP_FILES = 2000;

/** Already-compressed or binary weights gain little from deflate; store them as they are. */
const STORED = new Set(['.bin', '.onnx', '.png', '.jpg', '.jpeg', '.webp', '.zip', '.safetensors', '.pth', '.pt']);

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
}

/** `<run id>/<segments…>` of a download URL path, each decoded and checked; null when any is not a plain name. */
export function parseDownloadPath(urlPath: string): { runId: string; rel: string[] } | null {
  if (!urlPath.startsWith(DOWNLOAD_PREFIX)) return null;
  const parts = urlPath.slice(DOWNLOAD_PREFIX.length).split('/');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const decoded: string[] = [];
  for (const p of parts) {
    let d: string;
    try {
      d = decodeURIComponent(p);
    } catch {
      return null;
    }
    if (d === '' || d === '.' || d === '..' || /[\\/\0]/.test(d)) return null;
    decoded.push(d);
  }
  const [runId, ...rel] = decoded;
  if (!runId || !/^[A-Za-z0-9._-]+$/.test(runId)) return null;
  return { runId, rel };
}

/** The real path of `rel` inside run `runId`, or a reason it is not served. */
async function resolveInRun(runsDir: string, runId: string, rel: string[]): Promise<{ real: string } | { status: number; message: string }> {
  let realStore: string;
  let realRun: string;
  try {
    realStore = await fs.realpath(runsDir);
    realRun = await fs.realpath(path.join(runsDir, runId));
  } catch {
    return { status: 404, message: `There is no run ${runId} in the run store.` };
  }
  if (realRun !== path.join(realStore, runId)) return { status: 403, message: `Run ${runId} is a link out of the run store; only runs inside it are served.` };
  let real: string;
  try {
    real = await fs.realpath(path.join(realRun, ...rel));
  } catch {
    return { status: 404, message: `Run ${runId} has no ${rel.join('/') || 'such file'}.` };
  }
  if (real !== realRun && !real.startsWith(realRun + path.sep)) {
    return { status: 403, message: `${rel.join('/')} leads out of run ${runId} through a symbolic link; only files inside the run are served.` };
  }
  return { real };
}

/** Content-Disposition for a name: ASCII fallback plus RFC 5987's UTF-8 form. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Every regular file under `dir`, as paths relative to it with `/`; symbolic links are left out. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries: Dirent[] = await fs.readdir(path.join(dir, prefix), { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else if (e.isFile()) out.push(rel);
    if (out.length > MAX_ZIP_FILES) break;
  }
  return out;
}

/** Streams `dir` as a zip, one file after another, pausing the reads while the socket is full. */
async function sendZip(dir: string, name: string, res: ServerResponse): Promise<void> {
  const files = await filesUnder(dir);
  if (files.length > MAX_ZIP_FILES) return fail(res, 413, `${name} holds more than ${MAX_ZIP_FILES} files; download them one by one.`);
  res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Disposition': attachment(`${name}.zip`), 'Cache-Control': 'no-store' });
  let full = false;
  let failed: Error | null = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) failed = err;
    else if (!res.write(chunk)) full = true;
    if (final) res.end();
  });
  for (const rel of files) {
    const entry = STORED.has(path.extname(rel).toLowerCase()) ? new ZipPassThrough(rel) : new ZipDeflate(rel, { level: 6 });
    zip.add(entry);
    const stream = createReadStream(path.join(dir, ...rel.split('/')));
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk) => {
        entry.push(chunk as Buffer);
        if (full) {
          stream.pause();
          res.once('drain', () => {
            full = false;
            stream.resume();
          });
        }
      });
      stream.on('end', () => {
        entry.push(new Uint8Array(0), true);
        resolve();
      });
      stream.on('error', reject);
    });
    if (failed) throw failed;
  }
  zip.end();
}

/** Answers a `/download/…` request (GET or HEAD), already past the server's token and host checks. */
export async function sendDownload(runsDir: string, url: URL, res: ServerResponse): Promise<void> {
  const parsed = parseDownloadPath(url.pathname);
  if (!parsed) return fail(res, 400, 'A download is /download/<run id>/<path inside the run>; every part must be a plain name (no "..").');
  const found = await resolveInRun(runsDir, parsed.runId, parsed.rel);
  if (!('real' in found)) return fail(res, found.status, found.message);
  const stat = await fs.stat(found.real);
  const base = parsed.rel.length ? parsed.rel[parsed.rel.length - 1] : parsed.runId;
  if (stat.isDirectory()) {
    if (url.searchParams.get('zip') !== '1') return fail(res, 400, `${parsed.rel.join('/') || parsed.runId} is a folder; add ?zip=1 to download it as a zip.`);
    return sendZip(found.real, `${parsed.runId}-${base}`, res);
  }
  if (!stat.isFile()) return fail(res, 404, `${parsed.rel.join('/')} is not a file.`);
  res.writeHead(200, {
    'Content-Type': contentType(path.extname(found.real)),
    'Content-Length': stat.size,
    'Content-Disposition': attachment(base),
    'Cache-Control': 'no-store',
  });
  createReadStream(found.real).pipe(res);
}
