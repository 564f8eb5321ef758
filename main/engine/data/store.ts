import type { DataSplit } from './types';

/**
 * Decoded samples, held within a memory budget. When every sample fits, they live in one uint8
 * arena (a quarter of the float32 size) filled as they are first decoded; otherwise a bounded LRU
 * keeps the most recent ones and the rest are decoded from disk again when a batch needs them.
 * Both modes return identical bytes, because decoding is deterministic.
 */

/** Decodes sample `i` to H×W×C uint8. Must be deterministic. */
export type LoadSample = (i: number) => Promise<Uint8Array>;

export const DEFAULT_MEMORY_BUDGET = 1024 ** 3;

export class SampleStore {
  readonly cached: boolean;
  private readonly arena: Uint8Array | null;
  private readonly filled: Uint8Array | null;
  private readonly lru = new Map<number, Uint8Array>();
  private readonly lruCapacity: number;
  private readonly inflight = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly count: number,
    readonly sampleBytes: number,
    private readonly load: LoadSample,
    budgetBytes: number = DEFAULT_MEMORY_BUDGET,
  ) {
    if (!(budgetBytes >= 0)) throw new RangeError(`memoryBudgetBytes must be a non-negative number; got ${budgetBytes}.`);
    this.cached = count * sampleBytes <= budgetBytes;
    this.arena = this.cached ? new Uint8Array(count * sampleBytes) : null;
    this.filled = this.cached ? new Uint8Array(count) : null;
    // At least a couple of batches' worth, so prefetching never evicts the batch being read.
    this.lruCapacity = Math.max(256, Math.floor(budgetBytes / Math.max(1, sampleBytes)));
  }

  /** Stores a sample decoded elsewhere (the validation pass), if there is room for it. */
  put(i: number, pixels: Uint8Array): void {
    if (this.arena && this.filled) {
      this.arena.set(pixels, i * this.sampleBytes);
      this.filled[i] = 1;
    } else this.remember(i, pixels);
  }

  async get(i: number): Promise<Uint8Array> {
    if (!(Number.isInteger(i) && i >= 0 && i < this.count)) {
      throw new RangeError(`Sample index must be an integer in [0, ${this.count}); got ${i}.`);
    }
    if (this.arena && this.filled?.[i]) return this.arena.subarray(i * this.sampleBytes, (i + 1) * this.sampleBytes);
    const hit = this.lru.get(i);
    if (hit) {
      this.lru.delete(i);
      this.lru.set(i, hit);
      return hit;
    }
    let pending = this.inflight.get(i);
    if (!pending) {
      pending = this.load(i).then((px) => {
        if (px.length !== this.sampleBytes) {
          throw new Error(`Sample ${i} decoded to ${px.length} bytes; expected ${this.sampleBytes}.`);
        }
        this.put(i, px);
        return px;
      });
      this.inflight.set(i, pending);
      pending.then(
        () => this.inflight.delete(i),
        () => this.inflight.delete(i),
      );
    }
    return pending;
  }

  private remember(i: number, px: Uint8Array): void {
    this.lru.delete(i);
    this.lru.set(i, px);
    while (this.lru.size > this.lruCapacity) {
      const oldest = this.lru.keys().next().value as number;
      this.lru.delete(oldest);
    }
  }
}

/** How many samples are decoded at once: sharp works on libuv's pool of 4 threads. */
const READ_CONCURRENCY = 8;

/** Runs `fn` over 0..n-1 with at most `limit` calls in flight. */
export async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      signal?.throwIfAborted();
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** byte → byte/255 as float32: a table lookup is cheaper than a division per value. */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** A split: a list of indices into a store, with their labels; `nameOf` names a store index. */
export function makeSplit(
  store: SampleStore,
  indices: readonly number[],
  allLabels: Int32Array,
  sampleShape: [number, number, number],
  nameOf?: (storeIndex: number) => string,
): DataSplit {
  const labels = Int32Array.from(indices, (i) => allLabels[i]);
  const bytes = store.sampleBytes;
  return {
    size: indices.length,
    labels,
    sampleShape,
    ...(nameOf ? {
      name: (j: number) => {
        if (!(Number.isInteger(j) && j >= 0 && j < indices.length)) throw new RangeError(`Split index must be an integer in [0, ${indices.length}); got ${j}.`);
        return nameOf(indices[j]);
      },
    } : {}),
    async read(which: readonly number[]): Promise<Float32Array> {
      const out = new Float32Array(which.length * bytes);
      await forEachLimited(which.length, READ_CONCURRENCY, async (k) => {
        const j = which[k];
        if (!(Number.isInteger(j) && j >= 0 && j < indices.length)) {
          throw new RangeError(`Split index must be an integer in [0, ${indices.length}); got ${j}.`);
        }
        const px = await store.get(indices[j]);
        const o = k * bytes;
        for (let p = 0; p < bytes; p++) out[o + p] = TO_UNIT[px[p]];
      });
      return out;
    },
  };
}
