import { expect, it } from 'vitest';
import { EventOrder } from '../../../main/trainer/event-order';
import type { TrainerEvent } from '../../../shared/protocol';

const step = (n: number, runId = 'a'): TrainerEvent => ({ type: 'step', runId, step: n, epoch: 0, epochStep: n, stepsPerEpoch: 10, loss: 1, accuracy: 0, lr: 0.1, imagesPerSec: 1, time: 1 });
const epoch = (e: number, at: number): TrainerEvent => ({ type: 'epoch', runId: 'a', epoch: e, step: at, loss: 1, accuracy: 0, valLoss: null, valAccuracy: null, lr: 0.1, seconds: 1, time: 1 });
const finished: TrainerEvent = { type: 'finished', runId: 'a', reason: 'completed', step: 4, epoch: 1, bestValAccuracy: null, time: 1 };

it('refuses events that cannot follow the ones before, saying why, and accepts the rest', () => {
  const o = new EventOrder();
  expect(o.check({ type: 'ready', pid: 1, protocol: 1 })).toBeNull();
  expect(o.check({ type: 'ready', pid: 1, protocol: 1 })).toBe('out of order: a second ready event from the same trainer');
  o.track('a');
  expect(o.check(step(1))).toBeNull();
  expect(o.check(step(2))).toBeNull();
  expect(o.check(step(2))).toBe('out of order: step 2 after step 2');
  expect(o.check(step(1))).toBe('out of order: step 1 after step 2');
  expect(o.check(step(3, 'b'))).toBe('out of order: a step event of run b while run a trains');
  expect(o.check(epoch(0, 2))).toBeNull();
  expect(o.check(epoch(0, 2))).toBe('out of order: epoch 1 reported after epoch 1');
  expect(o.check(step(3))).toBeNull();
  expect(o.check(epoch(1, 2))).toBe('out of order: epoch 2 ends at step 2, before step 3');
  expect(o.check({ type: 'log', level: 'info', message: 'm', time: 1 })).toBeNull();
  expect(o.check(finished)).toBeNull();
  expect(o.check(step(4))).toBe('out of order: a step event after run a finished');
  // A resume tracks the run again: its steps may start below the last session's.
  o.track('a');
  expect(o.check(step(3))).toBeNull();
});
