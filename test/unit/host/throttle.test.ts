import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COALESCED_TYPES, EventThrottle, type Clock } from '../../../main/host/throttle';
import type { TrainerEvent } from '../../../shared/protocol';

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

const step = (s: number): TrainerEvent => ({
  type: 'step', runId: 'r', step: s, epoch: 0, epochStep: s, stepsPerEpoch: 1000, loss: 1, accuracy: 0.5, lr: 0.1, imagesPerSec: 1, time: s,
});
const epoch = (e: number, s: number): TrainerEvent => ({
  type: 'epoch', runId: 'r', epoch: e, step: s, loss: 1, accuracy: 0.5, valLoss: null, valAccuracy: null, lr: 0.1, seconds: 1, time: s,
});
const stats = (s: number, epochEnd: boolean): TrainerEvent => ({ type: 'layerStats', runId: 'r', step: s, epoch: 0, epochEnd, layers: [], time: s });

describe('EventThrottle', () => {
  it('delivers at most 20 batches a second at 1000 events/s, keeps every epoch event, and the latest step wins', () => {
    const clock = new FakeClock();
    const batches: { at: number; events: TrainerEvent[] }[] = [];
    const throttle = new EventThrottle<TrainerEvent>({ deliver: (events) => batches.push({ at: clock.now(), events }), clock });
    // 5 seconds, one step event per millisecond, an epoch end every 700 ms.
    let epochs = 0;
    for (let s = 0; s < 5000; s++) {
      throttle.push(step(s));
      if (s % 700 === 699) throttle.push(epoch(epochs++, s));
      clock.advance(1);
    }
    throttle.close();

    // The bound: no window of one second holds more than 20 (+1 for the closing flush) deliveries.
    for (const b of batches) {
      const inWindow = batches.filter((x) => x.at >= b.at && x.at < b.at + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(21);
    }
    expect(batches.length).toBeGreaterThan(90); // it does deliver, ~20/s over 5 s

    const delivered = batches.flatMap((b) => b.events);
    const epochSteps = delivered.filter((e) => e.type === 'epoch').map((e) => (e.type === 'epoch' ? e.epoch : -1));
    expect(epochSteps).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // The last step event is never lost: the UI ends on the true final state.
    const steps = delivered.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? e.step : -1));
    expect(steps[steps.length - 1]).toBe(4999);
    // Steps arrive in increasing order and each batch carries at most one step (the latest).
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    for (const b of batches) expect(b.events.filter((e) => e.type === 'step').length).toBeLessThanOrEqual(1);
    expect(throttle.dropped).toBe(5000 - steps.length);
  });

  it('keeps epoch-end layer stats but coalesces intermediate ones', () => {
    const clock = new FakeClock();
    const delivered: TrainerEvent[] = [];
    const throttle = new EventThrottle<TrainerEvent>({ deliver: (b) => delivered.push(...b), clock });
    throttle.push(stats(1, false)); // delivered at once: nothing was delivered yet
    throttle.push(stats(2, false));
    throttle.push(stats(3, true));
    throttle.push(stats(4, false));
    throttle.push(stats(5, false));
    clock.advance(50);
    expect(delivered.map((e) => e.type === 'layerStats' && e.step)).toEqual([1, 3, 5]);
  });

  it('keeps causal order between a kept event and the coalesced event after it', () => {
    const clock = new FakeClock();
    const delivered: TrainerEvent[] = [];
    const throttle = new EventThrottle<TrainerEvent>({ deliver: (b) => delivered.push(...b), clock });
    throttle.push(step(0));
    throttle.push(step(1));
    throttle.push(epoch(0, 1));
    throttle.push(step(2));
    clock.advance(100);
    expect(delivered.map((e) => `${e.type}:${'step' in e ? e.step : ''}`)).toEqual(['step:0', 'epoch:1', 'step:2']);
  });

  it('never exceeds the rate and never loses a kept event, for any arrival pattern (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 120 }), kept: fc.boolean() }), { minLength: 1, maxLength: 300 }),
        (arrivals) => {
          const clock = new FakeClock();
          const times: number[] = [];
          const delivered: TrainerEvent[] = [];
          const throttle = new EventThrottle<TrainerEvent>({ deliver: (b) => (times.push(clock.now()), delivered.push(...b)), clock });
          let keptCount = 0;
          arrivals.forEach((a, i) => {
            clock.advance(a.gap);
            if (a.kept) keptCount++;
            throttle.push(a.kept ? epoch(i, i) : step(i));
          });
          clock.advance(1000);
          for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(50);
          expect(delivered.filter((e) => e.type === 'epoch').length).toBe(keptCount);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('coalesces only step, intermediate layer stats, gradients and inspection progress; keeps host-level events', () => {
    expect([...COALESCED_TYPES].sort()).toEqual(['gradients', 'inspectProgress', 'layerStats', 'step']);
    const clock = new FakeClock();
    const delivered: { type: string }[] = [];
    const throttle = new EventThrottle<{ type: string; time: number }>({ deliver: (b) => delivered.push(...b), clock });
    throttle.push({ type: 'step', time: 0 });
    throttle.push({ type: 'trainerExit', time: 1 });
    throttle.push({ type: 'trainerExit', time: 2 });
    clock.advance(50);
    expect(delivered.map((e) => e.type)).toEqual(['step', 'trainerExit', 'trainerExit']);
  });

  it('rejects a non-positive rate with a sentence naming the value', () => {
    expect(() => new EventThrottle({ deliver: () => {}, maxPerSecond: 0 })).toThrow('maxPerSecond must be a finite number > 0; got 0.');
  });
});
