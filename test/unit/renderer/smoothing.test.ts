import { describe, expect, it } from 'vitest';
import { EpochMean, Smoother, smoothingFor } from '../../../renderer/src/stores/smoothing';

describe('Smoother', () => {
  it('starts at the first value (debiased) and follows a step change', () => {
    const s = new Smoother(2);
    expect(s.add(1)).toBeCloseTo(1, 12);
    let y = 0;
    for (let i = 0; i < 30; i++) y = s.add(0);
    expect(y).toBeLessThan(1e-5);
  });
  it('moves by a short batch’s share only: 2 images of 32 count 1/16 of a full batch', () => {
    const full = new Smoother(5);
    const short = new Smoother(5);
    for (let i = 0; i < 50; i++) {
      full.add(0.06);
      short.add(0.06);
    }
    const jumpFull = full.add(0.97) - 0.06;
    const jumpShort = short.add(0.97, 2 / 32) - 0.06;
    expect(jumpShort).toBeLessThan(jumpFull / 12);
    expect(jumpShort).toBeGreaterThan(0);
  });
  it('smooths over about a fifth of an epoch, within [1, 50] batches', () => {
    expect(smoothingFor(5)).toBe(1);
    expect(smoothingFor(100)).toBe(20);
    expect(smoothingFor(1563)).toBe(50);
  });
});

describe('EpochMean', () => {
  it('weights batches by their images and restarts each epoch', () => {
    const m = new EpochMean();
    m.add(0, 0.06, 1, 32);
    expect(m.add(0, 0.97, 0, 2)).toEqual({ loss: (0.06 * 32 + 0.97 * 2) / 34, accuracy: 32 / 34 });
    expect(m.add(1, 0.5, 0.5, 32)).toEqual({ loss: 0.5, accuracy: 0.5 });
  });
});
