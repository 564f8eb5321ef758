import { WorkbenchError, toErrorData } from '../../shared/errors';
import type { TrainerCommand, TrainerEvent } from '../../shared/protocol';
import { InspectRunWorker } from '../engine/run/inspect-worker';
import { tfjsPorts, type TrainRunPorts } from '../engine/run/ports';
import { TrainRun } from '../engine/run/train-run';
import type { StopCause } from '../engine/train/control';

export type { StopCause } from '../engine/train/control';

/**
 * The trainer process's protocol adapter: turns each validated command into a call on the work in
 * progress (main/engine/run: a training session, train-run.ts, which writes the run folder; or an
 * inspection of a run that is not training, inspect-worker.ts), and answers a command that cannot
 * apply with a non-fatal `error` event. One piece of work at a time. Independent of the transport:
 * ./entry wires it to child_process IPC or Electron's parentPort.
 */
export class TrainerSession {
  private run: TrainRun | null = null;
  private inspecting: Promise<void> | null = null;
  private readonly worker: InspectRunWorker;

  constructor(private readonly send: (event: TrainerEvent) => void, private readonly ports: TrainRunPorts = tfjsPorts) {
    this.worker = new InspectRunWorker(send, ports.now);
  }

  get busy(): boolean {
    return this.run !== null || this.inspecting !== null;
  }

  /** Resolves when no work is in progress. */
  async idle(): Promise<void> {
    while (this.run || this.inspecting) await (this.run?.done ?? this.inspecting);
  }

  handle(command: TrainerCommand): void {
    switch (command.type) {
      case 'start':
      case 'resumeRun': {
        if (this.run) return this.refuse(`Run ${this.run.runId} is still in progress; stop it before starting another.`);
        if (this.inspecting) return this.refuse('This trainer is inspecting a run; start training in another trainer.');
        const run = new TrainRun(command.type === 'start'
          ? { kind: 'start', runDir: command.runDir, name: command.name, model: command.model, settings: command.settings, dataset: command.dataset, startFrom: command.startFrom }
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
      case 'inspect': {
        if (!this.run) return this.refuse('No run is training in this trainer; inspect a finished run from its checkpoints instead.');
        const { type: _type, ...request } = command;
        void this.run.inspect(request);
        return;
      }
      case 'cancelInspect':
        if (this.run?.cancelInspect(command.requestId) || this.worker.cancel(command.requestId)) return;
        return this.refuse(`No inspection ${command.requestId} is in progress in this trainer; there is nothing to cancel.`);
      case 'inspectRun': {
        if (this.run) return this.refuse(`Run ${this.run.runId} is training in this trainer; inspect it with \`inspect\`, or start another trainer.`);
        const job = this.worker.run(command).finally(() => {
          if (this.inspecting === job) this.inspecting = null;
        });
        this.inspecting = job;
        return;
      }
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
