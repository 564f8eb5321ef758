import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { isLoopback } from '../../server/auth';
import { ROOT, serve } from '../../server/serve';
import { engineChannel } from '../../trainer/engine-channel';
import { forkTrainer } from '../../trainer/fork';
import { addRunsOption, runsDirOf } from '../runs-option';

/**
 * `densenet-workbench serve`: the workbench in a browser (headless or remote training boxes).
 * Loopback only by default; prints a URL with a random access token; datasets can be browsed only
 * under the --root folders. Ctrl-C stops a live run cleanly (it checkpoints) before exiting.
 */
interface ServeFlags {
  port: string;
  host: string;
  root: string[];
  runs?: string;
  open: boolean;
  renderer?: string;
}

function openBrowser(url: string): void {
  const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (!hasDisplay || process.env.BROWSER === 'none') return;
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The URL is printed; opening it is a convenience.
  }
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('Serve the workbench UI to a browser (token-protected, loopback by default).')
    .option('--port <n>', 'port to listen on; 0 picks a free one', '0')
    .option('--host <addr>', 'address to bind; anything but loopback exposes the workbench to your network', '127.0.0.1')
    .addOption(new Option('--root <dir...>', 'folders whose sub-folders may be browsed for datasets (repeatable)').default([]))
    .option('--no-open', 'do not open a browser')
    .option('--renderer <dir>', 'serve this renderer build instead of dist/renderer (built there when missing)');
  addRunsOption(command).action(async (flags: ServeFlags) => {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new WorkbenchError(`--port must be an integer in [0, 65535]; got "${flags.port}".`);
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const serving = await serve({ bind: flags.host, port, roots: flags.root, runsDir: runsDirOf({ runs: flags.runs }), createChannel: (settings) => engineChannel({ tfjs: () => forkTrainer(), settings }), version, log, staticDir: flags.renderer ? path.resolve(flags.renderer) : undefined }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new WorkbenchError(`Port ${port} on ${flags.host} is in use; pick another with --port, or 0 for any free port.`);
      if (err.code === 'EADDRNOTAVAIL') throw new WorkbenchError(`Cannot bind to ${flags.host}: no such address on this machine.`);
      throw err;
    });
    if (!isLoopback(flags.host)) log(`Warning: listening on ${flags.host}; anyone who can reach this address and has the token can train on this machine.`);
    if (flags.root.length === 0) log('No --root given: only the built-in datasets can be picked. Add --root DIR to browse dataset folders.');
    // The URL line is on stdout, alone, so scripts (npm start's fallback, tests) can read it.
    process.stdout.write(`DenseNet Workbench: ${serving.server.url}\n`);
    if (flags.open) openBrowser(serving.server.url);
    await new Promise<void>((resolve) => {
      let closing = false;
      const stop = () => {
        if (closing) return;
        closing = true;
        log('Stopping: the live run (if any) checkpoints first…');
        void serving.close().finally(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}
