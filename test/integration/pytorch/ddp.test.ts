import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../main/engine/runs/checkpoint';
import { readMetrics, readRun, readRunConfig } from '../../../main/engine/runs/run-store';
import { TrainerEventSchema } from '../../../shared/protocol';
import { describeTorch } from '../../support/python';
import { exited, preparePtRun, ptSettings, stepLosses, tempRoot, torchrun, trainStandalone } from '../../support/pytorch-runs';

/**
 * DistributedDataParallel through torchrun on this machine: 2 processes over gloo on the CPU, with
 * the global batch kept (each process takes half of every batch of the single-process run).
 */
let root: string;
const settings = ptSettings({ epochs: 2, batchSize: 16, checkpointEvery: 2, statsEvery: 2, gradientsEvery: 2 });

beforeAll(() => { root = tempRoot(); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeTorch('DistributedDataParallel through torchrun', () => {
  it('a 2-process run (gloo, CPU) finishes, rank 0 alone writes the run, and its loss tracks the single-process run of the same global batch', async () => {
    const single = path.join(root, 'single');
    const ddp = path.join(root, 'ddp');
    await preparePtRun(single, { settings, limit: 80 });
    fs.cpSync(single, ddp, { recursive: true });
    const one = trainStandalone(single);
    expect(one.status, one.stderr).toBe(0);
    const run = await exited(torchrun(ddp));
    expect(run.code, run.output.slice(-3000)).toBe(0);

    expect(readRun(ddp).effective.status).toBe('finished');
    expect(readRunConfig(ddp).backend).toMatchObject({ name: 'pytorch', distributed: { worldSize: 2, backend: 'gloo' } });
    const { events, skipped } = readMetrics(ddp);
    expect(skipped).toBe(0);
    for (const e of events) expect(TrainerEventSchema.safeParse(e).success).toBe(true);
    // One writer: every step once, in order, and one epoch event per epoch.
    expect(events.flatMap((e) => (e.type === 'step' ? [e.step] : []))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
    expect(loadCheckpoint(ddp, 'latest').manifest.step).toBe(10);

    const a = stepLosses(single);
    const b = stepLosses(ddp);
    expect(b).toHaveLength(a.length);
    // The same samples, augmentations and gradient average; only batch norm differs (each process
    // normalizes its half of the batch), so the losses track without being equal.
    expect(Math.abs(a[0] - b[0])).toBeLessThan(0.05);
    const meanGap = a.reduce((s, l, i) => s + Math.abs(l - b[i]), 0) / a.length;
    expect(meanGap).toBeLessThan(0.1);
  });

});
