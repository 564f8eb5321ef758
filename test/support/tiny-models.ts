import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../shared/config';

/** Shared by the export/import/predict tests: tiny configs and weights that exercise every parameter. */
export function tinyConfig(overrides: Partial<DenseNetConfig> = {}): DenseNetConfig {
  return {
    variant: 'custom',
    blocks: [2, 2],
    growthRate: 4,
    bottleneck: true,
    compression: 0.5,
    initFeatures: 8,
    stem: 'cifar',
    dropRate: 0,
    inputShape: [8, 8, 3],
    classes: 3,
    ...overrides,
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Gives every batch norm non-trivial statistics and affine parameters (fresh ones are the identity,
 * which would hide a converter that drops or swaps them), and the classifier a bias.
 */
export function randomizeBatchNorms(model: tf.LayersModel, seed = 7): void {
  const rand = seededRandom(seed);
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'BatchNormalization' && cls !== 'Dense') continue;
    const next = layer.weights.map((w) => {
      const role = w.originalName.split('/').pop()!;
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: n }, () => {
        if (role === 'gamma') return 0.5 + rand();
        if (role === 'moving_variance') return 0.5 + 1.5 * rand();
        if (role === 'kernel') return (rand() - 0.5) * 0.8;
        return (rand() - 0.5) * 0.6; // beta, moving_mean, bias
      });
      return tf.tensor(values, shape);
    });
    layer.setWeights(next);
    next.forEach((t) => t.dispose());
  }
}

/** A probe batch of values in [0, 1], NHWC. */
export function probeBatch(n: number, [h, w, c]: [number, number, number], seed = 3): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n * h * w * c }, () => rand());
}

export function nhwcToNchw(data: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
}

export function argmaxRows(values: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / cols; r++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (values[r * cols + j] > values[r * cols + best]) best = j;
    out.push(best);
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`Lengths differ: ${a.length} and ${b.length}.`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
