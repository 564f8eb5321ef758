import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, permutation, type RngState } from '../../../../main/engine/data/rng';

describe('seeded RNG', () => {
  it('repeats per seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const r = createRng(seed);
      return Array.from({ length: 50 }, () => r.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0).every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)).toBe(true);
  });

  it('restores its state exactly through JSON, as a checkpoint does', () => {
    const r = createRng(7);
    for (let i = 0; i < 1000; i++) r.next();
    const saved = JSON.parse(JSON.stringify(r.getState())) as RngState;
    const expected = Array.from({ length: 100 }, () => r.next());
    const restored = createRng(1);
    restored.setState(saved);
    expect(Array.from({ length: 100 }, () => restored.next())).toEqual(expected);
    expect(saved.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)).toBe(true);
  });

  it('draws integers uniformly in range', () => {
    const r = createRng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    // Chi-square with 5 degrees of freedom; 20.5 is the 0.1% tail, so a correct generator fails ~never.
    const chi2 = counts.reduce((a, c) => a + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(20.5);
    const f = Array.from({ length: 1000 }, () => r.next());
    expect(Math.min(...f)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...f)).toBeLessThan(1);
  });

  it('shuffles into a permutation and derives distinct seeds', () => {
    const p = permutation(100, createRng(5));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    const seeds = new Set(Array.from({ length: 1000 }, (_, b) => deriveSeed(9, 1, b)));
    expect(seeds.size).toBe(1000);
    expect(deriveSeed(9, 1, 2)).toBe(deriveSeed(9, 1, 2));
    expect(deriveSeed(9, 1, 2)).not.toBe(deriveSeed(9, 2, 1));
  });

  it('refuses bad seeds and states with sentences', () => {
    expect(() => createRng(-1)).toThrow('A seed must be an integer in [0, 4294967295]; got -1.');
    expect(() => createRng(1.5)).toThrow('got 1.5.');
    expect(() => createRng(1).setState([1, 2, 3] as unknown as RngState)).toThrow('An RNG state must be four unsigned 32-bit integers; got [1,2,3].');
    expect(() => createRng(1).int(0)).toThrow('rng.int(n) needs an integer n in [1, 2^32]; got 0.');
  });
});
