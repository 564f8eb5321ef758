import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { makeTrainer } from '../../../../../main/engine/backend/train-step';
import { buildDenseNet } from '../../../../../main/engine/model/densenet';
import { getPreset } from '../../../../../shared/presets';
import { seeded } from '../../../../support/wasm';

// 20 SGD steps of a tiny DenseNet-BC on wasm (training kernels, fused BN, tape release) against the
// same 20 steps on the pure-JS cpu backend, from the same weights and batches.
const config = { ...getPreset('demo-bc-tiny', { inputShape: [8, 8, 3], classes: 4 }), blocks: [2, 2], growthRate: 4, initFeatures: 8, variant: 'custom' };
const STEPS = 20;
const BATCH = 4;

function batches(): { x: Float32Array; labels: number[] }[] {
  return Array.from({ length: 4 }, (_, b) => ({
    x: seeded(BATCH * 8 * 8 * 3, 100 + b),
    labels: Array.from({ length: BATCH }, (_, i) => (i + b) % 4),
  }));
}

async function train(backend: 'cpu' | 'wasm', weights: Float32Array[]): Promise<{ losses: number[]; tensorCounts: number[] }> {
  await tf.setBackend(backend);
  const model = buildDenseNet(config);
  model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const trainer = makeTrainer(model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const data = batches().map((b) => ({ x: tf.tensor4d(b.x, [BATCH, 8, 8, 3]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(b.labels, 'int32'), 4)) }));
  const losses: number[] = [];
  const tensorCounts: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const { x, y } = data[s % data.length];
    losses.push(trainer.step(x, y));
    tensorCounts.push(tf.memory().numTensors);
  }
  trainer.dispose();
  data.forEach((d) => tf.dispose([d.x, d.y]));
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
