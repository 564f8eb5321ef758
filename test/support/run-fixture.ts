import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { defaultTrainSettings } from '../../shared/training';
import type { DenseNetConfig } from '../../shared/config';
import type { TrainerEvent } from '../../shared/protocol';
import { createRun, writeRunSummary } from '../../main/engine/runs/run-store';
import { writeCheckpoint } from '../../main/engine/runs/checkpoint';
import { getModelWeights } from '../../main/engine/train/model-weights';
import { encodeMetricsLine, METRICS_FILE } from '../../main/engine/runs/metrics-log';

/**
 * A hand-made run folder through the Training engine's own run-store API: config.json, one
 * checkpoint of `model`, a few epoch/step events (and optionally contributions) and summary.json.
 */
export function makeRun(root: string, config: DenseNetConfig, model: tf.LayersModel, options: { events?: TrainerEvent[]; classes?: string[]; epochs?: number } = {}): string {
  const classes = options.classes ?? Array.from({ length: config.classes }, (_, i) => `class ${String.fromCharCode(97 + i)}`);
  const channels = config.inputShape[2];
  const { dir, id } = createRun(root, {
    model: config,
    settings: { ...defaultTrainSettings(), epochs: options.epochs ?? 2, batchSize: 4 },
    dataset: { spec: { kind: 'folder', path: '/data/toy' }, name: 'toy', fingerprint: 'f00d', classes, inputShape: config.inputShape, trainSize: 12, valSize: 4 },
    normalization: { mean: Array.from({ length: channels }, (_, i) => 0.4 + 0.05 * i), std: Array.from({ length: channels }, (_, i) => 0.25 + 0.01 * i) },
    seed: 1,
    backend: { name: 'cpu' },
  });
  const events = options.events ?? defaultEvents(id);
  fs.writeFileSync(path.join(dir, METRICS_FILE), events.map((e) => encodeMetricsLine({ ...e, ...('runId' in e ? { runId: id } : {}) } as TrainerEvent)).join(''));
  const best = { valAccuracy: 0.75, valLoss: 0.6, epoch: 1, step: 6 };
  writeCheckpoint(dir, {
    step: 6, epoch: 2, epochStep: 0, stepsPerEpoch: 3, lr: 0.01, reason: 'final',
    metrics: { loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75 },
    best, optimizer: { name: 'sgd', iterations: 6 }, rng: null, earlyStopping: { best: null, badEpochs: 0 },
    weights: getModelWeights(model), slots: [],
  }, { keep: 3 });
  writeRunSummary(dir, {
    id, reason: 'completed', finished: new Date().toISOString(), step: 6, epoch: 2, seconds: 3.5, best,
    last: { loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75 },
  });
  return dir;
}

function defaultEvents(runId: string): TrainerEvent[] {
  const events: TrainerEvent[] = [];
  for (let step = 0; step < 6; step++) {
    events.push({ type: 'step', runId, step, epoch: Math.floor(step / 3), epochStep: step % 3, stepsPerEpoch: 3, loss: 1.2 - step * 0.1, accuracy: 0.3 + step * 0.08, lr: 0.1, imagesPerSec: 10, time: 1000 + step });
  }
  events.push({ type: 'epoch', runId, epoch: 0, step: 3, loss: 1.0, accuracy: 0.5, valLoss: 0.9, valAccuracy: 0.5, lr: 0.1, seconds: 1.5, time: 1003 });
  events.push({ type: 'epoch', runId, epoch: 1, step: 6, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75, lr: 0.01, seconds: 1.5, time: 1006 });
  return events;
}
