import path from 'node:path';
import type { RunInfo } from '../../shared/api';
import type { DatasetSpec } from '../../shared/training';
import type { TrainerEvent } from '../../shared/protocol';
import { isLive } from '../../shared/run/lifecycle';
import { initialRunState, reduceRun, runFields, stateOfFields, type RunState } from '../../shared/run/state';
import type { TrainerPort } from './ports';

/**
 * The run the host's trainer works on, as its events leave it (shared/run/state.ts, the same
 * reducer the trainer writes status.json with and the renderer draws with). It also stands in for
 * a new run in the run list until the trainer has written the run's folder, so the list shows the
 * run from the moment it is started.
 */
export interface RunLabel {
  name: string;
  variant: string;
  dataset: string;
  created: string;
}

/** A new run's entry in the run list, as the trainer will name it (config.json's default name). */
export function runLabel(name: string | undefined, variant: string, dataset: DatasetSpec): RunLabel {
  const data = dataset.kind === 'builtin' ? dataset.name : path.basename(dataset.path);
  return { name: name ?? `${variant} on ${data}`, variant, dataset: data, created: new Date().toISOString() };
}

export class ActiveRun {
  state: RunState;
  /** True once the host lets the trainer go (a new run, or the host closing): its exit is then expected. */
  released = false;

  /** `stored`: the run's listing when it is continued, whose progress it goes on from. */
  constructor(readonly trainer: TrainerPort, runId: string, epochs: number | null, private readonly label: RunLabel | null, stored?: RunInfo) {
    this.state = stored ? { ...stateOfFields(runId, stored), status: 'created', reason: null, message: null } : initialRunState(runId, epochs);
  }

  get runId(): string {
    return this.state.runId!;
  }

  get live(): boolean {
    return !this.released && isLive(this.state.status);
  }

  /** Takes one event of the trainer; true when the run's status or reason changed. */
  ingest(event: TrainerEvent): boolean {
    const before = this.state;
    this.state = reduceRun(before, event);
    return this.state.status !== before.status || this.state.reason !== before.reason;
  }

  /**
   * Its trainer exited. Returns what that meant for the run, in a sentence, when it was a crash (it
   * came before the run's end, and the host had not let the trainer go); null when it was expected.
   * A port records the end in the run's folder and passes that `finished` on (TrainerHost does); for
   * one that did not, the run ends here.
   */
  exited({ code, signal, message }: { code: number | null; signal: string | null; message?: string }): string | null {
    const crashed = !this.released && (message !== undefined || isLive(this.state.status));
    this.released = true;
    if (!crashed) return null;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const text = message ?? `The trainer process ${how} during run ${this.runId}; the run can be resumed from its last checkpoint.`;
    if (isLive(this.state.status)) {
      const s = this.state;
      this.ingest({ type: 'finished', runId: this.runId, reason: signal ? 'interrupted' : 'failed', step: s.step, epoch: s.epoch, bestValAccuracy: s.best?.valAccuracy ?? null, message: text, time: Date.now() });
    }
    return text;
  }

  /** The run list's entry for this run: its stored entry (or, before its folder exists, its label) with the live state. */
  info(stored: RunInfo | undefined): RunInfo | null {
    const base = stored ?? (this.label ? { id: this.runId, ...this.label } : null);
    if (!base) return null;
    const { id, name, created, variant, dataset } = base;
    return { id, name, created, variant, dataset, ...runFields(this.state) };
  }
}
