import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';

/**
 * A verified, resumable download of one file, as torch.hub's `download_url_to_file` does it plus a
 * resume: the bytes go to `<dest>.partial` beside the destination, are hashed as they arrive, and
 * the file is renamed to its real name only once complete and its sha256 matches. So a broken
 * download never leaves a file under the real name that something could use; a later call sends
 * an HTTP Range request for the rest (or starts over when the server ignores it).
 */
export interface DownloadProgress {
  /** Bytes of the file on disk so far, including a resumed part. */
  received: number;
  /** The file's size when the server said, else null. */
  total: number | null;
  /** Bytes that were already there from an earlier, broken download. */
  resumedFrom: number;
}

export interface DownloadOptions {
  url: string;
  /** The final path; its folder is created. */
  dest: string;
  /** When given, the sha256 (hex) must start with it. */
  hashPrefix?: string | null;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Abort when no byte arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** What to say, besides the URL, when the server cannot be reached (where to put the file). */
  offlineHint?: string;
}

export interface DownloadResult {
  file: string;
  sha256: string;
  bytes: number;
  /** True when the file was already there (nothing downloaded). */
  cached: boolean;
  resumedFrom: number;
}

export async function downloadVerified(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest } = options;
  if (fs.existsSync(dest)) {
    const { sha256, bytes } = await hashFile(dest);
    checkHash(sha256, options.hashPrefix, `${dest} is already there, but`, 'Delete it to download it again.');
    return { file: dest, sha256, bytes, cached: true, resumedFrom: 0 };
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const existing = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  const watchdog = new IdleWatchdog(options.idleTimeoutMs ?? 60_000, options.signal);
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers: existing > 0 ? { Range: `bytes=${existing}-` } : {}, signal: watchdog.signal, redirect: 'follow' });
    } catch (err) {
      throw unreachable(url, watchdog.reason(err), options.offlineHint);
    }
    if (existing > 0 && res.status === 416) {
      // Nothing left to send: the partial file is the whole file (or something else); check it.
      await res.body?.cancel();
      const { sha256, bytes } = await hashFile(partial);
      return finish(partial, dest, sha256, bytes, options.hashPrefix, existing);
    }
    if (!res.ok) throw new WorkbenchError(`Downloading ${url} failed: the server answered ${res.status} ${res.statusText}.`);
    let from = 0;
    if (res.status === 206) {
      if (contentRangeStart(res) !== existing) throw new WorkbenchError(`Downloading ${url} failed: asked for the bytes from ${existing} on, the server sent ${res.headers.get('content-range') ?? 'another range'}.`);
      from = existing;
    }
    // A server that ignores Range answers 200 with the whole file: start over.
    const hash = crypto.createHash('sha256');
    if (from > 0) await hashInto(partial, hash);
    const bytes = await receive(res, partial, from, hash, watchdog, options);
    return finish(partial, dest, hash.digest('hex'), bytes, options.hashPrefix, from);
  } finally {
    watchdog.stop();
  }
}

/** Appends the body to `partial` (from byte `from`); returns the file's length once complete. */
async function receive(res: Response, partial: string, from: number, hash: crypto.Hash, watchdog: IdleWatchdog, options: DownloadOptions): Promise<number> {
  const header = res.headers.get('content-length');
  const total = header !== null && Number.isFinite(Number(header)) ? from + Number(header) : null;
  const fd = fs.openSync(partial, from > 0 ? 'a' : 'w');
  let received = from;
  try {
    options.onProgress?.({ received, total, resumedFrom: from });
    try {
      if (!res.body) throw new Error('the response has no body');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        watchdog.touch();
        writeAll(fd, chunk);
        hash.update(chunk);
        received += chunk.length;
        options.onProgress?.({ received, total, resumedFrom: from });
      }
    } catch (err) {
      fs.fsyncSync(fd);
      throw brokeOff(options.url, received, total, describeError(watchdog.reason(err)));
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (total !== null && received !== total) throw brokeOff(options.url, received, total, 'the connection closed early');
  return received;
}

/** Aborts the request when no data arrives for `ms`, or when the caller's signal aborts. */
class IdleWatchdog {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal;
  private timer: ReturnType<typeof setTimeout>;

  constructor(private readonly ms: number, outer?: AbortSignal) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
    this.timer = this.arm();
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The abort's own reason when the request was aborted, else the error as thrown. */
  reason(err: unknown): unknown {
    return this.signal.aborted ? this.signal.reason : err;
  }

  private arm() {
    return setTimeout(() => this.controller.abort(new Error(`no data for ${this.ms / 1000} s`)), this.ms);
  }
}

function finish(partial: string, dest: string, sha256: string, bytes: number, prefix: string | null | undefined, resumedFrom: number): DownloadResult {
  try {
    checkHash(sha256, prefix, `The downloaded file (${bytes} bytes) is damaged or not the one asked for:`, 'It was deleted; run again to download it afresh.');
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  fs.renameSync(partial, dest);
  syncDir(path.dirname(dest));
  return { file: dest, sha256, bytes, cached: false, resumedFrom };
}

function checkHash(sha256: string, prefix: string | null | undefined, lead: string, advice: string): void {
  if (prefix && !sha256.startsWith(prefix)) {
    throw new WorkbenchError(`${lead} its sha256 starts with ${sha256.slice(0, prefix.length)}, not ${prefix} as its name says. ${advice}`);
  }
}

function contentRangeStart(res: Response): number | null {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : null;
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
}

async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = crypto.createHash('sha256');
  const bytes = await hashInto(file, hash);
  return { sha256: hash.digest('hex'), bytes };
}

async function hashInto(file: string, hash: crypto.Hash): Promise<number> {
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot open a folder; the rename is still atomic there.
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? err.message;
}

function brokeOff(url: string, received: number, total: number | null, reason: string): WorkbenchError {
  const of = total !== null ? ` of ${total}` : '';
  return new WorkbenchError(`The download of ${url} broke off after ${received}${of} bytes (${reason}). Run the same command again to resume it from there.`);
}

function unreachable(url: string, err: unknown, hint: string | undefined): WorkbenchError {
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  return new WorkbenchError(`Cannot reach ${host} to download ${url} (${describeError(err)}).${hint ? ` ${hint}` : ''}`, { cause: err });
}
