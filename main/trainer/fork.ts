import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { relaxedSimdNodeFlags } from '../engine/backend/wasm/relaxed-simd';
import type { TrainerChannel, TrainerExit } from './channel';

/**
 * The TF.js trainer as a child_process.fork of ./entry.ts (run through tsx), for the CLI and serve.
 * Electron starts the same entry as a utilityProcess instead (main/electron/utility-channel.ts).
 */
/** Path of the trainer entry (TypeScript, run through tsx). */
export const TRAINER_ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

/** `--import` argument that lets a plain `node` child run TypeScript (tsx's loader), as a file URL so it resolves from any cwd. */
export function tsxImportArg(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { exports: Record<string, string | Record<string, string>> };
  const main = pkg.exports['.'];
  const rel = typeof main === 'string' ? main : (main.import ?? main.default);
  return pathToFileURL(path.join(path.dirname(pkgFile), rel)).href;
}

export interface ForkOptions {
  /** Extra environment for the trainer. */
  env?: NodeJS.ProcessEnv;
  /** Where the trainer's stdout/stderr go; default: inherited. */
  stdio?: 'inherit' | 'ignore' | 'pipe';
  cwd?: string;
}

/** A TrainerChannel over child_process.fork of ./entry.ts. */
export function forkTrainer(options: ForkOptions = {}): TrainerChannel {
  const out = options.stdio ?? 'inherit';
  const child: ChildProcess = fork(TRAINER_ENTRY, [], {
    // Node 20 runs the wasm kernels' relaxed-SIMD (fused multiply-add) build only with a V8 flag.
    execArgv: ['--import', tsxImportArg(), ...relaxedSimdNodeFlags()],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', out, out, 'ipc'],
    serialization: 'json',
  });
  const exitListeners: ((e: TrainerExit) => void)[] = [];
  let exited: TrainerExit | null = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    for (const l of exitListeners) l(exited);
  });
  // A failed spawn emits 'error' (and no 'exit' when it never started); report it as an exit.
  child.once('error', () => {
    if (exited === null && child.exitCode === null && child.pid === undefined) {
      exited = { code: null, signal: null };
      for (const l of exitListeners) l(exited);
    }
  });
  return {
    pid: child.pid,
    send(message) {
      if (!child.connected) throw new Error('The trainer process is no longer connected.');
      child.send(message as object);
    },
    onMessage(listener) {
      child.on('message', listener);
    },
    onExit(listener) {
      if (exited) listener(exited);
      else exitListeners.push(listener);
    },
    kill(signal = 'SIGKILL') {
      if (exited === null) child.kill(signal);
    },
    disconnect() {
      if (child.connected) child.disconnect();
    },
  };
}
