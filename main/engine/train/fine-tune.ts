import type * as tf from '@tensorflow/tfjs';
import { formatLr } from '../../../shared/format';
import type { TrainSettings } from '../../../shared/training';
import { freezeFeatureLayers, unfreezeLayers } from '../import/freeze';
import { learningRateAt } from './schedules';

/**
 * The two phases of fine-tuning pretrained weights (TrainSettings.fineTune), as pure functions of
 * the epoch and step, so a resumed run is in the same phase at the same learning rate as one that
 * never stopped:
 *   phase `head`, epochs [0, headEpochs): only the classifier trains, at the run's lr, constant;
 *   phase `all`, epochs [headEpochs, epochs): every layer, at lr × lrFactor on the run's schedule,
 *   which starts afresh at the phase's first step and spans its epochs.
 */
export type FineTunePhase = 'head' | 'all';

export function fineTunePhase(epoch: number, settings: Pick<TrainSettings, 'fineTune'>): FineTunePhase | null {
  const ft = settings.fineTune;
  if (!ft) return null;
  return epoch < ft.headEpochs ? 'head' : 'all';
}

/** The learning rate of `step` (0-based), with or without the fine-tune recipe. */
export function fineTuneLearningRate(step: number, stepsPerEpoch: number, settings: TrainSettings): number {
  const ft = settings.fineTune;
  if (!ft) return learningRateAt(step, stepsPerEpoch, settings);
  const headSteps = ft.headEpochs * stepsPerEpoch;
  if (step < headSteps) return settings.lr;
  return learningRateAt(step - headSteps, stepsPerEpoch, {
    ...settings,
    lr: settings.lr * ft.lrFactor,
    epochs: Math.max(1, settings.epochs - ft.headEpochs),
  });
}

/** Freezes or unfreezes the model for `phase`; returns a sentence for the run's log. */
export function enterFineTunePhase(model: tf.LayersModel, phase: FineTunePhase, settings: TrainSettings): string {
  const ft = settings.fineTune!;
  if (phase === 'head') {
    freezeFeatureLayers(model);
    return `Fine-tuning phase 1 of 2: only the classifier trains for ${ft.headEpochs} epoch${ft.headEpochs === 1 ? '' : 's'} ` +
      `at learning rate ${formatLr(settings.lr)}; the features are frozen and their batch norms use their stored statistics.`;
  }
  unfreezeLayers(model, ft.freezeBatchNorm);
  return `Fine-tuning phase 2 of 2: every layer trains from epoch ${ft.headEpochs + 1} at learning rate ${formatLr(settings.lr * ft.lrFactor)} ` +
    `(× ${ft.lrFactor}) on the ${settings.schedule} schedule; batch norms ${ft.freezeBatchNorm ? 'keep their stored statistics' : 'update their statistics'}.`;
}
