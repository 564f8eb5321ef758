import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { augmentBatch } from '../../../../main/engine/data/augment';
import { batchCount, iterateBatches, type Batch } from '../../../../main/engine/data/batches';
import { applyNormalization, computeNormalization } from '../../../../main/engine/data/normalize';
import { createRng } from '../../../../main/engine/data/rng';
import type { DataSplit } from '../../../../main/engine/data/types';

/** A split over random in-memory samples, counting reads. */
function memorySplit(n: number, shape: [number, number, number], seed = 1): DataSplit & { data: Float32Array; reads: number[][] } {
  const size = shape[0] * shape[1] * shape[2];
  const rng = createRng(seed);
  const data = Float32Array.from({ length: n * size }, () => Math.round(rng.next() * 255) / 255);
  const reads: number[][] = [];
  return {
    size: n,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    sampleShape: shape,
    data,
    reads,
    async read(indices) {
      reads.push([...indices]);
      const out = new Float32Array(indices.length * size);
      indices.forEach((j, k) => out.set(data.subarray(j * size, (j + 1) * size), k * size));
      return out;
    },
  };
}

/** The paper's augmentation done literally: build the zero-padded image, then cut the crop. */
function padThenCrop(img: Float32Array, [h, w, c]: number[], pad: number, oy: number, ox: number): Float32Array {
  const ph = h + 2 * pad;
  const pw = w + 2 * pad;
  const padded = new Float32Array(ph * pw * c);
  for (let y = 0; y < h; y++) padded.set(img.subarray(y * w * c, (y + 1) * w * c), ((y + pad) * pw + pad) * c);
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) out.set(padded.subarray(((y + oy) * pw + ox) * c, ((y + oy) * pw + ox + w) * c), y * w * c);
  return out;
}

function mirror(img: Float32Array, [h, w, c]: number[]): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = img[(y * w + (w - 1 - x)) * c + k];
  return out;
}

