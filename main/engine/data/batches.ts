import { augmentBatch, checkAugmentOptions, type AugmentOptions } from './augment';
import { applyNormalization, checkNormalization, type Normalization } from './normalize';
import { createRng, deriveSeed, shuffleInPlace, type Rng } from './rng';
import type { DataSplit } from './types';

/**
 * One epoch of batches, with the next batch read (and decoded) while the caller trains on the
 * current one.
 *
 * Randomness and exact resume: when called, iterateBatches draws exactly ONE 32-bit value from
 * `rng` (the epoch seed). The order and every batch's augmentation derive from that value and the
 * batch index alone, so prefetching doesn't change them, and a run resumed mid-epoch reproduces
 * them: store `rng.getState()` from just before the call, and on resume restore it and call again
 * with `startBatch` set to the next batch.
 */

/**
 * The one batch type: what the data module delivers and what training, validation, inspection and
 * `eval` consume.
 */
export interface Batch {
  /** N×H×W×C float32: augmented (if asked) then normalized (if asked). */
  x: Float32Array;
  /** N class indices. */
  y: Int32Array;
  /** Samples in this batch (≤ batchSize; less only for the last batch without dropLast). */
  n: number;
  /** Positions of the samples within the split, when the batch was drawn from one (iterateBatches always says). */
  indices?: number[];
  /** Index of this batch within the epoch, likewise. */
  batch?: number;
}

export interface BatchOptions {
  batchSize: number;
  /** Visit samples in a seeded random order (training) or in split order (evaluation). */
  shuffle: boolean;
  /** Source of the epoch seed; exactly one value is drawn per call. */
  rng: Rng;
  /** Pad-crop/flip augmentation; omit or false for evaluation. */
  augment?: AugmentOptions | false;
  /** Per-channel normalization applied after augmentation; omit or null for raw [0, 1]. */
  normalization?: Normalization | null;
  /** Leave out a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Start at this batch (for resuming mid-epoch). Default 0. */
  startBatch?: number;
  /** [H, W, C]; defaults to split.sampleShape. Needed for augmentation. */
  sampleShape?: [number, number, number];
}

export function batchCount(size: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

export function iterateBatches(split: DataSplit, opts: BatchOptions): AsyncGenerator<Required<Batch>, void, undefined> {
  const { batchSize, shuffle } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer; got ${batchSize}.`);
  const count = batchCount(split.size, batchSize, opts.dropLast);
  const start = opts.startBatch ?? 0;
  if (!Number.isInteger(start) || start < 0 || start > count) {
    throw new RangeError(`startBatch must be an integer in [0, ${count}] for ${split.size} samples in batches of ${batchSize}; got ${start}.`);
  }
  const shape = opts.sampleShape ?? split.sampleShape;
  const augment = opts.augment || null;
  if (augment) {
    if (!shape) throw new RangeError('Augmentation needs the sample shape: give opts.sampleShape or a split with sampleShape.');
    checkAugmentOptions(augment, shape);
  }
  if (opts.normalization) checkNormalization(opts.normalization, opts.normalization.mean.length);

  // Drawn now, synchronously, so the caller's rng state right after this call is well defined.
  const epochSeed = opts.rng.nextUint32();
  const order = Array.from({ length: split.size }, (_, i) => i);
  if (shuffle) shuffleInPlace(order, createRng(deriveSeed(epochSeed, 0)));

  const produce = async (b: number): Promise<Required<Batch>> => {
    const indices = order.slice(b * batchSize, Math.min((b + 1) * batchSize, split.size));
    const n = indices.length;
    let x = await split.read(indices);
    if (augment && shape) x = augmentBatch(x, n, shape, createRng(deriveSeed(epochSeed, 1, b)), augment).x;
    if (opts.normalization) applyNormalization(x, opts.normalization);
    const y = Int32Array.from(indices, (i) => split.labels[i]);
    return { x, y, indices, n, batch: b };
  };

  // A prefetch that fails while the caller is busy must not become an unhandled rejection (which
  // ends a Node process); marking it handled keeps the error for the `await` that consumes it.
  const prefetch = (b: number): Promise<Required<Batch>> | null => {
    if (b >= count) return null;
    const p = produce(b);
    p.catch(() => undefined);
    return p;
  };

  return (async function* () {
    let next = prefetch(start);
    for (let b = start; b < count; b++) {
      const current = await next!;
      next = prefetch(b + 1);
      yield current;
    }
  })();
}
