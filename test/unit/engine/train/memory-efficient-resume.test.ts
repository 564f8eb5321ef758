import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainingForward } from '../../../../main/engine/model/memory-efficient/forward';
import { setModelWeights, trainVariables } from '../../../../main/engine/train/model-weights';
import { Optimizer } from '../../../../main/engine/train/optimizers';
import { trainStep } from '../../../../main/engine/train/step';
import { TINY_MODEL, tinySettings } from '../../../support/train-fixtures';
import { model, resumePoint, train } from '../../../support/train-harness';
import { seeded } from '../../../support/wasm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const efficient = (m: tf.LayersModel) => trainingForward(m, { ...TINY_MODEL, dropRate: 0.2 }, true);

describe('a memory-efficient run', () => {
  it('stopped and resumed gives the losses of a plain run that never stopped', async () => {
    const config = { ...TINY_MODEL, dropRate: 0.2 };
    const s = tinySettings({ epochs: 2, augment: { padCrop: true, flip: true }, schedule: 'multistep' });
    const plain = await train(s, { m: model(s, config) });
    const first = await train(s, { m: model(s, config), forward: efficient, onStep: (step, control) => { if (step === 5) control.stop(); } });
    expect(first.result.reason).toBe('stopped');
    const saved = first.checkpoints.at(-1)!;
    const fresh = model({ ...s, seed: 99 }, config);
    setModelWeights(fresh, saved.weights);
    const resumed = await train(s, { m: fresh, forward: efficient, resume: resumePoint(saved) });
    expect(resumed.result.reason).toBe('completed');
    const losses = [...first.losses.slice(0, 5), ...resumed.losses];
    expect(losses).toHaveLength(plain.losses.length);
    // Same data order, dropout masks and updates: the same losses up to float32 rounding.
    losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i]), `step ${i + 1}`).toBeLessThanOrEqual(1e-5 * Math.max(1, plain.losses[i])));
    expect(plain.losses.at(-1)!).toBeLessThan(plain.losses[0]);
  });
});

describe('micro-batching', () => {
  it("sums the micro-batches' gradients into the full batch's update", () => {
    // Two identical halves: each micro-batch has the full batch's BN statistics, so the update
    // must be the full batch's exactly (with different halves, BN would see different statistics).
    const config = TINY_MODEL;
    const half = seeded(4 * 64, 1);
    const x = new Float32Array(8 * 64);
    x.set(half, 0);
    x.set(half, 4 * 64);
    const batch = { x, y: Int32Array.from([0, 1, 2, 0, 0, 1, 2, 0]), n: 8 };
    const run = (microBatch: number) => {
      const s = tinySettings();
      const m = model(s, config);
      const variables = trainVariables(m);
      const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, variables);
      const out = trainStep({ model: m, variables, optimizer, classes: config.classes, labelSmoothing: 0, seed: 1, microBatch }, batch, 0, 0.1);
      const weights = variables.map((v) => Float32Array.from(v.variable.dataSync()));
      optimizer.dispose();
      m.dispose();
      return { ...out, weights };
    };
    const whole = run(0);
    const micro = run(4);
    expect(Math.abs(micro.loss - whole.loss)).toBeLessThanOrEqual(1e-6);
    expect(micro.correct).toBe(whole.correct);
    whole.weights.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - micro.weights[i][j])).toBeLessThanOrEqual(1e-6)));
  });
});