describe('augmentation', () => {
  const shape: [number, number, number] = [6, 5, 3];
  const split = memorySplit(8, shape);
  const sample = 6 * 5 * 3;

  it('flip alone is an exact mirror of the flipped samples and leaves the others alone', () => {
    const { x, draws } = augmentBatch(split.data, 8, shape, createRng(3), { padCrop: false, flip: true });
    expect(draws.flipped.some((f) => f === 1) && draws.flipped.some((f) => f === 0)).toBe(true);
    for (let s = 0; s < 8; s++) {
      const src = split.data.subarray(s * sample, (s + 1) * sample);
      expect(Array.from(x.subarray(s * sample, (s + 1) * sample))).toEqual(Array.from(draws.flipped[s] ? mirror(src, shape) : src));
    }
  });

  it('pad-crop equals a literal pad by 4 and crop, with offsets inside the padded image', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 6 }), (seed, pad) => {
        const { x, draws } = augmentBatch(split.data, 8, shape, createRng(seed), { padCrop: true, flip: true, pad });
        for (let s = 0; s < 8; s++) {
          const [oy, ox] = [draws.offsets[2 * s], draws.offsets[2 * s + 1]];
          expect(oy >= 0 && oy <= 2 * pad && ox >= 0 && ox <= 2 * pad).toBe(true);
          let want = padThenCrop(split.data.subarray(s * sample, (s + 1) * sample), shape, pad, oy, ox);
          if (draws.flipped[s]) want = mirror(want, shape);
          expect(Array.from(x.subarray(s * sample, (s + 1) * sample))).toEqual(Array.from(want));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('reaches every offset, and the same seed gives the same output', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const { draws } = augmentBatch(split.data, 8, shape, createRng(seed), { padCrop: true, flip: false });
      for (let s = 0; s < 8; s++) seen.add(`${draws.offsets[2 * s]},${draws.offsets[2 * s + 1]}`);
    }
    expect(seen.size).toBe(81); // (2·4 + 1)² offsets
    const a = augmentBatch(split.data, 8, shape, createRng(9), { padCrop: true, flip: true }).x;
    const b = augmentBatch(split.data, 8, shape, createRng(9), { padCrop: true, flip: true }).x;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('is the identity when switched off', () => {
    const rng = createRng(4);
    const before = rng.getState();
    const { x } = augmentBatch(split.data, 8, shape, rng, { padCrop: false, flip: false });
    expect(x).toBe(split.data);
    expect(rng.getState()).toEqual(before);
  });

  it('refuses a batch of the wrong size and a bad padding', () => {
    expect(() => augmentBatch(new Float32Array(7), 1, shape, createRng(1), { padCrop: true, flip: true })).toThrow('A batch of 1 samples of 6×5×3 needs 90 values; got 7.');
    expect(() => augmentBatch(split.data, 8, shape, createRng(1), { padCrop: true, flip: true, pad: -1 })).toThrow('Augmentation padding must be an integer in [0, 6] for a 6×5 input; got -1.');
  });
});

describe('normalization', () => {
  it('computes per-channel mean and std equal to a direct two-pass computation', async () => {
    const split = memorySplit(37, [3, 4, 3], 8);
    const norm = await computeNormalization(split, { chunk: 5 });
    for (let k = 0; k < 3; k++) {
      const vals = Array.from(split.data).filter((_, i) => i % 3 === k);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
      expect(norm.mean[k]).toBeCloseTo(mean, 12);
      expect(norm.std[k]).toBeCloseTo(std, 12);
    }
  });

  it('gives zero mean and unit std once applied, and only centres a constant channel', async () => {
    const split = memorySplit(20, [2, 2, 3], 2);
    const norm = await computeNormalization(split);
    const x = applyNormalization(Float32Array.from(split.data), norm);
    const again = await computeNormalization({ ...split, read: async () => x }, { chunk: 1000 });
    again.mean.forEach((m) => expect(m).toBeCloseTo(0, 5));
    again.std.forEach((s) => expect(s).toBeCloseTo(1, 5));
    expect(Array.from(applyNormalization(Float32Array.from([0.5, 0.5]), { mean: [0.25], std: [0] }))).toEqual([0.25, 0.25]);
    expect(() => applyNormalization(new Float32Array(2), { mean: [0], std: [Number.NaN] })).toThrow(/^Normalization must have 1 finite means/);
  });
});

describe('iterateBatches', () => {
  const shape: [number, number, number] = [4, 4, 1];
  const collect = async (it: AsyncIterable<Required<Batch>>) => {
    const out: Required<Batch>[] = [];
    for await (const b of it) out.push(b);
    return out;
  };

  it('visits every sample once per epoch, in a seeded order, with dropLast and partial batches', async () => {
    const split = memorySplit(23, shape);
    const all = await collect(iterateBatches(split, { batchSize: 5, shuffle: true, rng: createRng(1) }));
    expect(all.map((b) => b.n)).toEqual([5, 5, 5, 5, 3]);
    expect(all.flatMap((b) => b.indices).sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    const b0 = all[0];
    expect(Array.from(b0.y)).toEqual(b0.indices.map((i) => i % 3));
    expect(Array.from(b0.x.subarray(0, 16))).toEqual(Array.from(split.data.subarray(b0.indices[0] * 16, b0.indices[0] * 16 + 16)));
    const dropped = await collect(iterateBatches(split, { batchSize: 5, shuffle: false, rng: createRng(1), dropLast: true }));
    expect(dropped.map((b) => b.indices[0])).toEqual([0, 5, 10, 15]);
    expect(batchCount(23, 5, true)).toBe(4);
    const other = await collect(iterateBatches(split, { batchSize: 5, shuffle: true, rng: createRng(2) }));
    expect(other.map((b) => b.indices)).not.toEqual(all.map((b) => b.indices));
  });

  it('draws one value from the rng per epoch, so a resumed epoch repeats exactly', async () => {
    const split = memorySplit(30, shape);
    const opts = { batchSize: 4, shuffle: true, augment: { padCrop: true, flip: true, pad: 2 }, normalization: { mean: [0.5], std: [0.25] } };
    const rng = createRng(77);
    await collect(iterateBatches(split, { ...opts, rng })); // epoch 0
    const saved = rng.getState(); // what a checkpoint stores before epoch 1
    const epoch1 = await collect(iterateBatches(split, { ...opts, rng }));
    const afterEpoch1 = rng.getState();

    const resumed = createRng(0);
    resumed.setState(saved);
    const tail = await collect(iterateBatches(split, { ...opts, rng: resumed, startBatch: 5 }));
    expect(tail.map((b) => b.batch)).toEqual([5, 6, 7]);
    expect(tail.map((b) => Array.from(b.x))).toEqual(epoch1.slice(5).map((b) => Array.from(b.x)));
    expect(tail.map((b) => b.indices)).toEqual(epoch1.slice(5).map((b) => b.indices));
    expect(resumed.getState()).toEqual(afterEpoch1);
  });

  it('prefetches the next batch while the current one is in use, and stops when the caller breaks', async () => {
    const split = memorySplit(12, shape);
    const it = iterateBatches(split, { batchSize: 3, shuffle: false, rng: createRng(1) });
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(split.reads).toEqual([[0, 1, 2], [3, 4, 5]]); // batch 1 was read before batch 0 was used
    await it.return(undefined);
    expect(split.reads).toHaveLength(2);
  });

  it('surfaces a read error at the batch that failed, without an unhandled rejection', async () => {
    const split = memorySplit(9, shape);
    const failing: DataSplit = { ...split, read: async (idx) => (idx.includes(4) ? Promise.reject(new Error('disk gone')) : split.read(idx)) };
    const it = iterateBatches(failing, { batchSize: 3, shuffle: false, rng: createRng(1) });
    const first = await it.next();
    expect(first.done).toBe(false);
    await new Promise((r) => setTimeout(r, 20)); // the prefetch of batch 1 fails meanwhile
    await expect(it.next()).rejects.toThrow('disk gone');
  });

  it('refuses bad options', () => {
    const split = memorySplit(4, shape);
    expect(() => iterateBatches(split, { batchSize: 0, shuffle: false, rng: createRng(1) })).toThrow('batchSize must be a positive integer; got 0.');
    expect(() => iterateBatches(split, { batchSize: 2, shuffle: false, rng: createRng(1), startBatch: 3 })).toThrow('startBatch must be an integer in [0, 2] for 4 samples in batches of 2; got 3.');
  });
});
