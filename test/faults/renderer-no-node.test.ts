import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The renderer reaches the file system only through WorkbenchApi. Walks the import
 * graph from the renderer's entry (renderer/index.html -> src/main.ts, every relative import, .vue
 * files included) and checks that every file it reaches lives in renderer/ or shared/, imports no
 * Node built-in, no Electron and no host code, uses no Node global, and that only the api module
 * touches the preload bridge. (The window's nodeIntegration/contextIsolation/sandbox settings and
 * the preload's exposed surface are asserted in test/unit/electron/security.test.ts and preload.test.ts.)
 */
const ROOT = path.resolve('.');
const ENTRY = path.join(ROOT, 'renderer', 'src', 'main.ts');
/** Packages the renderer may bundle: browser libraries only. */
const BROWSER_PACKAGES = new Set(['vue', 'pinia', 'chart.js', 'zod']);
const NODE_GLOBALS = /\b(require\s*\(|process\.(env|versions|platform|cwd|exit|on\b)|__dirname|__filename|Buffer\.|globalThis\.process|module\.exports|ipcRenderer)/;

function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function resolveLocal(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.vue`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(ROOT, from)} imports ${spec}, which does not resolve.`);
}

function walk(): { files: string[]; packages: Set<string>; problems: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const problems: string[] = [];
  const queue = [ENTRY];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const rel = path.relative(ROOT, file);
    if (!rel.startsWith(`renderer${path.sep}`) && !rel.startsWith(`shared${path.sep}`)) problems.push(`${rel} is outside renderer/ and shared/`);
    let source = fs.readFileSync(file, 'utf8');
    // Comments may mention require() or process.env; strip them before looking for uses.
    source = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1').replace(/<!--[\s\S]*?-->/g, '');
    const used = NODE_GLOBALS.exec(source);
    if (used) problems.push(`${rel} uses the Node global ${used[1]}`);
    for (const spec of specifiers(source)) {
      if (spec.startsWith('.')) {
        if (/\.(css|svg|png)$/.test(spec)) continue;
        queue.push(resolveLocal(file, spec));
        continue;
      }
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (spec.startsWith('node:') || builtinModules.includes(name)) problems.push(`${rel} imports the Node module ${spec}`);
      else if (name === 'electron') problems.push(`${rel} imports electron`);
      else packages.add(name);
    }
  }
  return { files: [...seen], packages, problems };
}

describe('the renderer has no access to Node', () => {
  const graph = walk();

  it('reaches only renderer/ and shared/ code, with no Node module, global or Electron', () => {
    expect(graph.problems).toEqual([]);
    expect(graph.files.length).toBeGreaterThan(10);
    expect(graph.files.some((f) => f.includes(`${path.sep}shared${path.sep}`))).toBe(true);
  });

  it('bundles browser packages only', () => {
    expect([...graph.packages].filter((p) => !BROWSER_PACKAGES.has(p))).toEqual([]);
  });

  it('touches the preload bridge only in its api module, and only through PRELOAD_GLOBAL', () => {
    const bridged = graph.files.filter((f) => /\bPRELOAD_GLOBAL\b|window\.workbench\b/.test(fs.readFileSync(f, 'utf8')));
    expect(bridged.map((f) => path.relative(ROOT, f)).filter((f) => !f.startsWith('shared'))).toEqual([path.join('renderer', 'src', 'api', 'index.ts')]);
  });

  it('every renderer source file is part of that graph or a declaration', () => {
    const all: string[] = [];
    const list = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) list(p);
        else if (/\.(ts|vue)$/.test(e.name) && !e.name.endsWith('.d.ts')) all.push(p);
      }
    };
    list(path.join(ROOT, 'renderer', 'src'));
    // A file outside the graph would escape the checks above; say which.
    const reached = new Set(graph.files);
    const stray = all.filter((f) => !reached.has(f));
    for (const f of stray) {
      const source = fs.readFileSync(f, 'utf8');
      expect(NODE_GLOBALS.test(source), `${f} uses a Node global`).toBe(false);
      expect(specifiers(source).filter((s) => s.startsWith('node:') || builtinModules.includes(s) || s === 'electron'), f).toEqual([]);
    }
  });
});
