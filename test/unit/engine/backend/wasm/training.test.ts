import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { buildDenseNet } from '../../../../../main/engine/model/densenet';
import { trainVariables } from '../../../../../main/engine/train/model-weights';
import { Optimizer } from '../../../../../main/engine/train/optimizers';
import { trainStep } from '../../../../../main/engine/train/step';
import { getPreset } from '../../../../../shared/presets';
import { seeded } from '../../../../support/wasm';

// 20 SGD steps of a tiny DenseNet-BC on wasm (training kernels, fused BN, tape release) against the
// same 20 steps on the pure-JS cpu backend, from the same weights and batches.
const config = { ...getPreset('demo-bc-tiny', { inputShape: [8, 8, 3], classes: 4 }), blocks: [2, 2], growthRate: 4, initFeatures: 8, variant: 'custom' };
const STEPS = 20;
const BATCH = 4;

function batches(): { x: Float32Array; y: Int32Array; n: number }[] {
  return Array.from({ length: 4 }, (_, b) => ({
    x: seeded(BATCH * 8 * 8 * 3, 100 + b),
    y: Int32Array.from({ length: BATCH }, (_, i) => (i + b) % 4),
    n: BATCH,
  }));
}

async function train(backend: 'cpu' | 'wasm', weights: Float32Array[]): Promise<{ losses: number[]; tensorCounts: number[] }> {
  await tf.setBackend(backend);
  const model = buildDenseNet(config);
  model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  // The product's step and optimizer (SGD, Nesterov momentum 0.9, weight decay 1e-4).
  const variables = trainVariables(model);
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, variables);
  const data = batches();
  const losses: number[] = [];
  const tensorCounts: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    losses.push(trainStep({ model, variables, optimizer, classes: 4, labelSmoothing: 0, seed: 1 }, data[s % data.length], s, 0.05).loss);
    tensorCounts.push(tf.memory().numTensors);
  }
  optimizer.dispose();
  model.dispose();
  return { losses, tensorCounts };
}

describe('training a tiny DenseNet on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });

  it('matches 20 steps on cpu (losses within 1e-3) with a flat tensor count', async () => {
    await tf.setBackend('cpu');
    const init = buildDenseNet(config);
    const weights = init.getWeights().map((w) => Float32Array.from(w.dataSync()));
    init.dispose();
    const cpu = await train('cpu', weights);
    const wasm = await train('wasm', weights);
    expect(cpu.losses[STEPS - 1]).toBeLessThan(cpu.losses[0]); // it learns, so the comparison means something
    for (let s = 0; s < STEPS; s++) expect(Math.abs(wasm.losses[s] - cpu.losses[s]), `step ${s}`).toBeLessThanOrEqual(1e-3);
    // Tensors do not accumulate across steps (after the first, which creates the optimizer's slots).
    expect(new Set(wasm.tensorCounts.slice(1)).size).toBe(1);
  });
});
