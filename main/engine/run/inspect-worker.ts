import type { TrainerCommand, TrainerEvent } from '../../../shared/protocol';
import { toErrorData } from '../../../shared/errors';
import { OnDemandInspection } from '../inspect/on-demand';
import { recordResult } from '../runs/record-result';
import { selectTrainingBackend } from '../train/backend';
import { readRunConfig } from '../runs/run-store';
import { openForInspection } from './inspect-run';

/**
 * The trainer process as a short-lived inspection worker: a host starts a trainer, sends one
 * `inspectRun` for a run that is not training, and closes the process once `inspectDone` arrives.
 * Opening a checkpoint and its dataset takes seconds and an ablation can take minutes, so this
 * runs in its own process, as training does, and never in the host that serves the UI.
 *
 * The run is opened read-only; evaluation and ablation results are appended to its metrics.jsonl
 * (../runs/record-result) before they are sent, as a live trainer does with every event.
 */
type InspectRunCommand = Extract<TrainerCommand, { type: 'inspectRun' }>;

export class InspectRunWorker {
  private job: OnDemandInspection | null = null;
  private current: string | null = null;
  private cancelled = false;

  constructor(private readonly send: (event: TrainerEvent) => void, private readonly now: () => number = Date.now) {}

  /** Cancels the request in progress if it is `requestId`; false when no such request runs here. */
  cancel(requestId: string): boolean {
    if (this.current !== requestId) return false;
    this.cancelled = true;
    this.job?.cancel(requestId);
    return true;
  }

  async run(command: InspectRunCommand): Promise<void> {
    const { runDir, what, requestId } = command;
    const runId = runDir.split(/[\\/]/).filter(Boolean).pop() ?? runDir;
    const started = this.now();
    const fail = (err: unknown) => {
      const data = toErrorData(err, false);
      this.send({ type: 'inspectDone', runId, requestId, what, ok: false, error: { name: data.name, message: data.message, user: data.user ?? true }, seconds: (this.now() - started) / 1000, time: this.now() });
    };
    let ctx: Awaited<ReturnType<typeof openForInspection>> | null = null;
    this.current = requestId;
    this.cancelled = false;
    try {
      this.send({ type: 'inspectProgress', runId, requestId, what, done: 0, total: 0, message: `Loading checkpoint ${command.checkpoint} of run ${runId}…`, time: this.now() });
      const config = readRunConfig(runDir);
      await selectTrainingBackend(config.settings.backend);
      ctx = await openForInspection(runDir, { checkpoint: command.checkpoint, withData: what !== 'contributions' });
      for (const w of ctx.warnings) this.send({ type: 'log', level: 'warn', message: w, time: this.now() });
      if (this.cancelled) {
        this.send({ type: 'inspectDone', runId, requestId, what, ok: false, cancelled: true, error: { name: 'InspectionCancelled', message: `The ${what} request was cancelled.`, user: true }, time: this.now() });
        return;
      }
      const emit = (event: TrainerEvent) => {
        // Recorded first: whoever reacts to the event finds it in the run.
        try {
          recordResult(runDir, event);
        } catch (err) {
          this.send({ type: 'log', level: 'warn', message: `Could not record the ${event.type} in run ${runId}: ${(err as Error).message}`, time: this.now() });
        }
        this.send(event);
      };
      const inspector = ctx.inspector(emit);
      this.job = new OnDemandInspection(inspector, { runId: ctx.config.id, emit, now: this.now });
      await this.job.run({ what, requestId, ...(command.sample !== undefined ? { sample: command.sample } : {}) });
    } catch (err) {
      fail(err);
    } finally {
      this.job = null;
      this.current = null;
      ctx?.dispose();
    }
  }
}
