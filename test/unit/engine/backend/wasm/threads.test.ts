import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { on, relErr, seeded } from '../../../../support/wasm';

// Kernels split their rows between the main thread and the helper thread once tensors are large
// enough (split.ts); these shapes are above that size, so both halves and their seams are checked.
describe('wasm kernels split over two threads match cpu', () => {
  beforeAll(async () => {
    const report = await initBackend('wasm', { threads: 2 });
    expect(report.threads).toBe(2);
  });

  it('batch norm forward and backward over 4,096 rows with 7 channels', async () => {
    const shape = [4, 32, 32, 7];
    const run = () => {
      const layer = tf.layers.batchNormalization({ axis: -1 });
      const x = tf.add(tf.mul(tf.tensor(seeded(tf.util.sizeFromShape(shape), 1), shape), 2), 0.5);
      const r = tf.tensor(seeded(tf.util.sizeFromShape(shape), 2), shape);
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a, { training: true }) as tf.Tensor, r)))(x);
      return [y, dx];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(relErr(cpu[0], wasm[0])).toBeLessThanOrEqual(1e-4);
    expect(relErr(cpu[1], wasm[1])).toBeLessThanOrEqual(1e-4);
  });

  it('relu, its gradient, concat and split over ~300k elements (odd count)', async () => {
    const shape = [3, 31, 33, 101];
    const run = () => {
      const x = tf.tensor(seeded(tf.util.sizeFromShape(shape), 3), shape);
      const z = tf.tensor(seeded(3 * 31 * 33 * 5, 4), [3, 31, 33, 5]);
      const r = tf.tensor(seeded(tf.util.sizeFromShape(shape), 5), shape);
      const cat = tf.concat([x, z], 3);
      const [a, b] = tf.split(cat, [101, 5], 3);
      return [tf.relu(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), r)))(x), cat, a, b];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    cpu.forEach((c, i) => expect(relErr(c, wasm[i]), `output ${i}`).toBe(0));
  });

  it('Identity shares data: a clone reads the same values and disposing either leaves the other intact', async () => {
    await tf.setBackend('wasm');
    const heapTensors = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const x = tf.tensor1d([1, -2, 3]);
    const before = heapTensors();
    const y = tf.clone(x);
    expect(heapTensors()).toBe(before); // no copy on the heap
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3]);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.clone(a), 2)))(y);
    expect(Array.from(g.dataSync())).toEqual([2, 2, 2]);
    tf.dispose([y, g]);
    expect(heapTensors()).toBe(before - 1);
  });
});

