import { createRng, deriveSeed, shuffleInPlace } from './rng';

/**
 * Seeded, stratified train/validation split. Every class gives the validation set the same
 * fraction of its samples, up to rounding; the rounding is done by largest remainder, so the total
 * is exactly round(N × valFraction) and the per-class counts differ from proportional by < 1.
 * Every class keeps at least one training sample, so a class with one image trains on it and is
 * absent from validation (reported as a warning by the caller).
 */
export interface StratifiedSplit {
  train: number[];
  val: number[];
}

/**
 * @param labels class index of each sample (indices into `labels` are returned)
 * @param valFraction in [0, 1)
 * @param seed the same seed always gives the same split of the same labels
 */
export function stratifiedSplit(labels: ArrayLike<number>, numClasses: number, valFraction: number, seed: number): StratifiedSplit {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new RangeError(`valFraction must be in [0, 1); got ${valFraction}.`);
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);

  // Largest remainder apportionment of round(N·f) validation slots, capped at n_c - 1 per class.
  const total = Math.round(labels.length * valFraction);
  const quota = byClass.map((idx) => Math.min(Math.floor(idx.length * valFraction), Math.max(0, idx.length - 1)));
  let left = total - quota.reduce((a, b) => a + b, 0);
  const order = byClass
    .map((idx, c) => ({ c, rem: idx.length * valFraction - Math.floor(idx.length * valFraction) }))
    .sort((a, b) => b.rem - a.rem || a.c - b.c);
  for (const { c } of order) {
    if (left <= 0) break;
    if (quota[c] < byClass[c].length - 1) {
      quota[c]++;
      left--;
    }
  }

  const train: number[] = [];
  const val: number[] = [];
  byClass.forEach((idx, c) => {
    // One stream per class: adding samples to one class doesn't reshuffle the others.
    shuffleInPlace(idx, createRng(deriveSeed(seed, c)));
    val.push(...idx.slice(0, quota[c]));
    train.push(...idx.slice(quota[c]));
  });
  const asc = (a: number, b: number) => a - b;
  return { train: train.sort(asc), val: val.sort(asc) };
}
