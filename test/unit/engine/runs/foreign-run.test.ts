import { expect, it } from 'vitest';
import { effectiveStatus, FOREIGN_LIVE_MS } from '../../../../main/engine/runs/run-store';
import type { RunStatusFile } from '../../../../main/engine/runs/run-files';

/** A live run in a shared folder, trained on another machine: believed while it keeps writing. */
const status = (over: Partial<RunStatusFile>): RunStatusFile => ({
  status: 'running', reason: null, pid: 4242, hostname: 'gpu-box-that-is-not-this-one', updated: '2026-12-01T00:00:00.000Z',
  step: 10, epoch: 0, epochStep: 10, stepsPerEpoch: 100, epochs: 3, best: null, lastValAccuracy: null, ...over,
});

it('reads a live run of another machine as live while its metrics.jsonl is being written, and as interrupted once it falls silent', () => {
  const now = 1_000_000_000;
  expect(effectiveStatus(status({}), now - 5_000, now)).toEqual({ status: 'running', reason: null });
  expect(effectiveStatus(status({ status: 'paused' }), now - 60_000, now)).toEqual({ status: 'paused', reason: null });
  expect(effectiveStatus(status({}), now - FOREIGN_LIVE_MS - 1, now)).toEqual({ status: 'interrupted', reason: null });
  expect(effectiveStatus(status({}), null, now)).toEqual({ status: 'interrupted', reason: null });
  // An ended run is what it says, wherever it was trained.
  expect(effectiveStatus(status({ status: 'finished', reason: 'completed', pid: null }), null, now)).toEqual({ status: 'finished', reason: 'completed' });
});
