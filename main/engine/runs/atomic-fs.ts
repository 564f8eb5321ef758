import * as nodeFs from 'node:fs';
import * as path from 'node:path';

/**
 * The few synchronous fs calls an atomic write needs. Injectable so tests can simulate a full disk
 * (ENOSPC) or a crash between any two calls, without touching the real file system's behaviour.
 */
export interface AtomicFs {
  openSync(file: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(file: string): void;
}

export const realFs: AtomicFs = {
  openSync: (file, flags, mode) => nodeFs.openSync(file, flags, mode),
  writeSync: (fd, data, offset, length) => nodeFs.writeSync(fd, data, offset, length),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  unlinkSync: (file) => nodeFs.unlinkSync(file),
};

let tempCounter = 0;

/**
 * Writes `data` to `file` so that a reader sees either the old file or the complete new one, never
 * a torn one: write a temp file in the same folder, fsync it, rename it over the target, fsync the
 * folder so the rename itself survives a power cut. On any failure the temp file is removed and the
 * target is untouched.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string, fs: AtomicFs = realFs): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter++}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    let written = 0;
    while (written < bytes.length) {
      const n = fs.writeSync(fd, bytes, written, bytes.length - written);
      if (n <= 0) throw new Error(`Writing ${tmp} made no progress after ${written} of ${bytes.length} bytes.`);
      written += n;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) {
      try { fs.closeSync(fd); } catch { /* already failing; the original error matters */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* the temp file may not exist */ }
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/** fsync a directory so renames and creations in it are durable. Not supported on Windows: ignored there. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = nodeFs.openSync(dir, 'r');
    nodeFs.fsyncSync(fd);
  } catch {
    // EISDIR/EPERM on Windows: directories cannot be fsynced there; NTFS journals renames anyway.
  } finally {
    if (fd !== null) nodeFs.closeSync(fd);
  }
}

/** Removes temp files left by a writer that died between open and rename. */
export function removeStaleTempFiles(dir: string): void {
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.') && name.endsWith('.tmp')) {
      try { nodeFs.unlinkSync(path.join(dir, name)); } catch { /* raced with another cleaner */ }
    }
  }
}
