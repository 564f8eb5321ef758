import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { on, relErr, seeded } from '../../../../support/wasm';

// The wasm Conv2DBackpropFilter / Conv2DBackpropInput (forward convs on rearranged tensors) against
// the pure-JS cpu backend, the reference, over the shapes a DenseNet and its ImageNet stem use and
// the awkward ones around them.
type Case = { x: [number, number, number, number]; k: number; ci: number; co: number; s: number | [number, number]; pad: 'same' | 'valid' };
const cases: Case[] = [
  { x: [1, 8, 8, 3], k: 1, ci: 3, co: 5, s: 1, pad: 'same' },
  { x: [3, 7, 9, 6], k: 1, ci: 6, co: 4, s: 1, pad: 'valid' },
  { x: [2, 9, 7, 5], k: 1, ci: 5, co: 3, s: 2, pad: 'same' },
  { x: [2, 8, 8, 4], k: 3, ci: 4, co: 4, s: 1, pad: 'same' },
  { x: [1, 7, 7, 3], k: 3, ci: 3, co: 2, s: 1, pad: 'valid' },
  { x: [3, 9, 11, 5], k: 3, ci: 5, co: 7, s: 2, pad: 'same' },
  { x: [2, 10, 9, 2], k: 3, ci: 2, co: 3, s: 2, pad: 'valid' },
  { x: [2, 15, 13, 3], k: 7, ci: 3, co: 4, s: 2, pad: 'same' },
  { x: [1, 16, 16, 3], k: 7, ci: 3, co: 8, s: 2, pad: 'valid' },
  { x: [1, 11, 11, 2], k: 7, ci: 2, co: 3, s: 1, pad: 'same' },
  { x: [4, 8, 8, 48], k: 3, ci: 48, co: 12, s: 1, pad: 'same' }, // a DenseNet-BC 3x3 conv (k=12)
  { x: [2, 8, 8, 37], k: 1, ci: 37, co: 48, s: 1, pad: 'valid' }, // a bottleneck 1x1 conv
  { x: [2, 9, 8, 3], k: 3, ci: 3, co: 5, s: [2, 1], pad: 'same' }, // unequal strides
  { x: [1, 7, 10, 2], k: 3, ci: 2, co: 2, s: [1, 3], pad: 'valid' },
];

// Loss = sum(conv(x, w) * r) for a fixed random r: its gradients are exactly the two kernels'
// outputs for dy = r.
function grads(c: Case): tf.Tensor[] {
  const [n, h, w] = c.x;
  const x = tf.tensor4d(seeded(n * h * w * c.ci, 1), c.x);
  const f = tf.tensor4d(seeded(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
  const outShape = tf.conv2d(x, f, c.s, c.pad).shape;
  const r = tf.tensor(seeded(tf.util.sizeFromShape(outShape), 3), outShape);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r)));
  return g([x, f]);
}

describe('wasm conv gradients match cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
    await tf.setBackend('cpu');
  });

  it.each(cases)('x $x, $k x $k, $ci->$co, stride $s, $pad', async (c) => {
    const [dxCpu, dwCpu] = await on('cpu', () => grads(c));
    const [dxWasm, dwWasm] = await on('wasm', () => grads(c));
    expect(relErr(dxCpu, dxWasm)).toBeLessThanOrEqual(1e-4);
    expect(relErr(dwCpu, dwWasm)).toBeLessThanOrEqual(1e-4);
  });

  it('agrees with central differences (gradient check) for both kernels', async () => {
    await tf.setBackend('wasm');
    const c: Case = { x: [2, 7, 7, 3], k: 3, ci: 3, co: 4, s: 2, pad: 'same' };
    const [dx, dw] = await on('wasm', () => grads(c));
    const x = seeded(2 * 7 * 7 * 3, 1);
    const w = seeded(9 * 12, 2);
    const loss = (xv: Float32Array, wv: Float32Array) =>
      tf.tidy(() => {
        const y = tf.conv2d(tf.tensor4d(xv, c.x), tf.tensor4d(wv, [3, 3, 3, 4]), c.s, c.pad);
        return tf.sum(tf.mul(y, tf.tensor(seeded(y.size, 3), y.shape))).dataSync()[0];
      });
    // The loss is linear in each argument, so a central difference along a random direction is
    // exact up to float32 rounding.
    const eps = 0.5;
    for (const [grad, base, which] of [[dx, x, 'x'], [dw, w, 'w']] as const) {
      const dir = seeded(base.length, which === 'x' ? 7 : 8);
      const plus = base.map((v, i) => v + eps * dir[i]);
      const minus = base.map((v, i) => v - eps * dir[i]);
      const numeric = which === 'x' ? (loss(plus, w) - loss(minus, w)) / (2 * eps) : (loss(x, plus) - loss(x, minus)) / (2 * eps);
      const analytic = grad.reduce((s, g, i) => s + g * dir[i], 0);
      expect(Math.abs(numeric - analytic) / Math.abs(analytic)).toBeLessThan(1e-3);
    }
  });

  it('leaks no tensors or heap across repeated calls', async () => {
    await tf.setBackend('wasm');
    const c = cases[5];
    tf.dispose(tf.tidy(() => grads(c)));
    const before = tf.memory().numTensors;
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(() => grads(c)));
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
  });
});
