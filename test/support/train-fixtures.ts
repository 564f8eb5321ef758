import { createRng } from '../../main/engine/data/rng';
import type { DataSplit, LoadedDataset } from '../../main/engine/data/types';
import type { DenseNetConfig } from '../../shared/config';
import { tinyConfig } from './tiny-models';
import { TrainSettingsSchema, type TrainSettings } from '../../shared/training';

/**
 * Tiny, fast fixtures for the training tests: an 8×8×1 DenseNet-BC with k=4 and two blocks of two
 * layers, and a synthetic 3-class dataset in memory whose classes differ by where a bright bar is
 * (top rows, middle rows, left columns), plus seeded noise.
 */
export const TINY_MODEL: DenseNetConfig = tinyConfig({ variant: 'test-tiny', inputShape: [8, 8, 1] });

/**
 * An even smaller net for tests of control flow rather than numerics (pause, early stopping...):
 * the cpu backend's Conv2DBackpropFilter is slow, and this one steps ~5× faster.
 */
export const MICRO_MODEL: DenseNetConfig = { ...TINY_MODEL, variant: 'test-micro', blocks: [1, 1], growthRate: 2, initFeatures: 4 };

function image(cls: number, rng: ReturnType<typeof createRng>): Float32Array {
  const x = new Float32Array(64);
  for (let i = 0; i < 64; i++) x[i] = 0.3 * rng.next();
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      const on = (cls === 0 && r < 2) || (cls === 1 && r >= 3 && r < 5) || (cls === 2 && c < 2);
      if (on) x[r * 8 + c] += 0.7;
    }
  }
  return x;
}

export function memorySplit(n: number, seed: number): DataSplit {
  const rng = createRng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const images = Array.from(labels, (cls) => image(cls, rng));
  return {
    size: n,
    labels,
    sampleShape: [8, 8, 1],
    read: async (indices) => {
      const out = new Float32Array(indices.length * 64);
      indices.forEach((idx, k) => out.set(images[idx], k * 64));
      return out;
    },
  };
}

export function syntheticDataset(trainSize = 24, valSize = 6): LoadedDataset {
  const classes = ['top', 'middle', 'left'];
  const count = (n: number) => [0, 1, 2].map((c) => Math.floor(n / 3) + (c < n % 3 ? 1 : 0));
  return {
    name: 'synthetic',
    classes,
    inputShape: [8, 8, 1],
    train: memorySplit(trainSize, 1),
    val: memorySplit(valSize, 2),
    test: null,
    report: {
      root: 'memory:synthetic', classes, counts: count(trainSize + valSize),
      splits: { train: count(trainSize), val: count(valSize), test: [0, 0, 0] },
      sizes: { '8x8': trainSize + valSize }, skipped: [], errors: [], warnings: [],
    },
    fingerprint: 'synthetic-v1',
  };
}

/** Settings for the tiny tests: small batches, no inspection cadence, no augmentation unless asked. */
export function tinySettings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return TrainSettingsSchema.parse({
    epochs: 2, batchSize: 4, lr: 0.05, seed: 3, backend: 'cpu', statsEvery: 0, gradientsEvery: 0,
    augment: { padCrop: false, flip: false }, checkpointEvery: 1000, ...overrides,
  });
}
