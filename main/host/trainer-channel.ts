import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrainerChannelLike } from './engine-ports';

/**
 * The trainer process for serve (and the CLI): main/trainer/entry.ts under Node with tsx, talking
 * over child_process IPC. Electron passes its utilityProcess channel instead (main/electron).
 */
const ENTRY = fileURLToPath(new URL('../trainer/entry.ts', import.meta.url));

export function forkTrainerChannel(): TrainerChannelLike {
  const child = fork(ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  let exited = false;
  const exitListeners: ((x: { code: number | null; signal: string | null }) => void)[] = [];
  child.on('exit', (code, signal) => {
    exited = true;
    for (const l of exitListeners) l({ code, signal });
  });
  // A send to a process that just died must not crash the host.
  child.on('error', () => undefined);
  return {
    send: (message) => {
      if (!exited && child.connected) child.send(message as object);
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => exitListeners.push(l),
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
