import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { WorkbenchError, toErrorData } from '../../shared/errors';
import { checkpointWrittenMessage, type TrainerCommand, type TrainerEvent, type TrainerEventOf } from '../../shared/protocol';
import { formatBackendReport } from '../engine/backend';
import { computeNormalization, loadDataset, skippedSummary } from '../engine/data';
import { Inspector } from '../engine/inspect/inspector';
import { OnDemandInspection } from '../engine/inspect/on-demand';
import { buildDenseNet } from '../engine/model/densenet';
import { applyImportFreeze } from '../engine/import/freeze';
import { selectTrainingBackend } from '../engine/train/backend';
import { loadCheckpoint, writeCheckpoint, NonFiniteWeightsError, type CheckpointState } from '../engine/runs/checkpoint';
import { TrainControl } from '../engine/train/control';
import { datasetSource, evalBatches } from '../engine/train/dataset-source';
import { runTrainingLoop, type LoopResult, type ResumePoint } from '../engine/train/loop';
import { METRICS_FILE, MetricsWriter } from '../engine/runs/metrics-log';
import { setModelWeights } from '../engine/train/model-weights';
import {
  acquireRunLock, createRunAt, readRunConfig, readRunStatus, releaseRunLock, writeRunStatus, writeRunSummary,
  type RunConfigFile, type RunStatus,
} from '../engine/runs/run-store';
import { SeedPurpose, streamSeed, withSeededRandom } from '../engine/train/seeded';
import { InspectRunWorker } from './inspect-run';

/**
 * What the trainer process does with each command, independent of the transport (./entry wires it
 * to child_process IPC or Electron's parentPort). One run at a time. Every event of a run is
 * appended to its metrics.jsonl here, in the trainer, before it is sent, so a host that dies loses
 * nothing; status.json and checkpoints are written here too.
 */
type StartCommand = Extract<TrainerCommand, { type: 'start' }>;
type State = TrainerEventOf<'state'>['state'];

/** Why a run is being stopped: the user asked, or the process must go (host gone, SIGTERM). */
export type StopCause = 'user' | 'host-lost' | 'terminated';

class DivergedError extends Error {}

export class TrainerSession {
  private control: TrainControl | null = null;
  private running: Promise<void> | null = null;
  private inspector: Inspector | null = null;
  private onDemand: OnDemandInspection | null = null;
  private readonly worker: InspectRunWorker;
  private metrics: MetricsWriter | null = null;
  private runId: string | undefined;
  private stopCause: StopCause = 'user';

