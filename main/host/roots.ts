import { promises as fs } from 'node:fs';
import path from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import type { FolderListing } from '../../shared/api';

/**
 * The file system as the UI may see it: only folders under a fixed set of roots (browser mode's
 * --root flags). Every path is resolved with realpath before the check, so `..`,
 * absolute escapes and symlinks pointing out of a root are all refused the same way.
 */
export class Roots {
  private constructor(
    /** Real paths of the roots, without trailing separators. */
    readonly real: readonly string[],
  ) {}

  /** Resolves each root to its real path; a root that does not exist is a user error. */
  static async create(roots: readonly string[]): Promise<Roots> {
    const real: string[] = [];
    for (const root of roots) {
      try {
        const r = await fs.realpath(path.resolve(root));
        if (!(await fs.stat(r)).isDirectory()) throw new Error('not a directory');
        if (!real.includes(r)) real.push(r);
      } catch {
        throw new WorkbenchError(`Dataset root ${JSON.stringify(root)} is not an existing folder; pass folders that exist to --root.`);
      }
    }
    return new Roots(real);
  }

  /** True when `real` (already a real path) is a root or lies under one. */
  contains(real: string): boolean {
    return this.real.some((root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
  }

  /**
   * The real path of `p` if it lies under a root; otherwise a WorkbenchError naming the path and
   * the roots. Relative paths are refused: the UI only ever sends paths it got from a listing.
   */
  async resolve(p: string): Promise<string> {
    if (p.includes('\0')) throw new WorkbenchError('Paths may not contain NUL bytes.');
    if (!path.isAbsolute(p)) throw new WorkbenchError(`Path ${JSON.stringify(p)} must be absolute (pick it from the folder browser).`);
    if (p.split(/[\\/]/).includes('..')) throw new WorkbenchError(`Path ${JSON.stringify(p)} may not contain "..".`);
    let real: string;
    try {
      real = await fs.realpath(p);
    } catch {
      throw new WorkbenchError(`Path ${JSON.stringify(p)} does not exist or cannot be read.`);
    }
    if (!this.contains(real)) throw this.outside(p);
    return real;
  }

  /**
   * Like `resolve` for a path that may not exist yet (an export folder): its nearest existing
   * ancestor must resolve under a root.
   */
  async resolveForWrite(p: string): Promise<string> {
    if (!path.isAbsolute(p) || p.includes('\0') || p.split(/[\\/]/).includes('..')) {
      throw new WorkbenchError(`Output path ${JSON.stringify(p)} must be absolute and may not contain "..".`);
    }
    let existing = p;
    const rest: string[] = [];
    for (;;) {
      try {
        const real = await fs.realpath(existing);
        if (!this.contains(real)) throw this.outside(p);
        return path.join(real, ...rest.reverse());
      } catch (err) {
        if (err instanceof WorkbenchError) throw err;
        const parent = path.dirname(existing);
        if (parent === existing) throw this.outside(p);
        rest.push(path.basename(existing));
        existing = parent;
      }
    }
  }

  /** Lists the sub-folders (and image files, for context) of `p`, or the roots when `p` is absent. */
  async list(p: string | undefined, maxEntries = 2000): Promise<FolderListing> {
    if (p === undefined) {
      return { path: null, parent: null, truncated: false, entries: this.real.map((r) => ({ name: r, path: r, kind: 'dir' as const })) };
    }
    const real = await this.resolve(p);
    const dirents = await fs.readdir(real, { withFileTypes: true }).catch(() => {
      throw new WorkbenchError(`Folder ${JSON.stringify(p)} cannot be listed; check that it is a readable folder.`);
    });
    const entries: FolderListing['entries'] = [];
    for (const d of dirents) {
      if (d.name.startsWith('.')) continue;
      const child = path.join(real, d.name);
      let kind: 'dir' | 'file' | null = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : null;
      if (d.isSymbolicLink()) {
        // A link is listed only when its target stays under a root (and exists).
        const target = await fs.realpath(child).catch(() => null);
        if (target === null || !this.contains(target)) continue;
        kind = (await fs.stat(target)).isDirectory() ? 'dir' : 'file';
      }
      if (kind === null) continue;
      entries.push({ name: d.name, path: child, kind });
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const isRoot = this.real.includes(real);
    return { path: real, parent: isRoot ? null : path.dirname(real), entries: entries.slice(0, maxEntries), truncated: entries.length > maxEntries };
  }

  private outside(p: string): WorkbenchError {
    const where = this.real.length ? this.real.map((r) => JSON.stringify(r)).join(', ') : 'none (start serve with --root DIR)';
    return new WorkbenchError(`Path ${JSON.stringify(p)} is outside the folders this workbench may read; allowed roots: ${where}.`);
  }
}
