import * as tf from '@tensorflow/tfjs';
import { formatLr } from '../../../shared/format';
import type { TrainSettings } from '../../../shared/training';
import type { TrainerEventOf } from '../../../shared/protocol';
import type { FinishReason } from '../../../shared/run/lifecycle';
import type { CheckpointState } from '../runs/checkpoint';
import type { TrainControl } from './control';
import type { Batch } from '../data/batches';
import { evaluate } from './evaluate';
import { fineTuneLearningRate, fineTunePhase, enterFineTunePhase, type FineTunePhase } from './fine-tune';
import { getModelWeights, trainableWeightVariables, trainVariables } from './model-weights';
import { Optimizer, optimizerSettingsFrom, type TrainVariable } from './optimizers';
import { trainStep, type StepModel, type StepOutcome } from './step';

/**
 * The training loop: a custom loop rather than model.fit, so that it reports every step, can pause,
 * resume or stop between any two steps, hands the gradients to the inspection probes, and saves and
 * restores its complete state (weights, optimizer slots, step, data RNG) for an exact resume.
 */

/** What the loop needs from a dataset. See ./dataset-source for the implementation over LoadedDataset. */
export interface TrainData {
  classes: number;
  stepsPerEpoch: number;
  /** The data RNG's state now; restored with setRngState before resuming an epoch. */
  rngState(): unknown;
  setRngState(state: unknown): void;
  /** The batches of one training epoch, drawn with the current RNG state, after discarding `skip`. */
  trainBatches(epoch: number, skip: number): AsyncIterable<Batch>;
  /** Validation batches, or null when the run has no validation split. */
  valBatches(): AsyncIterable<Batch> | null;
}

export interface ProbeContext {
  model: tf.LayersModel;
  step: number;
  epoch: number;
  epochEnd: boolean;
}

export interface LoopHooks {
  /** Step and epoch events, and log lines, in protocol shape. */
  onEvent?(event: TrainerEventOf<'step'> | TrainerEventOf<'epoch'> | TrainerEventOf<'log'>): void;
  /**
   * Every `settings.gradientsEvery` steps, after the backward pass and before the update: the
   * gradients by variable name, and the variables (still holding their pre-update values). The
   * tensors are disposed when the hook returns; copy out what you need synchronously.
   */
  onGradients?(step: number, grads: tf.NamedTensorMap, variables: TrainVariable[], info: { lr: number; epoch: number }): void;
  /** Every `settings.statsEvery` steps and at every epoch end, with the model, for probes. */
  onProbe?(ctx: ProbeContext): void | Promise<void>;
  /** A checkpoint is due; the caller writes it (./checkpoint) and may throw to fail the run. */
  onCheckpoint?(state: CheckpointState): void | Promise<void>;
}

/** Where a resumed run starts: everything a checkpoint holds besides the weights. */
export interface ResumePoint {
  step: number;
  epoch: number;
  epochStep: number;
  rng: unknown;
  optimizer: { iterations: number; slots: CheckpointState['slots'] };
  earlyStopping: { best: number | null; badEpochs: number };
  best: CheckpointState['best'];
}

export interface LoopOptions {
  runId: string;
  model: tf.LayersModel;
  data: TrainData;
  settings: TrainSettings;
  control: TrainControl;
  hooks?: LoopHooks;
  resume?: ResumePoint;
  /** Clock in ms, injectable for tests (as tfjs-layers' callbacks do). */
  now?: () => number;
  /** Training-mode logits (e.g. the memory-efficient forward); default model.apply. */
  forward?: (x: tf.Tensor) => tf.Tensor;
  /** Images a forward/backward pass at most (see ./step); default the whole batch. */
  microBatch?: number;
}

export interface LoopResult {
  reason: FinishReason;
  step: number;
  epoch: number;
  best: CheckpointState['best'];
  last: CheckpointState['metrics'];
  /** For `diverged`: a sentence for the user. */
  message?: string;
}