  constructor(private readonly send: (event: TrainerEvent) => void, private readonly now: () => number = Date.now) {
    this.worker = new InspectRunWorker(send, now);
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  handle(command: TrainerCommand): void {
    switch (command.type) {
      case 'start':
      case 'resumeRun':
        if (this.running) {
          this.error(new WorkbenchError(`Run ${this.runId ?? ''} is still in progress; stop it before starting another.`), false);
          return;
        }
        this.running = this.runOne(command).finally(() => {
          this.running = null;
        });
        return;
      case 'pause':
        return this.withControl('pause', (c) => c.pause());
      case 'resume':
        return this.withControl('resume', (c) => c.resume());
      case 'stop':
        return this.stop('user');
      case 'snapshot':
        return this.withControl('snapshot', (c) => c.requestSnapshot());
      case 'inspect': {
        const onDemand = this.onDemand;
        const control = this.control;
        if (!onDemand || !control) {
          this.error(new WorkbenchError('No run is training in this trainer; inspect a finished run from its checkpoints instead.'), false);
          return;
        }
        // Held between steps: inspection reads the weights and must not overlap a training step.
        const request = { what: command.what, ...(command.sample !== undefined ? { sample: command.sample } : {}), ...(command.requestId ? { requestId: command.requestId } : {}) };
        void control.hold(() => onDemand.run(request)).catch((err) => this.error(err, false));
        return;
      }
      case 'cancelInspect':
        if (this.onDemand?.cancel(command.requestId) || this.worker.cancel(command.requestId)) return;
        this.error(new WorkbenchError(`No inspection ${command.requestId} is in progress in this trainer; there is nothing to cancel.`), false);
        return;
      case 'inspectRun':
        if (this.running) {
          this.error(new WorkbenchError(`Run ${this.runId ?? ''} is training in this trainer; inspect it with \`inspect\`, or start another trainer.`), false);
          return;
        }
        this.running = this.worker.run(command).finally(() => {
          this.running = null;
        });
        return;
    }
  }

  /** Stops the run at the next step boundary, with a checkpoint. */
  stop(cause: StopCause): void {
    if (!this.control) {
      if (cause === 'user') this.error(new WorkbenchError('No run is training; there is nothing to stop.'), false);
      return;
    }
    if (this.control.stopRequested) return;
    this.stopCause = cause;
    this.control.stop();
    this.state('stopping');
  }

  private withControl(what: string, fn: (c: TrainControl) => void): void {
    if (!this.control) {
      this.error(new WorkbenchError(`No run is training; cannot ${what}.`), false);
      return;
    }
    fn(this.control);
  }

  /** Sends an event, after appending it to the run's metrics.jsonl when a run is open. */
  private emit(event: TrainerEvent): void {
    if (this.metrics) {
      try {
        this.metrics.append(event);
      } catch {
        // A full disk must not stop the events reaching the host; checkpoints report their own failures.
      }
    }
    this.send(event);
  }

  private state(state: State): void {
    this.emit({ type: 'state', state, ...(this.runId ? { runId: this.runId } : {}) });
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.emit({ type: 'log', level, message, time: this.now() });
  }

  private error(err: unknown, fatal: boolean): void {
    const user = err instanceof WorkbenchError && err.user;
    this.emit({ type: 'error', ...(this.runId ? { runId: this.runId } : {}), error: toErrorData(err, !user), fatal, time: this.now() });
  }

  private async runOne(command: StartCommand | Extract<TrainerCommand, { type: 'resumeRun' }>): Promise<void> {
    const runDir = path.resolve(command.runDir);
    this.runId = path.basename(runDir);
    this.stopCause = 'user';
    const control = new TrainControl();
    this.control = control;
    const started = this.now();
    let model: tf.LayersModel | null = null;
    let locked = false;
    let config: RunConfigFile | null = null;
    let progress = { step: 0, epoch: 0, epochStep: 0, stepsPerEpoch: 1 };
    const writeStatus = (status: RunStatus, extra: { message?: string; best?: CheckpointState['best']; lastValAccuracy?: number | null } = {}) => {
      if (!config) return;
      const previous = readRunStatus(runDir);
      writeRunStatus(runDir, {
        status, pid: status === 'running' || status === 'paused' ? process.pid : null, ...progress, epochs: config.settings.epochs,
        best: extra.best ?? previous?.best ?? null, lastValAccuracy: extra.lastValAccuracy ?? previous?.lastValAccuracy ?? null,
        ...(extra.message ? { message: extra.message } : {}),
      });
    };
    control.onChange((s) => {
      // The store first, then the event: whoever reacts to the event finds the status file current.
      writeStatus(s === 'paused' ? 'paused' : 'running');
      this.state(s === 'paused' ? 'paused' : 'running');
    });

    try {
      this.state('loading');
      if (command.type === 'resumeRun') {
        config = readRunConfig(runDir);
        acquireRunLock(runDir);
        locked = true;
        this.metrics = new MetricsWriter(path.join(runDir, METRICS_FILE));
      }
      const settings = command.type === 'start' ? command.settings : config!.settings;
      const modelConfig = command.type === 'start' ? command.model : config!.model;
      const spec = command.type === 'start' ? command.dataset : config!.dataset.spec;

      const backend = await selectTrainingBackend(settings.backend);
      const dataset = await loadDataset(spec, { inputShape: modelConfig.inputShape, valFraction: settings.valFraction, seed: settings.seed });
      if (dataset.classes.length !== modelConfig.classes) {
        throw new WorkbenchError(`The model has ${modelConfig.classes} classes but dataset ${dataset.name} has ${dataset.classes.length} (${dataset.classes.slice(0, 5).join(', ')}${dataset.classes.length > 5 ? ', ...' : ''}); set classes to ${dataset.classes.length}.`);
      }
      if (command.type === 'start') {
        const normalization = settings.normalize ? await computeNormalization(dataset.train) : null;
        config = readRunConfig(createRunAt(runDir, {
          model: modelConfig, settings, seed: settings.seed, normalization, backend: { ...backend },
          dataset: {
            spec, name: dataset.name, fingerprint: dataset.fingerprint, classes: dataset.classes, inputShape: dataset.inputShape,
            trainSize: dataset.train.size, valSize: dataset.val.size,
          },
        }).dir);
        acquireRunLock(runDir);
        locked = true;
        this.metrics = new MetricsWriter(path.join(runDir, METRICS_FILE));
      } else if (dataset.fingerprint !== config!.dataset.fingerprint) {
        this.log('warn', `Dataset ${dataset.name} has changed since run ${this.runId} was created (its fingerprint differs); training continues on the current data.`);
      }
      this.log('info', formatBackendReport(backend));
      const skipped = skippedSummary(dataset.report);
      if (skipped) this.log('warn', skipped);
      const cfg = config!;

      model = withSeededRandom(streamSeed(settings.seed, SeedPurpose.init), () => buildDenseNet(modelConfig));
      if (applyImportFreeze(runDir, model)) this.log('info', 'Feature layers are frozen (import --freeze-features): only the classifier trains.');
      const data = datasetSource(dataset, settings, cfg.normalization);
      progress = { ...progress, stepsPerEpoch: data.stepsPerEpoch };
      let resume: ResumePoint | undefined;
      if (command.type === 'resumeRun') resume = this.resumePoint(runDir, model);
      if (resume) progress = { step: resume.step, epoch: resume.epoch, epochStep: resume.epochStep, stepsPerEpoch: data.stepsPerEpoch };

      const shape = dataset.inputShape;
      const val = dataset.val.size > 0 ? () => evalBatches(dataset.val, settings.batchSize, cfg.normalization, shape) : null;
      this.inspector = new Inspector({ runId: this.runId, model, modelConfig, classes: dataset.classes, val, valSplit: dataset.val, emit: (e) => this.emit(e), now: this.now });
      this.inspector.setPosition(progress.step, progress.epoch);
      this.onDemand = new OnDemandInspection(this.inspector, { runId: this.runId, emit: (e) => this.emit(e), now: this.now });

      writeStatus('running');
      this.state(control.current === 'paused' ? 'paused' : 'running');
      const hooks = this.inspector.wrapHooks({
        onEvent: (event) => {
          this.emit(event);
          if (event.type === 'epoch') writeStatus(control.current === 'paused' ? 'paused' : 'running', { lastValAccuracy: event.valAccuracy });
        },
        onCheckpoint: (state) => {
          progress = { step: state.step, epoch: state.epoch, epochStep: state.epochStep, stepsPerEpoch: state.stepsPerEpoch };
          this.checkpoint(runDir, state, settings.keepCheckpoints);
          writeStatus(control.current === 'paused' ? 'paused' : 'running', { best: state.best });
        },
      });

      let result: LoopResult;
      try {
        result = await runTrainingLoop({ runId: this.runId, model, data, settings, control, hooks, resume, now: this.now });
      } catch (err) {
        if (!(err instanceof DivergedError)) throw err;
        result = { reason: 'diverged', step: progress.step, epoch: progress.epoch, best: null, last: { loss: null, accuracy: null, valLoss: null, valAccuracy: null }, message: err.message };
      }
      progress = { ...progress, step: result.step, epoch: result.epoch };
      // Read through a cast: TS narrowed the field to 'user' at the top, but stop() may have changed it since.
      const cause = this.stopCause as StopCause;
      const interrupted = result.reason === 'stopped' && cause !== 'user';
      const status: RunStatus = result.reason === 'completed' || result.reason === 'early-stopped' ? 'finished'
        : result.reason === 'stopped' ? (interrupted ? 'interrupted' : 'stopped') : 'failed';
      const message = result.message ?? (interrupted ? `The trainer was ${cause === 'host-lost' ? 'left without its host' : 'terminated'} and stopped at step ${result.step} with a checkpoint; resume it to go on.` : undefined);
      writeRunSummary(runDir, {
        id: this.runId, reason: result.reason, finished: new Date().toISOString(), step: result.step, epoch: result.epoch,
        seconds: (this.now() - started) / 1000, best: result.best, last: result.last, ...(message ? { message } : {}),
      });
      writeStatus(status, { ...(message ? { message } : {}), best: result.best });
      if (result.reason === 'diverged') this.error(new WorkbenchError(result.message!), true);
      this.emit({
        type: 'finished', runId: this.runId, reason: result.reason, step: result.step, epoch: result.epoch,
        bestValAccuracy: result.best?.valAccuracy ?? null, time: this.now(),
      });
      this.state(status === 'failed' ? 'failed' : 'finished');
    } catch (err) {
      this.error(err, true);
      const message = err instanceof Error ? err.message : String(err);
      if (config && locked) {
        writeStatus('failed', { message });
        writeRunSummary(runDir, {
          id: this.runId!, reason: 'failed', finished: new Date().toISOString(), step: progress.step, epoch: progress.epoch,
          seconds: (this.now() - started) / 1000, best: null, last: { loss: null, accuracy: null, valLoss: null, valAccuracy: null }, message,
        });
      }
      this.emit({ type: 'finished', runId: this.runId!, reason: 'failed', step: progress.step, epoch: progress.epoch, bestValAccuracy: null, time: this.now() });
      this.state('failed');
    } finally {
      this.onDemand?.cancelAll();
      this.onDemand = null;
      this.inspector?.dispose();
      this.inspector = null;
      model?.dispose();
      this.control = null;
      this.metrics?.close();
      this.metrics = null;
      if (locked) releaseRunLock(runDir);
    }
  }

  /** Loads the latest good checkpoint into `model`; none yet means the run starts over from step 0. */
  private resumePoint(runDir: string, model: tf.LayersModel): ResumePoint | undefined {
    let ckpt;
    try {
      ckpt = loadCheckpoint(runDir, 'latest');
    } catch (err) {
      this.log('warn', `${err instanceof Error ? err.message : String(err)} The run starts again from step 0 with the same seed.`);
      return undefined;
    }
    setModelWeights(model, ckpt.weights);
    const m = ckpt.manifest;
    this.log('info', `Resuming from checkpoint ${m.name}: epoch ${m.epoch + 1}, step ${m.step}, learning rate and optimizer state as saved.`);
    return {
      step: m.step, epoch: m.epoch, epochStep: m.epochStep, rng: m.rng, earlyStopping: m.earlyStopping, best: m.best,
      optimizer: { iterations: m.optimizer.iterations, slots: ckpt.slots },
    };
  }

  private checkpoint(runDir: string, state: CheckpointState, keep: number): void {
    try {
      const written = writeCheckpoint(runDir, state, { keep });
      this.metrics?.sync();
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
}
