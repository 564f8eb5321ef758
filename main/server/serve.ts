import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enginePorts, type EnginePortsOptions } from '../host/engine-ports';
import { Roots } from '../host/roots';
import { WorkbenchService } from '../host/workbench-service';
import { startServer, type RunningServer } from './server';

/**
 * Browser mode, assembled: the renderer build, the WorkbenchService over the real engine and a
 * trainer process per run, and the HTTP/WebSocket server. The CLI command (main/cli/commands/serve.ts)
 * and tests call this; it returns once the server listens.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIR = path.join(ROOT, 'dist', 'renderer');

export interface ServeOptions {
  bind: string;
  port: number;
  roots: string[];
  runsDir: string;
  createChannel: EnginePortsOptions['createChannel'];
  /** Where the built renderer is; built with vite when index.html is missing. */
  staticDir?: string;
  version?: string;
  log?: (line: string) => void;
}

export interface Serving {
  server: RunningServer;
  service: WorkbenchService;
  /** Stops a live run (it checkpoints), then closes the server. */
  close(): Promise<void>;
}

/** Newest modification time under `dir` (0 when it does not exist). */
function newest(dir: string): number {
  let t = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds the renderer with vite's own API when its build is missing, or older than the sources
 * (a git checkout after a pull). The build goes to a temporary folder that is then swapped in, so
 * a concurrent server never serves a half-written build.
 */
export async function ensureRenderer(dir: string, log: (line: string) => void): Promise<void> {
  const index = path.join(dir, 'index.html');
  const sources = [path.join(ROOT, 'renderer'), path.join(ROOT, 'shared')];
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  if (built > 0 && (dir !== RENDERER_DIR || !existsSync(sources[0]) || Math.max(...sources.map(newest)) <= built)) return;
  log(built ? `Rebuilding the renderer (its sources changed) into ${dir}…` : `Building the renderer into ${dir} (first start only)…`);
  const { build } = await import('vite');
  const tmp = `${dir}.tmp-${process.pid}`;
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: tmp, emptyOutDir: true } });
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const log = options.log ?? (() => undefined);
  const staticDir = options.staticDir ?? RENDERER_DIR;
  await ensureRenderer(staticDir, log);
  const runsDir = path.resolve(options.runsDir);
  mkdirSync(runsDir, { recursive: true });
  const roots = await Roots.create(options.roots);
  const service = new WorkbenchService({
    ports: enginePorts({ runsDir, createChannel: options.createChannel }),
    roots,
    runsDir,
    mode: 'browser',
    version: options.version ?? '0.0.0',
    restrictPaths: true,
  });
  const server = await startServer({ host: service, staticDir, bind: options.bind, port: options.port, runsDir });
  return {
    server,
    service,
    close: async () => {
      await service.dispose();
      await server.close();
    },
  };
}
