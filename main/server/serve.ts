import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enginePorts, type TrainerChannelLike } from '../host/engine-ports';
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
  createChannel(): TrainerChannelLike;
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

/** Builds the renderer once if it is missing (a fresh checkout), with vite's own API. */
export async function ensureRenderer(dir: string, log: (line: string) => void): Promise<void> {
  if (existsSync(path.join(dir, 'index.html'))) return;
  log(`Building the renderer into ${dir} (first start only)…`);
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: dir } });
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
  const server = await startServer({ host: service, staticDir, bind: options.bind, port: options.port });
  return {
    server,
    service,
    close: async () => {
      await service.dispose();
      await server.close();
    },
  };
}
