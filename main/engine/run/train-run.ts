import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { WorkbenchError, toErrorData } from '../../../shared/errors';
import { checkpointWrittenMessage, type TrainerEvent } from '../../../shared/protocol';
import type { RunEnd } from '../../../shared/run/lifecycle';
import { Inspector } from '../inspect/inspector';
import { OnDemandInspection, type InspectRequest } from '../inspect/on-demand';
import { NonFiniteWeightsError, type CheckpointState } from '../runs/checkpoint';
import { RunJournal } from '../runs/run-journal';
import { TrainControl, type StopCause } from '../train/control';
import { datasetSource, evalBatches } from '../train/dataset-source';
import { runTrainingLoop, type LoopResult, type ResumePoint } from '../train/loop';
import { HeapExhaustedError } from '../backend/wasm/heap-guard';
import { trainingForward } from '../model/memory-efficient/forward';
import { explainHeapExhausted } from '../../../shared/memory-plan';
import { prepareData, prepareModel, type PreparedData, type RunRequest } from './prepare';
import { tfjsPorts, type TrainRunPorts } from './ports';

export type { RunRequest } from './prepare';

/**
 * The "train a run" use case of the TF.js engine: one session of one run, from a start or resume
 * request to its `finished` event. Every event goes to the run's journal (metrics.jsonl and
 * status.json, main/engine/runs/run-journal.ts) and then to `send`; the process around it
 * (main/trainer) only turns protocol commands into calls on this object.
 *
 *   const run = new TrainRun({ kind: 'start', runDir, model, settings, dataset }, send);
 *   run.control.pause(); run.control.resume(); run.control.requestSnapshot();
 *   run.inspect('evaluation');
 *   run.stop('user');      // checkpoint at the next step, then `finished`
 *   await run.done;        // never rejects: failures end the run as `failed`
 */
class DivergedError extends Error {}

const NO_METRICS = { loss: null, accuracy: null, valLoss: null, valAccuracy: null };

export class TrainRun {
  readonly runDir: string;
  readonly runId: string;
  readonly control = new TrainControl();
  /** Resolves when the session is over and the run folder is closed. */
  readonly done: Promise<void>;
  private journal: RunJournal | null = null;
  private inspector: Inspector | null = null;
  private onDemand: OnDemandInspection | null = null;
  /** The newest checkpoint written in this session: what the end-of-run evaluation names. */
  private lastCheckpoint: { name: string; step: number } | null = null;
  private readonly started: number;

  constructor(private readonly request: RunRequest, private readonly send: (event: TrainerEvent) => void, private readonly ports: TrainRunPorts = tfjsPorts) {
    this.runDir = path.resolve(request.runDir);
    this.runId = path.basename(this.runDir);
    this.started = ports.now();
    this.done = this.run();
  }

  /** Stops at the next step boundary, with a checkpoint. A cause other than the user's ends the run `interrupted`. */
  stop(cause: StopCause): void {
    if (this.control.stopRequested) return;
    this.control.stop(cause);
    this.emit({ type: 'state', state: 'stopping', runId: this.runId });
  }

  /**
   * Answers an `inspect` command between two steps: inspection reads the weights and must not
   * overlap a step. Never rejects: the request ends with `inspectDone` (../inspect/on-demand).
   */
  async inspect(request: InspectRequest): Promise<void> {
    const onDemand = this.onDemand;
    if (!onDemand) {
      this.warn(new WorkbenchError(`Run ${this.runId} is still loading; inspect it once it trains.`));
      return;
    }
    await this.control.hold(() => onDemand.run(request));
  }

  /** Stops an inspection of this run in progress; false when there is none with that id. */
  cancelInspect(requestId: string): boolean {
    return this.onDemand?.cancel(requestId) ?? false;
  }

  /** Reports a problem that does not end the run, in its record. */
  warn(err: unknown): void {
    this.error(err, false);
  }

  /** Journals the event once the run folder is open, then sends it. */
  private emit(event: TrainerEvent): void {
    this.journal?.record(event);
    this.send(event);
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.emit({ type: 'log', level, message, time: this.ports.now() });
  }

  private error(err: unknown, fatal: boolean): void {
    const user = err instanceof WorkbenchError && err.user;
    this.emit({ type: 'error', runId: this.runId, error: toErrorData(err, !user), fatal, time: this.ports.now() });
  }

  private async run(): Promise<void> {
    let model: tf.LayersModel | null = null;
    try {
      // A resumed run's folder is reopened at once (its journal records `created`); a new one is
      // created once its data has loaded, since config.json records what the data turned out to be.
      if (this.request.kind === 'resume') this.journal = RunJournal.reopen(this.runDir);
      this.send({ type: 'state', state: 'created', runId: this.runId });
      const log = this.log.bind(this);
      const data = await prepareData(this.request, this.journal, this.ports, log);
      this.journal = data.journal;
      const prepared = await prepareModel(data.journal, this.request, this.ports, log);
      model = prepared.model;
      const result = await this.train(data, model, prepared.resumeAt);
      await this.evaluateAtEnd(result);
      this.end(result);
    } catch (err) {
      this.error(err, true);
      this.finish('failed', this.journal?.state.step ?? 0, this.journal?.state.epoch ?? 0, null, NO_METRICS, err instanceof Error ? err.message : String(err));
    } finally {
      this.onDemand?.cancelAll();
      this.onDemand = null;
      this.inspector?.dispose();
      this.inspector = null;
      model?.dispose();
      this.journal?.close();
    }
  }

