import { promises as fs, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from './decode';

/**
 * Walks an image folder: one subfolder per class, optionally under train/, val/ and test/.
 * Hostile trees are expected: symlink loops, dangling links, FIFOs named like images, folders
 * that can't be listed. None of them stops the walk; each becomes a skipped entry with a reason.
 */

export type SplitName = 'train' | 'val' | 'test';

export interface Candidate {
  /** Absolute path as found (symlinks not resolved), used to read the file. */
  path: string;
  /** Path relative to the dataset root, with '/' separators: what reports and fingerprints show. */
  rel: string;
  cls: string;
  split: SplitName | null;
  size: number;
  mtimeMs: number;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface WalkResult {
  candidates: Candidate[];
  skipped: Skipped[];
  /** Class folder names in the order found; sorted later. */
  classes: Set<string>;
  /** Which split folders were present (empty for a flat layout). */
  splits: Set<SplitName>;
  errors: string[];
}

/** Folder names recognised as splits. `valid` and `validation` are common spellings of val/. */
const SPLIT_DIRS: Record<string, SplitName> = { train: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test' };

/** Deep enough for any real layout; a guard against pathological nesting, not a loop detector. */
const MAX_DEPTH = 32;

function errnoReason(err: unknown, what: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ELOOP':
      return `is a symbolic link loop (${what} never reaches a real file)`;
    case 'ENOENT':
      return 'is a broken symbolic link (its target does not exist)';
    case 'EACCES':
    case 'EPERM':
      return `cannot be read: permission denied (${code})`;
    case 'ENAMETOOLONG':
      return 'has a path that is too long for the file system';
    default:
      return `cannot be read (${code ?? (err as Error).message})`;
  }
}

function toRel(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join('/');
}

export async function walkImageFolder(root: string, signal?: AbortSignal): Promise<WalkResult> {
  const result: WalkResult = { candidates: [], skipped: [], classes: new Set(), splits: new Set(), errors: [] };
  let rootStat: Stats;
  try {
    rootStat = await fs.stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    result.errors.push(
      code === 'ENOENT'
        ? `Dataset folder ${root} does not exist.`
        : `Dataset folder ${root} cannot be opened (${code ?? (err as Error).message}).`,
    );
    return result;
  }
  if (!rootStat.isDirectory()) {
    result.errors.push(`Dataset path ${root} is a file, not a folder; give a folder with one subfolder per class, or a .csv manifest.`);
    return result;
  }
  const visited = new Set<string>([await fs.realpath(root)]);
  const top = await listDir(root, root, result);
  if (!top) {
    result.errors.push(`Dataset folder ${root} cannot be listed.`);
    return result;
  }
  const splitLayout = top.some((d) => SPLIT_DIRS[d.name] === 'train' && isDirLike(d));
  for (const entry of top) {
    signal?.throwIfAborted();
    const full = path.join(root, entry.name);
    const st = await statOrSkip(root, full, result);
    if (!st) continue;
    if (!st.isDirectory()) {
      result.skipped.push({ path: toRel(root, full), reason: splitLayout ? 'is not inside a split folder (train/, val/ or test/)' : 'is not inside a class folder' });
      continue;
    }
    if (splitLayout) {
      const split = SPLIT_DIRS[entry.name];
      if (!split) {
        result.skipped.push({ path: toRel(root, full) + '/', reason: 'is a folder beside train/ that is not a split (val/ or test/); it was not scanned' });
        continue;
      }
      result.splits.add(split);
      if (!(await enterDir(full, visited, root, result))) continue;
      for (const cls of (await listDir(full, root, result)) ?? []) {
        const clsPath = path.join(full, cls.name);
        const cst = await statOrSkip(root, clsPath, result);
        if (!cst) continue;
        if (!cst.isDirectory()) {
          result.skipped.push({ path: toRel(root, clsPath), reason: 'is not inside a class folder' });
          continue;
        }
        result.classes.add(cls.name);
        await walkClass(root, clsPath, cls.name, split, 0, visited, result, signal);
      }
    } else {
      result.classes.add(entry.name);
      await walkClass(root, full, entry.name, null, 0, visited, result, signal);
    }
  }
  return result;
}

function isDirLike(d: Dirent): boolean {
  return d.isDirectory() || d.isSymbolicLink();
}

async function listDir(dir: string, root: string, result: WalkResult): Promise<Dirent[] | null> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    // Code-point order, as Python's sorted() gives torchvision's ImageFolder: locale-independent.
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    result.skipped.push({ path: (toRel(root, dir) || '.') + '/', reason: `is a folder that cannot be listed (${code}); its files were not scanned` });
    return null;
  }
}

async function statOrSkip(root: string, p: string, result: WalkResult): Promise<Stats | null> {
  try {
    return await fs.stat(p);
  } catch (err) {
    result.skipped.push({ path: toRel(root, p), reason: errnoReason(err, 'following it') });
    return null;
  }
}

/** Marks a folder as visited; false (with a skipped entry) if a symlink brought us back to it. */
async function enterDir(dir: string, visited: Set<string>, root: string, result: WalkResult): Promise<boolean> {
  let real: string;
  try {
    real = await fs.realpath(dir);
  } catch (err) {
    result.skipped.push({ path: toRel(root, dir) + '/', reason: errnoReason(err, 'following it') });
    return false;
  }
  if (visited.has(real)) {
    result.skipped.push({
      path: toRel(root, dir) + '/',
      reason: 'is a symbolic link to a folder that was already scanned; it was not followed again, to avoid a loop or duplicate images',
    });
    return false;
  }
  visited.add(real);
  return true;
}

async function walkClass(
  root: string,
  dir: string,
  cls: string,
  split: SplitName | null,
  depth: number,
  visited: Set<string>,
  result: WalkResult,
  signal?: AbortSignal,
): Promise<void> {
  if (depth > MAX_DEPTH) {
    result.skipped.push({ path: toRel(root, dir) + '/', reason: `is nested more than ${MAX_DEPTH} folders deep; it was not scanned` });
    return;
  }
  if (!(await enterDir(dir, visited, root, result))) return;
  const entries = await listDir(dir, root, result);
  if (!entries) return;
  for (const entry of entries) {
    signal?.throwIfAborted();
    const full = path.join(dir, entry.name);
    const rel = toRel(root, full);
    const st = await statOrSkip(root, full, result);
    if (!st) continue;
    if (st.isDirectory()) {
      await walkClass(root, full, cls, split, depth + 1, visited, result, signal);
      continue;
    }
    const ext = path.extname(entry.name).toLowerCase();
    if (entry.name.startsWith('.')) {
      // .DS_Store, ._resource forks, editor swap files: never images worth training on.
      result.skipped.push({ path: rel, reason: 'is a hidden file' });
      continue;
    }
    if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext)) {
      result.skipped.push({ path: rel, reason: `is not an image file (extension "${ext || 'none'}"; accepted: ${IMAGE_EXTENSIONS.join(', ')})` });
      continue;
    }
    if (!st.isFile()) {
      // A FIFO or device named like an image would block or stream forever if read.
      result.skipped.push({ path: rel, reason: 'is not a regular file (a pipe, socket or device); it was not read' });
      continue;
    }
    if (st.size === 0) {
      result.skipped.push({ path: rel, reason: 'is empty (0 bytes)' });
      continue;
    }
    result.candidates.push({ path: full, rel, cls, split, size: st.size, mtimeMs: st.mtimeMs });
  }
}
