/**
 * A seeded random number generator whose whole state is four 32-bit words, so a checkpoint can
 * store it and a resumed run continues with exactly the numbers it would have drawn.
 *
 * Written here because no npm library serves: seedrandom and friends don't expose a state that
 * survives JSON. The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator from
 * PractRand), seeded through splitmix32 so that nearby seeds give unrelated streams.
 */

/** The generator's state: four unsigned 32-bit integers. Plain numbers, so it survives JSON. */
export type RngState = [number, number, number, number];

export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A copy of the state; `setState(getState())` is a no-op. */
  getState(): RngState;
  setState(state: RngState): void;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`A seed must be an integer in [0, 4294967295]; got ${seed}.`);
  }
}

export function createRng(seed: number): Rng {
  checkSeed(seed);
  const mix = splitmix32(seed);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();

  const nextUint32 = (): number => {
    // sfc32: a + b + counter, with the counter guaranteeing a period of at least 2^32.
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = (b ^ (b >>> 9)) >>> 0;
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };

  const rng: Rng = {
    nextUint32,
    next: () => nextUint32() / 4294967296,
    int: (n: number) => {
      if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
        throw new RangeError(`rng.int(n) needs an integer n in [1, 2^32]; got ${n}.`);
      }
      // Rejection sampling keeps the result exactly uniform (no modulo bias).
      const limit = 4294967296 - (4294967296 % n);
      let x = nextUint32();
      while (x >= limit) x = nextUint32();
      return x % n;
    },
    getState: () => [a, b, c, d],
    setState: (state: RngState) => {
      if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
        throw new RangeError(`An RNG state must be four unsigned 32-bit integers; got ${JSON.stringify(state)}.`);
      }
      [a, b, c, d] = state;
    },
  };
  // Discard the first outputs, as sfc32's author recommends, so that the state is well mixed.
  for (let i = 0; i < 12; i++) nextUint32();
  return rng;
}

/**
 * A seed derived from `seed` and a list of integers (an epoch, a batch index...). Lets one draw
 * give every batch its own stream, so the numbers a batch gets don't depend on the order in which
 * batches were prepared (prefetching) or on where a run resumed.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = splitmix32(seed >>> 0)();
  for (const p of parts) h = splitmix32((h ^ Math.imul(p >>> 0, 0x9e3779b1)) >>> 0)();
  return h >>> 0;
}

/** Fisher–Yates shuffle in place; returns `items`. */
export function shuffleInPlace<T>(items: T[] | Int32Array | Uint32Array, rng: Rng): typeof items {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(p, rng);
  return p;
}
