import { WorkbenchError, toErrorData } from '../../shared/errors';
import type { TrainerCommand, TrainerEvent } from '../../shared/protocol';
import { tfjsPorts, type TrainRunPorts } from '../engine/run/ports';
import { TrainRun } from '../engine/run/train-run';
import type { StopCause } from '../engine/train/control';

export type { StopCause } from '../engine/train/control';

/**
 * The trainer process's protocol adapter: turns each validated command into a call on the run in
 * progress (main/engine/run/train-run.ts, which does the work and writes the run folder), and
 * answers a command that cannot apply with a non-fatal `error` event. One run at a time.
 * Independent of the transport: ./entry wires it to child_process IPC or Electron's parentPort.
 */
export class TrainerSession {
  private run: TrainRun | null = null;

  constructor(private readonly send: (event: TrainerEvent) => void, private readonly ports: TrainRunPorts = tfjsPorts) {}

  get busy(): boolean {
    return this.run !== null;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.run) await this.run.done;
  }

  handle(command: TrainerCommand): void {
    switch (command.type) {
      case 'start':
      case 'resumeRun': {
        if (this.run) return this.refuse(`Run ${this.run.runId} is still in progress; stop it before starting another.`);
        const run = new TrainRun(command.type === 'start'
          ? { kind: 'start', runDir: command.runDir, name: command.name, model: command.model, settings: command.settings, dataset: command.dataset }
          : { kind: 'resume', runDir: command.runDir }, this.send, this.ports);
        this.run = run;
        void run.done.finally(() => {
          if (this.run === run) this.run = null;
        });
        return;
      }
      case 'pause':
        return this.withRun('pause', (r) => r.control.pause());
      case 'resume':
        return this.withRun('resume', (r) => r.control.resume());
      case 'stop':
        return this.stop('user');
      case 'snapshot':
        return this.withRun('snapshot', (r) => r.control.requestSnapshot());
      case 'inspect':
        if (!this.run) return this.refuse('No run is training in this trainer; inspect a finished run from its checkpoints instead.');
        void this.run.inspect(command.what, command.sample ?? 0);
        return;
    }
  }

  /** Stops the run at the next step boundary, with a checkpoint. */
  stop(cause: StopCause): void {
    if (!this.run) {
      if (cause === 'user') this.refuse('No run is training; there is nothing to stop.');
      return;
    }
    this.run.stop(cause);
  }

  private withRun(what: string, fn: (run: TrainRun) => void): void {
    if (!this.run) return this.refuse(`No run is training; cannot ${what}.`);
    fn(this.run);
  }

  /** A command that cannot apply: a non-fatal error, in the run's record when a run is open. */
  private refuse(message: string): void {
    const err = new WorkbenchError(message);
    if (this.run) this.run.warn(err);
    else this.send({ type: 'error', error: toErrorData(err), fatal: false, time: this.ports.now() });
  }
}
