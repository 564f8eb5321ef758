import { describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../../../shared/protocol';
import { canMove, endOf, isResumable, shownEpoch, statusLabel } from '../../../shared/run/lifecycle';
import { initialRunState, reduceRun, replayRun, runFields, stateOfFields, type RunState } from '../../../shared/run/state';

const id = 'r1';
const spe = 3;
/** Step n of a run with 3 steps per epoch. */
const step = (n: number): Extract<TrainerEvent, { type: 'step' }> => ({
  type: 'step', runId: id, step: n, epoch: Math.floor((n - 1) / spe), epochStep: ((n - 1) % spe) + 1, stepsPerEpoch: spe,
  loss: 1, accuracy: 0.5, lr: 0.1, imagesPerSec: 10, time: n,
});
const epochEnd = (e: number, valAccuracy: number): TrainerEvent => ({
  type: 'epoch', runId: id, epoch: e, step: (e + 1) * spe, loss: 1, accuracy: 0.5, valLoss: 1 - valAccuracy, valAccuracy, lr: 0.1, seconds: 1, time: 0,
});
const state = (s: 'created' | 'running' | 'paused' | 'stopping'): TrainerEvent => ({ type: 'state', state: s, runId: id });
const finished = (reason: 'completed' | 'stopped' | 'failed' | 'interrupted', n: number, epoch: number): TrainerEvent => ({
  type: 'finished', runId: id, reason, step: n, epoch, bestValAccuracy: null, time: 0,
});

/** A session of `steps` steps from `from`, epoch events at each boundary, ending with `end`. */
function session(from: number, to: number, end: 'completed' | 'stopped'): TrainerEvent[] {
  const events: TrainerEvent[] = [state('created'), state('running')];
  for (let n = from; n <= to; n++) {
    events.push(step(n));
    if (n % spe === 0) events.push(epochEnd(n / spe - 1, 0.5 + n / 100));
  }
  events.push(finished(end, to, end === 'completed' ? to / spe : Math.floor(to / spe)));
  return events;
}

describe('the run lifecycle', () => {
  it('goes created → running ⇄ paused → stopping → an end, and a new session starts again at created', () => {
    expect(canMove('created', 'running')).toBe(true);
    expect(canMove('running', 'paused') && canMove('paused', 'running')).toBe(true);
    expect(canMove('stopping', 'running')).toBe(false);
    expect(canMove('finished', 'running')).toBe(false);
    expect(canMove('interrupted', 'created')).toBe(true);
  });

  it('names each status once, for every view', () => {
    expect(statusLabel('created', null)).toBe('loading');
    expect(statusLabel('finished', 'completed')).toBe('finished');
    expect(statusLabel('finished', 'early-stopped')).toBe('finished');
    expect(statusLabel('finished', 'stopped')).toBe('stopped');
    expect(statusLabel('finished', 'diverged')).toBe('diverged');
    expect(statusLabel('interrupted', null)).toBe('interrupted');
    expect(isResumable('finished', 'stopped') && isResumable('interrupted', null) && isResumable('failed', null)).toBe(true);
    expect(isResumable('finished', 'completed')).toBe(false);
    expect(endOf('finished', 'stopped')).toBe('stopped');
    expect(endOf('running', null)).toBeNull();
  });

  it('shows the epoch in progress mid-epoch and the epochs done at a boundary', () => {
    expect(shownEpoch({ epoch: 3, epochStep: 0 }, 15)).toBe(3);
    expect(shownEpoch({ epoch: 3, epochStep: 1 }, 15)).toBe(4);
    expect(shownEpoch({ epoch: 15, epochStep: 0 }, 15)).toBe(15);
  });
});

describe('reduceRun', () => {
  it('follows a session: status, progress, best and last validation accuracy', () => {
    const s = replayRun(initialRunState(id, 3), session(1, 9, 'completed'));
    expect(s).toMatchObject({ status: 'finished', reason: 'completed', step: 9, epoch: 3, epochStep: 0, lastValAccuracy: 0.59 });
    expect(s.best).toEqual({ valAccuracy: 0.59, valLoss: expect.closeTo(0.41, 10), epoch: 2, step: 9 });
    expect(runFields(s)).toMatchObject({ status: 'finished', reason: 'completed', epoch: 3, epochs: 3, step: 9 });
  });

  it('after Continue, a run stopped at step 4 trains as running and ends as it ends, with no trace of the stop', () => {
    // What the Runs list had: finished (stopped) at step 4, mid-epoch 2.
    const stopped = replayRun(initialRunState(id, 3), session(1, 4, 'stopped'));
    expect(runFields(stopped)).toMatchObject({ status: 'finished', reason: 'stopped', epoch: 2, step: 4 });
    let s: RunState = stateOfFields(id, runFields(stopped));
    s = reduceRun(s, state('created'));
    expect(s).toMatchObject({ status: 'created', reason: null });
    for (const e of session(5, 9, 'completed').slice(1)) {
      s = reduceRun(s, e);
      if (e.type === 'step') expect([s.status, s.reason]).toEqual(['running', null]);
    }
    expect(statusLabel(s.status, s.reason)).toBe('finished');
    expect(endOf(s.status, s.reason)).toBe('completed');
  });

  it('gives the same epoch mid-epoch whether from the live events or from what was stored', () => {
    const live = replayRun(initialRunState(id, 15), session(1, 10, 'stopped').slice(0, -1));
    expect(live).toMatchObject({ epoch: 3, epochStep: 1 });
    // The Runs list's entry is a function of the same state: it shows the epoch the Dashboard shows.
    expect(runFields(live).epoch).toBe(shownEpoch(live, 15));
    expect(runFields(stateOfFields(id, runFields(live)))).toEqual(runFields(live));
  });

  it('starts a new session at the first step after an end, for run folders without a `created` line', () => {
    const legacy = [...session(1, 4, 'stopped'), step(5)];
    expect(replayRun(initialRunState(id), legacy)).toMatchObject({ status: 'running', reason: null, step: 5 });
  });

  it('ignores moves the lifecycle does not allow and other runs\' events', () => {
    const done = replayRun(initialRunState(id), session(1, 3, 'completed'));
    expect(reduceRun(done, state('running'))).toBe(done);
    expect(reduceRun(done, { ...step(4), runId: 'other' })).toBe(done);
    const failed = reduceRun(reduceRun(initialRunState(id), { type: 'error', runId: id, error: { name: 'E', message: 'disk full' }, fatal: true, time: 0 }), finished('failed', 0, 0));
    expect(failed).toMatchObject({ status: 'failed', reason: null, message: 'disk full' });
  });
});
