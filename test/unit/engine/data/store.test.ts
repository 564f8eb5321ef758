import { describe, expect, it } from 'vitest';
import { SampleStore, makeSplit } from '../../../../main/engine/data/store';

const loader = () => {
  const calls: number[] = [];
  const load = async (i: number) => {
    calls.push(i);
    return Uint8Array.from([i, 255 - i]);
  };
  return { calls, load };
};

describe('SampleStore', () => {
  it('keeps everything when it fits and decodes each sample once', async () => {
    const { calls, load } = loader();
    const store = new SampleStore(10, 2, load, 20);
    expect(store.cached).toBe(true);
    await Promise.all([store.get(3), store.get(3), store.get(4)]);
    await store.get(3);
    expect(calls).toEqual([3, 4]);
    expect(Array.from(await store.get(3))).toEqual([3, 252]);
  });

  it('streams through a bounded LRU when it does not fit', async () => {
    const { calls, load } = loader();
    const store = new SampleStore(1000, 2, load, 0); // capacity: the 256-sample floor
    expect(store.cached).toBe(false);
    for (let i = 0; i < 300; i++) await store.get(i);
    await store.get(299); // recent: still held
    await store.get(0); // evicted: decoded again
    expect(calls.filter((i) => i === 299)).toHaveLength(1);
    expect(calls.filter((i) => i === 0)).toHaveLength(2);
  });

  it('reads splits as float32 in [0, 1] and refuses bad indices', async () => {
    const { load } = loader();
    const store = new SampleStore(4, 2, load);
    const split = makeSplit(store, [2, 3], Int32Array.from([0, 1, 0, 1]), [1, 2, 1]);
    expect(Array.from(split.labels)).toEqual([0, 1]);
    expect(Array.from(await split.read([1, 0]))).toEqual([3 / 255, 252 / 255, 2 / 255, 253 / 255].map(Math.fround));
    await expect(split.read([2])).rejects.toThrow('Split index must be an integer in [0, 2); got 2.');
    await expect(store.get(-1)).rejects.toThrow('Sample index must be an integer in [0, 4); got -1.');
    expect(() => new SampleStore(1, 1, load, -5)).toThrow('memoryBudgetBytes must be a non-negative number; got -5.');
  });
});
