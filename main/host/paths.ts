import { promises as fs } from 'node:fs';
import path from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import type { Roots } from './roots';

/**
 * The paths a browser-mode UI may hand the host: dataset folders under the roots, and export
 * folders under the roots or inside the run store. Electron passes `restrict: false`: its paths
 * come from native dialogs the user drove.
 */
export class PathPolicy {
  constructor(private readonly roots: Roots, private readonly runsDir: string, private readonly restrict: boolean) {}

  /** A folder to read (a dataset). */
  async readable(p: string): Promise<string> {
    return this.restrict ? this.roots.resolve(p) : p;
  }

  /** A folder to write (an export). */
  async writable(p: string): Promise<string> {
    if (!this.restrict) return p;
    const runsReal = path.resolve(this.runsDir);
    const resolved = path.resolve(p);
    if (resolved === runsReal || resolved.startsWith(runsReal + path.sep)) {
      if (p.split(/[\\/]/).includes('..')) throw new WorkbenchError(`Output path ${JSON.stringify(p)} may not contain "..".`);
      // A symlink inside the store (runs/<id>/exports -> /elsewhere) must not carry a write out of it.
      const [realStore, real] = await Promise.all([fs.realpath(runsReal), realpathOfNearest(resolved)]);
      if (real !== realStore && !real.startsWith(realStore + path.sep)) {
        throw new WorkbenchError(`Output path ${JSON.stringify(p)} leads outside the run store through a symbolic link (to ${real}).`);
      }
      return resolved;
    }
    return this.roots.resolveForWrite(p);
  }
}

/** realpath of `p`, or of its nearest existing ancestor with the rest appended (for folders yet to be made). */
async function realpathOfNearest(p: string): Promise<string> {
  const rest: string[] = [];
  let at = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(at), ...rest.reverse());
    } catch (err) {
      const parent = path.dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw err;
      rest.push(path.basename(at));
      at = parent;
    }
  }
}

/** An export's folder and files relative to its run folder, with `/`, when they all lie inside it. */
export function inRun(runDir: string, outDir: string, files: string[]): { inRun?: { dir: string; files: string[] } } {
  const rel = (p: string) => {
    const r = path.relative(runDir, path.resolve(p));
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r.split(path.sep).join('/') : null;
  };
  const dir = rel(outDir);
  const inside = files.map(rel);
  if (dir === null || inside.some((f) => f === null)) return {};
  return { inRun: { dir, files: inside as string[] } };
}
