import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { on, relErr, seeded } from '../../../../support/wasm';

// The fused training-mode BatchNormalization (DnwBatchNormTrain / DnwBatchNormGrad, routed from
// tf.layers' layer on wasm) against the stock tf.layers path on cpu, and the one-pass ReLU kernels.
function bnStep(shape: number[], seed: number): tf.Tensor[] {
  const c = shape[shape.length - 1];
  const layer = tf.layers.batchNormalization({ axis: -1, epsilon: 1.001e-5, momentum: 0.9 });
  layer.build(shape);
  layer.setWeights([
    tf.tensor1d(seeded(c, seed + 1).map((v) => 1 + v)),
    tf.tensor1d(seeded(c, seed + 2)),
    tf.zeros([c]),
    tf.ones([c]),
  ]);
  // Inputs off zero mean and unit variance, so the normalisation does something.
  const x = tf.add(tf.mul(tf.tensor(seeded(tf.util.sizeFromShape(shape), seed), shape), 3), 0.7);
  const r = tf.tensor(seeded(tf.util.sizeFromShape(shape), seed + 3), shape);
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const f = () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar;
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, r)))(x);
  const { grads } = tf.variableGrads(f, vars);
  const [, , movingMean, movingVar] = layer.getWeights();
  const inference = layer.apply(x, { training: false }) as tf.Tensor;
  return [y, dx, grads[vars[0].name], grads[vars[1].name], movingMean, movingVar, inference];
}

describe('wasm fused batch norm matches the stock layer on cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });

  it.each([
    [[4, 5, 5, 8]],
    [[1, 3, 7, 5]], // batch 1, odd channels (SIMD tail)
    [[3, 6, 4, 37]],
    [[64, 13]], // a 2-D input: rows x channels
  ])('shape %j: output, dx, dgamma, dbeta, moving stats', async (shape) => {
    const cpu = await on('cpu', () => bnStep(shape, 11));
    const wasm = await on('wasm', () => bnStep(shape, 11));
    const names = ['y', 'dx', 'dgamma', 'dbeta', 'movingMean', 'movingVariance', 'inference'];
    names.forEach((name, i) => expect(relErr(cpu[i], wasm[i]), name).toBeLessThanOrEqual(1e-4));
  });

  it('is used on wasm (and not on cpu)', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      const prof = await tf.profile(() => tf.tidy(() => bnStep([2, 3, 3, 4], 1)));
      const names = new Set(prof.kernelNames);
      expect(names.has('DnwBatchNormTrain'), backend).toBe(backend === 'wasm');
      expect(names.has('DnwBatchNormGrad'), backend).toBe(backend === 'wasm');
    }
  });

  it('agrees with central differences of the training-mode output (gradient check)', async () => {
    await tf.setBackend('wasm');
    const shape = [3, 4, 4, 5];
    const n = tf.util.sizeFromShape(shape);
    const x0 = seeded(n, 21).map((v) => 2 * v + 0.3);
    const r = seeded(n, 22);
    const g = seeded(5, 23).map((v) => 1 + v);
    const b = seeded(5, 24);
    const layer = tf.layers.batchNormalization({ axis: -1 });
    layer.build(shape);
    layer.setWeights([tf.tensor1d(g), tf.tensor1d(b), tf.zeros([5]), tf.ones([5])]);
    const loss = (xv: Float32Array) =>
      tf.tidy(() => tf.sum(tf.mul(layer.apply(tf.tensor(xv, shape), { training: true }) as tf.Tensor, tf.tensor(r, shape))).dataSync()[0]);
    const dx = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, tf.tensor(r, shape))))(tf.tensor(x0, shape)).dataSync());
    const dir = seeded(n, 25);
    const eps = 1e-2;
    const numeric = (loss(x0.map((v, i) => v + eps * dir[i])) - loss(x0.map((v, i) => v - eps * dir[i]))) / (2 * eps);
    const analytic = Array.from(dx as Float32Array).reduce((s, v, i) => s + v * dir[i], 0);
    expect(Math.abs(numeric - analytic) / Math.abs(analytic)).toBeLessThan(2e-2);
  });
});

describe('wasm ReLU kernels match cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });

  it('forward and gradient, with zeros, a length that is not a multiple of 4, and NaN', async () => {
    const values = seeded(4 * 7 * 3, 5);
    values[3] = 0;
    values[10] = -0;
    const run = () => {
      const x = tf.tensor(values, [4, 7, 3]);
      const r = tf.tensor(seeded(values.length, 6), [4, 7, 3]);
      return [tf.relu(x), tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.relu(xi), r)))(x)];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(relErr(cpu[0], wasm[0])).toBe(0);
    expect(relErr(cpu[1], wasm[1])).toBe(0);
    const nanRun = () => [tf.relu(tf.tensor([NaN, 1, -1])), tf.grad((xi: tf.Tensor) => tf.sum(tf.relu(xi)))(tf.tensor([NaN, 1, -1]))];
    for (const [y, dx] of [await on('cpu', nanRun), await on('wasm', nanRun)]) {
      expect(Array.from(y)).toEqual([NaN, 1, 0]);
      expect(Array.from(dx)).toEqual([NaN, 1, 0]);
    }
  });
});