  private async train({ journal, dataset, memory }: PreparedData, model: tf.LayersModel, resume: ResumePoint | undefined): Promise<LoopResult> {
    const { settings, normalization, model: modelConfig } = journal.config;
    const data = datasetSource(dataset, settings, normalization);
    const shape = dataset.inputShape;
    const val = dataset.val.size > 0 ? () => evalBatches(dataset.val, settings.batchSize, normalization, shape) : null;
    this.inspector = new Inspector({ runId: this.runId, model, modelConfig, classes: dataset.classes, val, valSplit: dataset.val, emit: (e) => this.emit(e), now: this.ports.now });
    this.inspector.setPosition(resume?.step ?? 0, resume?.epoch ?? 0);
    this.onDemand = new OnDemandInspection(this.inspector, { runId: this.runId, emit: (e) => this.emit(e), now: this.ports.now });
    this.control.onChange((s) => this.emit({ type: 'state', state: s === 'paused' ? 'paused' : 'running', runId: this.runId }));
    this.emit({ type: 'state', state: this.control.current === 'paused' ? 'paused' : 'running', runId: this.runId });
    const hooks = this.inspector.wrapHooks({
      onEvent: (event) => this.emit(event),
      onCheckpoint: (state) => this.checkpoint(journal, state),
    });
    // The step as the memory plan says: memory-efficient dense layers and micro-batches where needed.
    for (const note of memory.plan.notes) this.log('info', note);
    const forward = trainingForward(model, modelConfig, memory.plan.memoryEfficient);
    try {
      return await runTrainingLoop({ runId: this.runId, model, data, settings, control: this.control, hooks, resume, now: this.ports.now, forward, microBatch: memory.plan.microBatch });
    } catch (err) {
      // The heap ran out after all: the run fails with the numbers, keeping its last checkpoint.
      if (err instanceof HeapExhaustedError) throw explainHeapExhausted(err, memory.request, memory.plan);
      if (!(err instanceof DivergedError)) throw err;
      const s = journal.state;
      return { reason: 'diverged', step: s.step, epoch: s.epoch, best: s.best, last: NO_METRICS, message: err.message };
    }
  }

  private checkpoint(journal: RunJournal, state: CheckpointState): void {
    try {
      const written = journal.checkpoint(state);
      this.lastCheckpoint = { name: written.name, step: written.step };
      if (state.reason === 'snapshot') this.log('info', checkpointWrittenMessage(state.step, written.name));
    } catch (err) {
      if (err instanceof NonFiniteWeightsError) {
        throw new DivergedError(`${err.message} The weights diverged by step ${state.step}; the run stopped and keeps its last good checkpoint. Try a lower learning rate.`);
      }
      this.error(new WorkbenchError(
        `Checkpoint at step ${state.step} could not be written (${err instanceof Error ? err.message : String(err)}); the previous checkpoint is intact and training goes on.`,
        { user: false },
      ), false);
    }
  }

  /**
   * Every run that ends on its own or by the user's Stop is evaluated on its validation split, on
   * the weights it ends with (the checkpoint just written holds them, and the event names it), so a
   * finished run opens with its confusion matrix and its report has one. Not after a divergence
   * (the weights are not finite) nor when the trainer must go (host lost, terminated): that run
   * ends interrupted and is continued later. A failing evaluation is a warning, not the run's end.
   */
  private async evaluateAtEnd(result: LoopResult): Promise<void> {
    const inspector = this.inspector;
    if (!inspector || result.reason === 'diverged' || (result.reason === 'stopped' && this.control.stopCause !== 'user')) return;
    if (!this.journal || this.journal.config.dataset.valSize === 0) return;
    try {
      inspector.setPosition(result.step, result.epoch);
      const event = await inspector.evaluation();
      const at = this.lastCheckpoint;
      this.emit(at && at.step === result.step ? { ...event, checkpoint: at.name } : event);
    } catch (err) {
      this.warn(new WorkbenchError(`The end-of-run evaluation failed (${err instanceof Error ? err.message : String(err)}); evaluate the run from its Evaluation screen or with \`eval\`.`, { user: false }));
    }
  }

  /** What the loop's result means for the run: its end, and the sentence that explains it. */
  private end(result: LoopResult): void {
    const cause = this.control.stopCause;
    const interrupted = result.reason === 'stopped' && cause !== 'user';
    const end: RunEnd = interrupted ? 'interrupted' : result.reason;
    const message = result.message ?? (interrupted
      ? `The trainer was ${cause === 'host-lost' ? 'left without its host' : 'terminated'} and stopped at step ${result.step} with a checkpoint; resume it to go on.`
      : undefined);
    if (result.reason === 'diverged') this.error(new WorkbenchError(result.message!), true);
    this.finish(end, result.step, result.epoch, result.best, result.last, message);
  }

  /** summary.json, then the `finished` event (which status.json follows). */
  private finish(end: RunEnd, step: number, epoch: number, best: LoopResult['best'], last: LoopResult['last'], message?: string): void {
    try {
      this.journal?.writeSummary({ reason: end, step, epoch, seconds: (this.ports.now() - this.started) / 1000, best, last, ...(message ? { message } : {}) });
    } catch (err) {
      this.error(err, false);
    }
    this.emit({
      type: 'finished', runId: this.runId, reason: end, step, epoch, bestValAccuracy: best?.valAccuracy ?? null,
      ...(message ? { message } : {}), time: this.ports.now(),
    });
  }
}
