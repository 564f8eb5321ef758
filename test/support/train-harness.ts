import * as tf from '@tensorflow/tfjs';
import { buildDenseNet } from '../../main/engine/model/densenet';
import type { CheckpointState } from '../../main/engine/runs/checkpoint';
import { TrainControl } from '../../main/engine/train/control';
import { datasetSource } from '../../main/engine/train/dataset-source';
import { runTrainingLoop, type LoopHooks, type LoopResult, type ResumePoint, type TrainData } from '../../main/engine/train/loop';
import { SeedPurpose, streamSeed, withSeededRandom } from '../../main/engine/train/seeded';
import type { DenseNetConfig } from '../../shared/config';
import type { TrainSettings } from '../../shared/training';
import { TINY_MODEL, syntheticDataset } from './train-fixtures';

/** Runs the loop over the synthetic dataset and records losses, checkpoints and tensor counts. */
export function model(settings: TrainSettings, config: DenseNetConfig = TINY_MODEL): tf.LayersModel {
  return withSeededRandom(streamSeed(settings.seed, SeedPurpose.init), () => buildDenseNet(config));
}

export interface Recorded {
  result: LoopResult;
  losses: number[];
  checkpoints: CheckpointState[];
  tensorCounts: number[];
}

export async function train(
  settings: TrainSettings,
  opts: {
    m?: tf.LayersModel; keepModel?: boolean; data?: TrainData; control?: TrainControl; resume?: ResumePoint; hooks?: LoopHooks; onStep?: (step: number, control: TrainControl) => void;
    /** The training-mode forward (e.g. the memory-efficient one) and micro-batch size, as the run use case passes them. */
    forward?: (m: tf.LayersModel) => (x: tf.Tensor) => tf.Tensor; microBatch?: number;
  } = {},
): Promise<Recorded> {
  const m = opts.m ?? model(settings);
  const control = opts.control ?? new TrainControl();
  const rec: Omit<Recorded, 'result'> = { losses: [], checkpoints: [], tensorCounts: [] };
  try {
    const result = await runTrainingLoop({
      runId: 'test', model: m, settings, control, resume: opts.resume,
      ...(opts.forward ? { forward: opts.forward(m) } : {}), ...(opts.microBatch ? { microBatch: opts.microBatch } : {}),
      data: opts.data ?? datasetSource(syntheticDataset(), settings, { mean: [0.3], std: [0.3] }),
      hooks: {
        ...opts.hooks,
        onEvent: (e) => {
          if (e.type === 'step') {
            rec.losses.push(e.loss);
            rec.tensorCounts.push(tf.memory().numTensors);
            opts.onStep?.(e.step, control);
          }
        },
        onCheckpoint: (s) => {
          rec.checkpoints.push(s);
        },
      },
    });
    return { ...rec, result };
  } finally {
    if (!opts.keepModel) m.dispose();
  }
}

export function resumePoint(s: CheckpointState): ResumePoint {
  return { step: s.step, epoch: s.epoch, epochStep: s.epochStep, rng: s.rng, optimizer: { iterations: s.optimizer.iterations, slots: s.slots }, earlyStopping: s.earlyStopping, best: s.best };
}

