import type { ForkOptions } from 'electron';
import type { TrainerChannel, TrainerExit } from '../trainer/channel';

/**
 * The trainer channel over Electron's utilityProcess: the same entry file and protocol as the
 * CLI's child_process.fork channel (main/trainer/channel.ts), so TrainerHost and the
 * WorkbenchService cannot tell them apart. In the child, Electron provides `process.parentPort`
 * instead of `process.send`; the trainer entry speaks to whichever exists.
 *
 * Why a utilityProcess and not child_process.fork: fork needs ELECTRON_RUN_AS_NODE, which the
 * packaged app turns off (electron-builder.yml's runAsNode fuse, security checklist #19).
 */
/** What the channel uses of Electron's UtilityProcess: not a trainer link itself, the process the link wraps. */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'spawn', listener: () => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

export type ForkUtility = (modulePath: string, args: string[], options: ForkOptions) => UtilityProcessLike;

export interface UtilityChannelOptions {
  /** dist-electron/main/trainer/entry.js: the bundled trainer entry. */
  entry: string;
  env?: Record<string, string | undefined>;
  /** Shown in the OS task manager. */
  serviceName?: string;
}

export function createUtilityChannel(fork: ForkUtility, opts: UtilityChannelOptions, signalProcess: (pid: number, signal: NodeJS.Signals) => void = (pid, signal) => process.kill(pid, signal)): TrainerChannel {
  const child = fork(opts.entry, [], {
    serviceName: opts.serviceName ?? 'DenseNet Workbench trainer',
    env: opts.env,
    stdio: 'inherit',
  });
  const messageListeners: ((m: unknown) => void)[] = [];
  const exitListeners: ((e: TrainerExit) => void)[] = [];
  // Messages posted before the process has spawned are held back, then sent in order.
  let spawned = false;
  let exited: TrainerExit | null = null;
  const pending: unknown[] = [];

  child.on('spawn', () => {
    spawned = true;
    for (const m of pending.splice(0)) child.postMessage(m);
  });
  child.on('message', (message) => {
    for (const l of messageListeners) l(message);
  });
  child.on('exit', (code) => {
    // utilityProcess reports an exit code only; a crash or kill shows up as a non-zero code.
    exited = { code, signal: null };
    for (const l of exitListeners.splice(0)) l(exited);
  });

  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (exited) throw new Error(`The trainer process has exited (code ${exited.code}); start a new one.`);
      if (spawned) child.postMessage(message);
      else pending.push(message);
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onExit(listener) {
      // A listener added after the exit still hears about it, so no crash goes unreported.
      if (exited) queueMicrotask(() => listener(exited!));
      else exitListeners.push(listener);
    },
    /**
     * SIGTERM is utilityProcess.kill(): the trainer stops at the next step with a checkpoint, then
     * exits (TrainerHost.close uses it). Other signals, SIGKILL by default as in the fork channel,
     * go to the pid directly, since utilityProcess.kill() cannot send them.
     */
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (exited) return;
      if (signal === 'SIGTERM' || child.pid === undefined) child.kill();
      else signalProcess(child.pid, signal);
    },
  };
}
