import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../../shared/protocol';
import { listCheckpoints } from '../../main/engine/runs/checkpoint';
import { readMetrics } from '../../main/engine/runs/run-store';
import { TrainerSession } from '../../main/trainer/session';
import { FAULT_MODEL, faultSettings, writePngDataset } from '../support/faults';

/**
 * 1,000 training steps of the tiny net through the trainer's own TrainerSession
 * (the run store, metrics.jsonl, checkpoints and the inspection probes all on), in this process so
 * that tf.memory() and the RSS are this run's. After warm-up the tensor count must stay flat and the
 * RSS must grow by less than 64 MB between step 200 and step 1,000.
 */
const STEPS = Number(process.env.FAULT_LONG_STEPS ?? 1000);
const WARM = 200;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-long-'));
  await writePngDataset(path.join(root, 'data'), 40);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe(`a long run (${STEPS} steps)`, () => {
  it('keeps tf.memory().numTensors flat and the RSS bounded after warm-up', async () => {
    const tensors: number[] = [];
    const rss: number[] = [];
    const errors: string[] = [];
    let stopAt: (() => void) | null = null;
    const session = new TrainerSession((e: TrainerEvent) => {
      if (e.type === 'step') {
        tensors[e.step] = tf.memory().numTensors;
        rss[e.step] = process.memoryUsage().rss;
        if (e.step === STEPS) stopAt?.();
      }
      if (e.type === 'error') errors.push(e.error.message);
    });
    stopAt = () => session.stop('user');
    const runDir = path.join(root, 'runs', 'long');
    // Probes every 25 steps and checkpoints every 100: the paths that hold tensors across steps.
    const settings = faultSettings({ epochs: 10_000, checkpointEvery: 100, keepCheckpoints: 2, statsEvery: 25, gradientsEvery: 25 });
    session.handle({ type: 'start', runDir, model: FAULT_MODEL, settings, dataset: { kind: 'folder', path: path.join(root, 'data') } });
    await session.idle();

    expect(errors).toEqual([]);
    expect(tensors.length - 1).toBe(STEPS);
    const after = tensors.slice(WARM);
    const lo = Math.min(...after);
    const hi = Math.max(...after);
    const mb = (b: number) => Math.round(b / 2 ** 20);
    // RSS is sampled once a step, so one sample may sit just before or just after a garbage
    // collection or a checkpoint's buffers; compare the floors (the least RSS) of the first and
    // last 200 steps after warm-up: a leak raises the floor, the collector's sawtooth does not.
    const floorOf = (from: number, to: number) => Math.min(...rss.slice(from, to + 1));
    const growth = floorOf(STEPS - 199, STEPS) - floorOf(WARM, WARM + 199);
    console.log(`[faults] long run: ${STEPS} steps on ${tf.getBackend()}; numTensors ${tensors[1]} at step 1, ${tensors[WARM]} at ${WARM}, `
      + `${lo}–${hi} over steps ${WARM}–${STEPS}, ${tensors[STEPS]} at ${STEPS}; RSS ${mb(rss[WARM])} MB at ${WARM}, ${mb(rss[STEPS])} MB at ${STEPS} `
      + `(least RSS of the last 200 steps ${mb(growth)} MB above the first 200's, max ${mb(Math.max(...rss.slice(WARM)))} MB).`);
    // Flat: the count at the same point of every step moves within a band set by the epoch cycle
    // (the batches prefetched in flight, the probes' epoch-end work) and never drifts upwards; a leak
    // of one tensor a step would add 800 here.
    expect(hi - lo).toBeLessThanOrEqual(32);
    const early = tensors.slice(WARM, WARM + 200);
    const late = tensors.slice(STEPS - 199);
    expect(Math.max(...late)).toBeLessThanOrEqual(Math.max(...early));
    expect(Math.min(...late)).toBeLessThanOrEqual(Math.min(...early));
    expect(growth).toBeLessThan(64 * 2 ** 20);
    // The store kept up: every step in metrics.jsonl, the last checkpoints on disk.
    const steps = readMetrics(runDir).events.filter((e) => e.type === 'step');
    expect(steps).toHaveLength(STEPS);
    expect(listCheckpoints(runDir)[0].step).toBe(STEPS);
  });
});
