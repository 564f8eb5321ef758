import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { on, relErr, seeded } from '../../../../support/wasm';

// AvgPoolGrad (non-overlapping windows on wasm, stock otherwise) and inference-mode FusedBatchNorm
// against cpu.
describe('wasm AvgPoolGrad and inference batch norm match cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });

  it.each([
    { shape: [2, 8, 8, 5], k: 2, s: 2, pad: 'valid' as const },
    { shape: [1, 9, 7, 3], k: 2, s: 2, pad: 'valid' as const }, // odd sizes: last row/column unused
    { shape: [3, 9, 9, 4], k: 3, s: 3, pad: 'valid' as const },
    { shape: [2, 7, 7, 2], k: 3, s: 2, pad: 'same' as const }, // overlapping, padded: stock kernel
  ])('avg pool gradient, $shape, $k x $k / $s, $pad', async ({ shape, k, s, pad }) => {
    const run = () => {
      const x = tf.tensor4d(seeded(tf.util.sizeFromShape(shape), 1), shape as [number, number, number, number]);
      const y = tf.avgPool(x, k, s, pad);
      const r = tf.tensor(seeded(y.size, 2), y.shape);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, k, s, pad), r)))(x)];
    };
    const [cpu] = await on('cpu', run);
    const [wasm] = await on('wasm', run);
    expect(relErr(cpu, wasm)).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    { shape: [2, 4, 4, 6], scale: true, offset: true },
    { shape: [3, 5, 7], scale: false, offset: true },
    { shape: [10, 3], scale: true, offset: false },
  ])('batchNorm with moving statistics, $shape (scale $scale, offset $offset)', async ({ shape, scale, offset }) => {
    const c = shape[shape.length - 1];
    const run = () => {
      const x = tf.tensor(seeded(tf.util.sizeFromShape(shape), 3), shape);
      const mean = tf.tensor1d(seeded(c, 4));
      const variance = tf.tensor1d(seeded(c, 5).map((v) => v + 0.6));
      return [tf.batchNorm(x, mean, variance, offset ? tf.tensor1d(seeded(c, 6)) : undefined, scale ? tf.tensor1d(seeded(c, 7).map((v) => 1 + v)) : undefined, 1e-3)];
    };
    const [cpu] = await on('cpu', run);
    const [wasm] = await on('wasm', run);
    expect(relErr(cpu, wasm)).toBeLessThanOrEqual(1e-5);
  });
});
