import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';

/**
 * Where exports land. File-system failures become sentences naming the path and the reason, since
 * an unwritable `--out` is the most common user error of an export.
 */
export function prepareOutputDir(dir: string): string {
  const resolved = path.resolve(dir);
  try {
    makeDirs(resolved);
  } catch (err) {
    throw unwritable(resolved, err, true);
  }
  if (!fs.statSync(resolved).isDirectory()) throw new WorkbenchError(`Cannot export to ${resolved}: it is a file, not a folder.`);
  return resolved;
}

export function writeOutputFile(file: string, data: Uint8Array | string): void {
  try {
    makeDirs(path.dirname(path.resolve(file)));
  } catch (err) {
    throw unwritable(file, err, true);
  }
  try {
    fs.writeFileSync(file, data);
  } catch (err) {
    throw unwritable(file, err);
  }
}

/**
 * mkdir -p, one level at a time. Porting note: Node's `mkdirSync(dir, { recursive: true })` spins
 * forever on some paths it cannot create (e.g. under /proc, where mkdir reports ENOENT for a parent
 * that exists), so the loop here stops at the first failure.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  while (!fs.existsSync(current)) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing) fs.mkdirSync(d);
}

/** `creatingFolders`: mkdir -p reports EEXIST when a file sits where a folder of the path should be. */
function unwritable(target: string, err: unknown, creatingFolders = false): Error {
  const raw = (err as NodeJS.ErrnoException).code;
  const code = creatingFolders && raw === 'EEXIST' ? 'ENOTDIR' : raw;
  const reasons: Record<string, string> = {
    ENOTDIR: 'a part of the path is a file, not a folder',
    EACCES: 'permission denied',
    EPERM: 'the operation is not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
    EEXIST: 'a file is in the way',
    EISDIR: 'it is a folder',
    ENOENT: 'a part of the path does not exist and cannot be created',
  };
  if (code && reasons[code]) return new WorkbenchError(`Cannot write ${target}: ${reasons[code]} (${code}).`, { cause: err });
  return new WorkbenchError(`Cannot write ${target}: ${(err as Error).message}`, { cause: err });
}
