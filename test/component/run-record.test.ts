import { describe, expect, it } from 'vitest';
import { RunRecord } from '../../renderer/src/stores/series';

/** Replaying a run's events (metrics.jsonl or the live stream) into the dashboard's series. */
const step = (n: number, loss: number) => ({ type: 'step' as const, runId: 'r', step: n, epoch: 0, epochStep: n, stepsPerEpoch: 10, loss, accuracy: 0.5, lr: 0.1, imagesPerSec: 20, time: n });
const stat = (layer: string, mean: number) => ({ layer, mean, std: 1, meanAbs: 1, min: -1, max: 1, zeroFraction: 0.5, histMin: -1, histMax: 1, histogram: new Array(32).fill(1) });

describe('RunRecord', () => {
  it('builds curves per step and per epoch, skipping steps replayed out of order', () => {
    const r = new RunRecord();
    for (const e of [step(1, 2.3), step(2, 2.1), step(2, 9), step(1, 9), step(3, 1.9)]) r.add(e);
    expect(r.trainLoss).toEqual([{ x: 1, y: 2.3 }, { x: 2, y: 2.1 }, { x: 3, y: 1.9 }]);
    r.add({ type: 'epoch', runId: 'r', epoch: 0, step: 3, loss: 2.1, accuracy: 0.4, valLoss: null, valAccuracy: 0.45, lr: 0.1, seconds: 2, time: 4 });
    expect(r.valLoss).toEqual([]);
    expect(r.valAccuracy).toEqual([{ x: 3, y: 0.45 }]);
    expect(r.lastStep?.step).toBe(3);
  });
  it('keeps per-layer histories, the latest histogram and gradient norms', () => {
    const r = new RunRecord();
    r.add({ type: 'layerStats', runId: 'r', step: 2, epoch: 0, epochEnd: false, layers: [stat('conv1', 0.1), stat('conv2_block1', 0.2)], time: 1 });
    r.add({ type: 'layerStats', runId: 'r', step: 4, epoch: 0, epochEnd: true, layers: [stat('conv1', 0.3)], time: 2 });
    r.add({ type: 'gradients', runId: 'r', step: 4, epoch: 0, layers: [{ layer: 'conv1_conv', gradNorm: 0.5, updateRatio: 1e-3, weightNorm: 3 }], time: 2 });
    expect(r.layers.get('conv1')?.mean).toEqual([0.1, 0.3]);
    expect(r.layers.get('conv1')?.steps).toEqual([2, 4]);
    expect(r.layers.get('conv2_block1')?.latest.mean).toBe(0.2);
    expect(r.gradients.get('conv1_conv')?.gradNorm).toEqual([0.5]);
  });
  it('keeps every contribution matrix for the epoch slider, and the latest evaluation', () => {
    const r = new RunRecord();
    const blocks = [{ block: 1, sources: ['a'], targets: ['b'], values: [[1]] }];
    r.add({ type: 'contributions', runId: 'r', step: 10, epoch: 0, blocks, time: 1 });
    r.add({ type: 'contributions', runId: 'r', step: 20, epoch: 1, blocks, time: 2 });
    expect(r.contributions.map((c) => c.epoch)).toEqual([0, 1]);
    expect(r.add({ type: 'runsChanged', time: 1 })).toBe(false);
    r.add({ type: 'trainerExit', runId: 'r', code: null, signal: 'SIGKILL', message: 'killed', time: 3 });
    expect(r.logs).toHaveLength(1);
  });
});
