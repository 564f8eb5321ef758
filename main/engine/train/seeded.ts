import { createRng, deriveSeed } from '../data/rng';

/**
 * Runs `fn` with Math.random replaced by a stream seeded from `seed`, then puts Math.random back.
 *
 * Why: tfjs draws the seed of every unseeded random op (tf.randomUniform in Dropout, the
 * truncated normal of `heNormal` initialisers) from Math.random, and tfjs-layers gives no way to
 * pass a seed to a Dropout layer per call. Swapping Math.random for the duration of one synchronous
 * section (building the model, one training step) makes weight init and dropout masks a function of
 * (run seed, step), so cpu runs are reproducible and a resumed run draws the masks an uninterrupted
 * one would have. `fn` must be synchronous: nothing else may run while the swap is in place.
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const rng = createRng(seed >>> 0);
  const original = Math.random;
  // A zero result would make tfjs fall back to Math.random again (`seed ? seed : Math.random()`),
  // and 0 is a valid draw from [0, 1): nudge it.
  Math.random = () => rng.next() || 2 ** -33;
  try {
    const result = fn();
    if (result instanceof Promise) throw new Error('withSeededRandom needs a synchronous function.');
    return result;
  } finally {
    Math.random = original;
  }
}

/** Seeds of the separate random streams of a run, derived so that they never collide. */
export const SeedPurpose = { init: 1, dropout: 2, data: 3, valSplit: 4 } as const;

export function streamSeed(runSeed: number, purpose: number, ...parts: number[]): number {
  return deriveSeed(runSeed, purpose, ...parts);
}
