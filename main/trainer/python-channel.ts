import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { TrainerCommand, TrainerEvent } from '../../shared/protocol';
import { toErrorData } from '../../shared/errors';
import { PACKAGE_ROOT } from '../engine/pytorch/detect';
import type { TrainerChannel, TrainerExit } from './channel';

/**
 * The PyTorch engine's trainer process behind the same channel as the TF.js trainer: a Python
 * child speaking the trainer protocol as JSON lines (commands on its stdin, events on its stdout),
 * or, with `nproc` > 1, torchrun starting that many processes of it (DistributedDataParallel; rank 0
 * speaks for them). TrainerHost validates every event it passes on, so a malformed line is
 * refused there with its reason, and the host stays up.
 *
 * A `start` is prepared here before the trainer sees it (`prepare`: the dataset decoded with sharp
 * into the run's dataset cache, config.json written; main/engine/pytorch/prepare.ts), because the
 * Python side reads images only from that cache: both engines then train on identical pixels. A
 * `resumeRun` of a run without a cache (a TF.js run, or a cache deleted after the run) gets one
 * first too. Commands sent meanwhile wait their turn.
 */
export type StartCommand = Extract<TrainerCommand, { type: 'start' }>;
export type ResumeRunCommand = Extract<TrainerCommand, { type: 'resumeRun' }>;

export interface PythonTrainerOptions {
  /** The interpreter (main/engine/pytorch/detect.ts finds one). */
  python: string;
  /** Processes on this machine; > 1 trains with DistributedDataParallel through torchrun. */
  nproc?: number;
  env?: NodeJS.ProcessEnv;
  /** Where the trainer's stderr goes (Python's warnings and tracebacks); default: this process's stderr. */
  stderr?: (text: string) => void;
  /** Makes the run folder of a `start` ready for the Python side; events it emits reach the host. */
  prepare(command: StartCommand, emit: (event: TrainerEvent) => void): Promise<void>;
  /** Makes sure a run to resume has its dataset cache. */
  ensureCache(command: ResumeRunCommand, emit: (event: TrainerEvent) => void): Promise<void>;
}

/** The command line of the trainer: the protocol mode, under torchrun when nproc > 1. */
export function pythonTrainerArgs(nproc = 1): string[] {
  if (nproc <= 1) return ['-m', 'densenet_torch', '--protocol'];
  return ['-m', 'densenet_torch.torchrun', '--standalone', `--nproc_per_node=${nproc}`, '-m', 'densenet_torch', '--protocol'];
}

export function spawnPythonTrainer(options: PythonTrainerOptions): TrainerChannel {
  const env = { ...process.env, ...options.env };
  env.PYTHONPATH = [PACKAGE_ROOT, env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const child: ChildProcess = spawn(options.python, pythonTrainerArgs(options.nproc), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const messageListeners: ((m: unknown) => void)[] = [];
  const exitListeners: ((e: TrainerExit) => void)[] = [];
  let exited: TrainerExit | null = null;
  const deliver = (m: unknown) => {
    for (const l of [...messageListeners]) l(m);
  };

  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim() === '') continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        // Passed on as text: the host refuses it with a reason ("not an object") and goes on.
        message = line.length > 500 ? `${line.slice(0, 500)}…` : line;
      }
      deliver(message);
    }
  });
  const stderr = options.stderr ?? ((t: string) => process.stderr.write(t));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => stderr(t));
  // Writing to a trainer that has just died raises EPIPE on the pipe, not at the call: its exit reports it.
  child.stdin!.on('error', () => undefined);

  const finish = (e: TrainerExit) => {
    if (exited) return;
    exited = e;
    for (const l of exitListeners) l(e);
  };
  child.once('exit', (code, signal) => finish({ code, signal }));
  child.once('error', (err) => {
    // A failed spawn (no such interpreter) has no exit event: report it as one, after saying why.
    if (child.pid === undefined) {
      deliver({ type: 'log', level: 'error', message: `Could not start ${options.python}: ${err.message}`, time: Date.now() });
      finish({ code: null, signal: null });
    }
  });

  // Commands go out in order; a start or a resume may first need the run prepared, here.
  let queue: Promise<void> = Promise.resolve();
  const write = (message: unknown) => {
    if (!exited && child.stdin!.writable) child.stdin!.write(`${JSON.stringify(message)}\n`);
  };
  const failed = (runDir: string, err: unknown) => {
    const runId = path.basename(runDir);
    const error = toErrorData(err);
    const now = Date.now();
    deliver({ type: 'error', runId, error, fatal: true, time: now });
    deliver({ type: 'finished', runId, reason: 'failed', message: error.message, step: 0, epoch: 0, bestValAccuracy: null, time: now });
  };

  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      const m = message as TrainerCommand;
      if (m?.type === 'start' || m?.type === 'resumeRun') {
        queue = queue.then(async () => {
          try {
            if (m.type === 'start') await options.prepare(m, deliver);
            else await options.ensureCache(m, deliver);
          } catch (err) {
            failed(m.runDir, err);
            return;
          }
          write(m);
        });
      } else {
        queue = queue.then(() => write(m));
      }
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onExit(listener) {
      if (exited) listener(exited);
      else exitListeners.push(listener);
    },
    kill(signal = 'SIGKILL') {
      if (!exited) child.kill(signal);
    },
    disconnect() {
      // End of stdin: the trainer stops at the next step with a checkpoint, and exits.
      void queue.then(() => child.stdin!.end());
    },
  };
}
