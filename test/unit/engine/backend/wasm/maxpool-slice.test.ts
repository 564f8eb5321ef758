import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { on, relErr, seeded } from '../../../../support/wasm';

// The wasm MaxPoolGrad and Slice kernels against the cpu backend: the ImageNet stem's zero pad +
// 3x3/2 max pool (inputs after a ReLU, so many ties at 0), other windows and paddings, odd sizes
// and channel counts, one image and several (split over the two threads).
describe('wasm MaxPoolGrad and Slice match cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });

  const pools: [number[], number, number, 'valid' | 'same', boolean][] = [
    [[3, 12, 12, 8], 3, 2, 'valid', true],
    [[2, 9, 11, 6], 3, 2, 'same', false],
    [[1, 8, 8, 5], 2, 2, 'valid', false],
    [[4, 7, 7, 13], 3, 1, 'same', true],
  ];
  for (const [shape, k, s, pad, relu] of pools) {
    it(`max pool gradient, ${JSON.stringify(shape)}, ${k}x${k}/${s}, '${pad}'${relu ? ', after ReLU and a zero pad' : ''}`, async () => {
      const run = () => {
        let x = tf.tensor4d(seeded(tf.util.sizeFromShape(shape), 7), shape as [number, number, number, number]);
        if (relu) x = tf.pad(tf.relu(x), [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D;
        const r = tf.tensor(seeded(tf.util.sizeFromShape(tf.maxPool(x, k, s, pad).shape), 8), tf.maxPool(x, k, s, pad).shape);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), r)))(x);
        return [tf.maxPool(x, k, s, pad), dx];
      };
      const cpu = await on('cpu', run);
      const wasm = await on('wasm', run);
      expect(relErr(cpu[0], wasm[0])).toBe(0);
      expect(relErr(cpu[1], wasm[1])).toBeLessThanOrEqual(1e-6);
    });
  }

  const slices: [number[], number[], number[]][] = [
    [[3, 14, 14, 8], [0, 1, 1, 0], [3, 12, 12, 8]],
    [[2, 9, 7, 6], [1, 2, 0, 1], [1, 5, 7, 4]],
    [[5, 33], [1, 3], [3, 29]],
    [[4, 6, 10], [0, 2, 3], [4, 3, 5]],
    [[64, 40, 40, 3], [0, 3, 3, 0], [64, 34, 34, 3]],
  ];
  for (const [shape, begin, size] of slices) {
    it(`slice ${JSON.stringify(shape)} from ${JSON.stringify(begin)}, size ${JSON.stringify(size)}, and the zero pad's gradient`, async () => {
      const run = () => {
        const x = tf.tensor(seeded(tf.util.sizeFromShape(shape), 9), shape);
        const padded = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.pad(a, shape.map(() => [1, 2]) as [number, number][]), 2)))(x);
        return [tf.slice(x, begin, size), padded];
      };
      const cpu = await on('cpu', run);
      const wasm = await on('wasm', run);
      cpu.forEach((c, i) => expect(relErr(c, wasm[i]), `output ${i}`).toBe(0));
    });
  }
});
