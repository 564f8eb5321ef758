import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { computeStats, HISTOGRAM_BINS } from '../../../../main/engine/inspect/stats';
import { LayerStatSchema } from '../../../../shared/protocol/inspect';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A direct computation in float64 JS, independent of TF.js. */
function reference(values: number[]) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const v of values) histogram[Math.min(HISTOGRAM_BINS - 1, Math.floor(((v - min) / (max - min)) * HISTOGRAM_BINS))]++;
  return {
    mean,
    std,
    meanAbs: values.reduce((a, b) => a + Math.abs(b), 0) / n,
    min,
    max,
    zeroFraction: values.filter((v) => v <= 0).length / n,
    histogram,
  };
}

describe('layer statistics', () => {
  it('equal a direct computation on a known tensor', async () => {
    // 2×4×4×3 values: a ramp with a sign pattern and exact zeros (x ≤ 0 counts as zeroed by ReLU).
    // The values are offset by a quarter bin so none falls on a bin edge in float32.
    const values: number[] = [];
    for (let i = 0; i < 96; i++) values.push(i % 7 === 0 ? 0 : (((i * 37) % 96) - 40 + 0.3) / 8);
    const x = tf.tensor4d(values, [2, 4, 4, 3]);
    const y = tf.fill([1, 2, 2, 1], 3); // constant: std 0, everything in bin 0
    const [sx, sy] = await computeStats([{ layer: 'x', tensor: x }, { layer: 'y', tensor: y }]);
    const r = reference(values);
    expect(sx.layer).toBe('x');
    expect(sx.mean).toBeCloseTo(r.mean, 5);
    expect(sx.std).toBeCloseTo(r.std, 5);
    expect(sx.meanAbs).toBeCloseTo(r.meanAbs, 5);
    expect(sx.min).toBeCloseTo(r.min, 6);
    expect(sx.max).toBeCloseTo(r.max, 6);
    expect(sx.zeroFraction).toBeCloseTo(r.zeroFraction, 7);
    expect(sx.histogram).toEqual(r.histogram);
    expect(sx.histogram.reduce((a, b) => a + b, 0)).toBe(96);
    expect([sx.histMin, sx.histMax]).toEqual([sx.min, sx.max]);

    expect(sy).toMatchObject({ mean: 3, std: 0, meanAbs: 3, min: 3, max: 3, zeroFraction: 0 });
    expect(sy.histogram[0]).toBe(4);
    expect(LayerStatSchema.safeParse(sx).success).toBe(true);
    x.dispose();
    y.dispose();
  });

  it('leaks no tensor across repeated probes', async () => {
    const x = tf.randomNormal([4, 8, 8, 6]);
    await computeStats([{ layer: 'x', tensor: x }]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await computeStats([{ layer: 'x', tensor: x }, { layer: 'x2', tensor: x }]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('refuses an empty tensor with its shape', async () => {
    const e = tf.zeros([0, 3]);
    await expect(computeStats([{ layer: 'e', tensor: e }])).rejects.toThrow('Cannot compute statistics of an empty tensor of shape [0, 3].');
    e.dispose();
  });
});