export async function runTrainingLoop(options: LoopOptions): Promise<LoopResult> {
  const { model, data, settings, control, runId } = options;
  const hooks = options.hooks ?? {};
  const now = options.now ?? (() => Date.now());
  const spe = data.stepsPerEpoch;
  // Fine-tuning changes what trains between its phases, so its optimizer keeps a slot for every
  // weight that can train, and a checkpoint holds them all whichever phase wrote it.
  const optimizer = new Optimizer(optimizerSettingsFrom(settings), settings.fineTune ? trainableWeightVariables(model) : trainVariables(model));
  let phase: FineTunePhase | null = null;
  let variables = trainVariables(model);

  let step = options.resume?.step ?? 0;
  let epoch = options.resume?.epoch ?? 0;
  let epochStep = options.resume?.epochStep ?? 0;
  let best = options.resume?.best ?? null;
  const early = { ...(options.resume?.earlyStopping ?? { best: null, badEpochs: 0 }) };
  let last: LoopResult['last'] = { loss: null, accuracy: null, valLoss: null, valAccuracy: null };
  let lr = fineTuneLearningRate(step, spe, settings);
  if (options.resume) {
    optimizer.setState(options.resume.optimizer);
    data.setRngState(options.resume.rng);
  }

  const log = (level: 'info' | 'warn', message: string) => hooks.onEvent?.({ type: 'log', level, message, time: now() });

  const checkpoint = async (reason: CheckpointState['reason'], rng: unknown, atEpoch: number, atEpochStep: number) => {
    if (!hooks.onCheckpoint) return;
    const opt = optimizer.getState();
    await hooks.onCheckpoint({
      step, epoch: atEpoch, epochStep: atEpochStep, stepsPerEpoch: spe, lr, reason,
      metrics: last, best, rng, earlyStopping: { ...early },
      optimizer: { name: optimizer.name, iterations: opt.iterations },
      weights: getModelWeights(model), slots: opt.slots,
    });
  };

  const stepModel: StepModel = {
    model, variables, optimizer, classes: data.classes, labelSmoothing: settings.labelSmoothing, seed: settings.seed,
    ...(options.forward ? { forward: options.forward } : {}), ...(options.microBatch ? { microBatch: options.microBatch } : {}),
  };
  const runStep = (batch: Batch, wantGrads: boolean): StepOutcome =>
    trainStep(stepModel, batch, step, lr, wantGrads && hooks.onGradients ? (grads) => hooks.onGradients!(step, grads, variables, { lr, epoch }) : undefined);

  try {
    while (epoch < settings.epochs) {
      const next = fineTunePhase(epoch, settings);
      if (next && next !== phase) {
        log('info', enterFineTunePhase(model, next, settings));
        phase = next;
        variables = trainVariables(model);
        stepModel.variables = variables;
      }
      const epochStartRng = data.rngState();
      const epochStart = now();
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      let lastTick = now();
      for await (const batch of data.trainBatches(epoch, epochStep)) {
        for (;;) {
          const action = await control.gate();
          if (action === 'go') break;
          if (action === 'stop') {
            await checkpoint('stop', epochStartRng, epoch, epochStep);
            return { reason: 'stopped', step, epoch, best, last };
          }
          await checkpoint('snapshot', epochStartRng, epoch, epochStep);
        }
        lr = fineTuneLearningRate(step, spe, settings);
        const wantGrads = settings.gradientsEvery > 0 && (step + 1) % settings.gradientsEvery === 0;
        const out = runStep(batch, wantGrads);
        if (!Number.isFinite(out.loss)) {
          const message = `The loss became ${out.loss} at step ${step + 1} (epoch ${epoch + 1}) with learning rate ${formatLr(lr)}; ` +
            `the run stopped and keeps its last good checkpoint. Try a lower learning rate (e.g. ${formatLr(lr / 10)}).`;
          log('warn', message);
          return { reason: 'diverged', step, epoch, best, last, message };
        }
        step++;
        epochStep++;
        lossSum += out.loss * batch.n;
        correctSum += out.correct;
        seen += batch.n;
        last = { ...last, loss: out.loss, accuracy: out.correct / batch.n };
        const t = now();
        hooks.onEvent?.({
          type: 'step', runId, step, epoch, epochStep, stepsPerEpoch: spe, loss: out.loss, accuracy: out.correct / batch.n,
          lr, imagesPerSec: batch.n / Math.max(1e-6, (t - lastTick) / 1000), time: t,
          images: batch.n, epochLoss: lossSum / seen, epochAccuracy: correctSum / seen,
        });
        lastTick = t;
        if (settings.statsEvery > 0 && step % settings.statsEvery === 0 && epochStep < spe) {
          await hooks.onProbe?.({ model, step, epoch, epochEnd: false });
        }
        if (step % settings.checkpointEvery === 0 && epochStep < spe) await checkpoint('interval', epochStartRng, epoch, epochStep);
        // Let commands (pause, stop, snapshot) arrive between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }

      // ---- epoch end ----
      const valBatches = data.valBatches();
      const val = valBatches ? await evaluate(model, valBatches) : null;
      const valLoss = val && val.samples > 0 ? val.loss : null;
      const valAccuracy = val && val.samples > 0 ? val.accuracy : null;
      last = { loss: seen ? lossSum / seen : last.loss, accuracy: seen ? correctSum / seen : last.accuracy, valLoss, valAccuracy };
      if (valAccuracy !== null && (best === null || best.valAccuracy === null || valAccuracy > best.valAccuracy)) {
        best = { valAccuracy, valLoss, epoch, step };
      }
      hooks.onEvent?.({
        type: 'epoch', runId, epoch, step, loss: last.loss ?? NaN, accuracy: last.accuracy ?? NaN, valLoss, valAccuracy, lr,
        seconds: (now() - epochStart) / 1000, time: now(),
      });
      await hooks.onProbe?.({ model, step, epoch, epochEnd: true });
      const stopEarly = earlyStoppingUpdate(settings, early, valLoss, valAccuracy, log);
      epoch++;
      epochStep = 0;
      await checkpoint('epoch', data.rngState(), epoch, 0);
      if (stopEarly) {
        log('info', `Early stopping after epoch ${epoch}: ${settings.earlyStopping!.metric} did not improve for ${early.badEpochs} epochs.`);
        return { reason: 'early-stopped', step, epoch, best, last };
      }
    }
    return { reason: 'completed', step, epoch, best, last };
  } finally {
    optimizer.dispose();
  }
}

/** Updates the early-stopping bookkeeping after an epoch; true when the run should stop. */
function earlyStoppingUpdate(
  settings: TrainSettings,
  early: { best: number | null; badEpochs: number },
  valLoss: number | null,
  valAccuracy: number | null,
  log: (level: 'info' | 'warn', message: string) => void,
): boolean {
  const rule = settings.earlyStopping;
  if (!rule) return false;
  const value = rule.metric === 'valLoss' ? valLoss : valAccuracy;
  if (value === null) {
    log('warn', 'Early stopping is on but the run has no validation split; it will not stop early.');
    return false;
  }
  const improved = early.best === null ||
    (rule.metric === 'valLoss' ? value < early.best - rule.minDelta : value > early.best + rule.minDelta);
  if (improved) {
    early.best = value;
    early.badEpochs = 0;
  } else {
    early.badEpochs++;
  }
  return early.badEpochs >= rule.patience;
}
