import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultTrainSettings } from '../../shared/training';
import type { DenseNetConfig } from '../../shared/config';
import { loadDataset } from '../../main/engine/data';
import { buildDenseNet } from '../../main/engine/model/densenet';
import { createRun, writeRunSummary } from '../../main/engine/runs/run-store';
import { writeCheckpoint } from '../../main/engine/runs/checkpoint';
import { encodeMetricsLine, METRICS_FILE } from '../../main/engine/runs/metrics-log';
import { getModelWeights } from '../../main/engine/train/model-weights';
import { withSeededRandom } from '../../main/engine/train/seeded';

/**
 * A finished run on real data for the inspection tests: 40 MNIST digits at 8×8 (30 train, 10
 * validation), a micro DenseNet-BC with seeded weights saved as one checkpoint at step 6, a few
 * recorded steps and epochs, and summary.json. Its trainer settings name the cpu backend, so a
 * worker that opens it starts quickly.
 */
export const MICRO_NET: DenseNetConfig = {
  variant: 'test-micro', blocks: [2, 2], growthRate: 2, bottleneck: true, compression: 0.5, initFeatures: 4,
  stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 10,
};

export async function makeMnistRun(root: string): Promise<{ dir: string; id: string }> {
  const spec = { kind: 'builtin' as const, name: 'mnist' as const, limit: 40 };
  const settings = { ...defaultTrainSettings(), epochs: 2, batchSize: 4, valFraction: 0.25, backend: 'cpu' as const, seed: 3 };
  const data = await loadDataset(spec, { inputShape: MICRO_NET.inputShape, valFraction: settings.valFraction, seed: settings.seed });
  const { dir, id } = createRun(root, {
    model: MICRO_NET,
    settings,
    dataset: { spec, name: data.name, fingerprint: data.fingerprint, classes: data.classes, inputShape: data.inputShape, trainSize: data.train.size, valSize: data.val.size },
    normalization: { mean: [0.13], std: [0.3] },
    seed: settings.seed,
    backend: { name: 'cpu' },
  });
  const events = [0, 1, 2, 3, 4, 5, 6].map((step) => ({
    type: 'step' as const, runId: id, step, epoch: Math.min(1, Math.floor(step / 3)), epochStep: step % 3, stepsPerEpoch: 3,
    loss: 2.3 - step * 0.1, accuracy: 0.1 + step * 0.02, lr: 0.1, imagesPerSec: 10, time: 1000 + step,
  }));
  fs.writeFileSync(path.join(dir, METRICS_FILE), events.map((e) => encodeMetricsLine(e)).join(''));
  const model = withSeededRandom(11, () => buildDenseNet(MICRO_NET));
  const best = { valAccuracy: 0.2, valLoss: 2.2, epoch: 1, step: 6 };
  writeCheckpoint(dir, {
    step: 6, epoch: 2, epochStep: 0, stepsPerEpoch: 3, lr: 0.01, reason: 'epoch',
    metrics: { loss: 2, accuracy: 0.2, valLoss: 2.2, valAccuracy: 0.2 },
    best, optimizer: { name: 'sgd', iterations: 6 }, rng: null, earlyStopping: { best: null, badEpochs: 0 },
    weights: getModelWeights(model), slots: [],
  }, { keep: 3 });
  model.dispose();
  writeRunSummary(dir, {
    id, reason: 'completed', finished: new Date().toISOString(), step: 6, epoch: 2, seconds: 2, best,
    last: { loss: 2, accuracy: 0.2, valLoss: 2.2, valAccuracy: 0.2 },
  });
  return { dir, id };
}
