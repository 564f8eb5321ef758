// The renderer's build (dist/renderer), kept fresh: the one rule for `npm start`
// (scripts/start.mjs, plain Node) and `densenet-workbench serve` (./serve.ts), so both rebuild
// exactly when the other would. Plain JavaScript because scripts/start.mjs runs without tsx;
// ./renderer-build.d.mts gives serve.ts its types.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIR = path.join(ROOT, 'dist', 'renderer');

/** What the build is made from: a change to any of them makes the build stale. */
const SOURCES = ['renderer', 'shared', 'vite.config.ts', 'package.json'].map((p) => path.join(ROOT, p));

/** Newest modification time under `p` (0 when it does not exist), leaving out node_modules and dot files. */
function newest(p) {
  let info;
  try {
    info = statSync(p);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let t = 0;
  for (const name of readdirSync(p)) if (name !== 'node_modules' && !name.startsWith('.')) t = Math.max(t, newest(path.join(p, name)));
  return t;
}

/**
 * Builds the renderer into `dir` with vite's own API when its build is missing, or, for the
 * default folder, older than its sources (a checkout after a pull). A folder given by hand is
 * built only when missing: it is someone's own build. The build goes to a temporary folder that
 * is then swapped in, so a server running meanwhile never serves a half-written build.
 */
export async function ensureRendererBuild(dir = RENDERER_DIR, log = () => undefined) {
  const index = path.join(dir, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  if (built > 0 && (path.resolve(dir) !== RENDERER_DIR || !existsSync(SOURCES[0]) || Math.max(...SOURCES.map(newest)) <= built)) return false;
  log(built ? `Rebuilding the renderer (its sources changed) into ${dir}…` : `Building the renderer into ${dir} (first start only)…`);
  const { build } = await import('vite');
  const tmp = `${dir}.tmp-${process.pid}`;
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: tmp, emptyOutDir: true } });
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
  return true;
}
