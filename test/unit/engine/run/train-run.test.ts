import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../../../../shared/protocol';
import { statusLabel } from '../../../../shared/run/lifecycle';
import { initialRunState, replayRun, runFields } from '../../../../shared/run/state';
import { tfjsPorts, type TrainRunPorts } from '../../../../main/engine/run/ports';
import { TrainRun } from '../../../../main/engine/run/train-run';
import { readMetrics } from '../../../../main/engine/runs/run-store';
import { fileRunStore } from '../../../../main/host/engine-ports';
import { MICRO_MODEL, syntheticDataset, tinySettings } from '../../../support/train-fixtures';

/**
 * The "train a run" use case without a process: a synthetic dataset and the cpu backend passed in.
 * Pins that the three views of a run (the live events a Dashboard reduces, status.json a Runs list
 * reads, the metrics.jsonl a reopened run replays) agree at every end, through a stop and a
 * Continue.
 */
const ports: TrainRunPorts = {
  ...tfjsPorts,
  selectBackend: async () => {
    await tf.setBackend('cpu');
    return { name: 'cpu', flavour: 'cpu', version: tf.version_core, device: 'test', threads: 1, skipped: [] };
  },
  loadDataset: async () => syntheticDataset(24, 6),
};

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'train-run-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The run as each view has it: live (the sent events), stored (the run list), replayed (metrics.jsonl). */
async function views(runDir: string, live: TrainerEvent[]) {
  const [stored] = await fileRunStore(root).list();
  const replayed = replayRun(initialRunState(path.basename(runDir), 3), readMetrics(runDir).events);
  return { live: runFields(replayRun(initialRunState(path.basename(runDir), 3), live)), stored, replayed: runFields(replayed) };
}

describe('TrainRun', () => {
  it('trains a run whose live events, status.json and metrics.jsonl agree through a stop and a Continue', async () => {
    const runDir = path.join(root, 'r1');
    const settings = tinySettings({ epochs: 3, valFraction: 0.2 });
    const first: TrainerEvent[] = [];
    const start = new TrainRun({ kind: 'start', runDir, model: MICRO_MODEL, settings, dataset: { kind: 'builtin', name: 'mnist' } }, (e) => {
      first.push(e);
      if (e.type === 'step' && e.step === 8) start.stop('user');
    }, ports);
    await start.done;
    expect(first.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['created', 'running', 'stopping']);
    expect(first.at(-1)).toMatchObject({ type: 'finished', reason: 'stopped', step: 8 });
    // Evaluated at its end, on the weights of the checkpoint the stop wrote, which it names.
    expect(first.at(-2)).toMatchObject({ type: 'evaluation', step: 8, checkpoint: 'step-000000008', split: 'validation split' });
    let v = await views(runDir, first);
    // Stopped mid-epoch 2 (6 steps an epoch): every view says stopped at step 8, epoch 2 of 3.
    expect(v.live).toMatchObject({ status: 'finished', reason: 'stopped', step: 8, epoch: 2, epochs: 3 });
    expect(v.stored).toMatchObject(v.live);
    expect(v.replayed).toEqual(v.live);

    const second: TrainerEvent[] = [];
    const resumed = new TrainRun({ kind: 'resume', runDir }, (e) => second.push(e), ports);
    await resumed.done;
    expect(second.find((e) => e.type === 'step')).toMatchObject({ step: 9 });
    expect(second.at(-1)).toMatchObject({ type: 'finished', reason: 'completed', step: 18, epoch: 3 });
    expect(second.at(-2)).toMatchObject({ type: 'evaluation', step: 18, checkpoint: 'step-000000018' });
    // Both end-of-run evaluations are in the run; a reopened run shows the last.
    expect(readMetrics(runDir).events.filter((e) => e.type === 'evaluation').map((e) => (e as { step: number }).step)).toEqual([8, 18]);
    v = await views(runDir, [...first, ...second]);
    expect(v.live).toMatchObject({ status: 'finished', reason: 'completed', step: 18, epoch: 3 });
    expect(statusLabel(v.live.status, v.live.reason)).toBe('finished');
    expect(v.stored).toMatchObject(v.live);
    expect(v.replayed).toEqual(v.live);
  });

  it('ends a run stopped because its trainer must go as interrupted, everywhere', async () => {
    const runDir = path.join(root, 'r2');
    const events: TrainerEvent[] = [];
    const run = new TrainRun({ kind: 'start', runDir, model: MICRO_MODEL, settings: tinySettings({ epochs: 3 }), dataset: { kind: 'builtin', name: 'mnist' } }, (e) => {
      events.push(e);
      if (e.type === 'step' && e.step === 2) run.stop('host-lost');
    }, ports);
    await run.done;
    expect(events.at(-1)).toMatchObject({ type: 'finished', reason: 'interrupted', message: expect.stringMatching(/left without its host and stopped at step 2/) });
    // A trainer that must go does not stay to evaluate.
    expect(events.some((e) => e.type === 'evaluation')).toBe(false);
    const list = await fileRunStore(root).list();
    expect(list.find((r) => r.id === 'r2')).toMatchObject({ status: 'interrupted', reason: null, step: 2 });
  });

  it('fails a run whose data does not fit the model, writing nothing', async () => {
    const runDir = path.join(root, 'r3');
    const events: TrainerEvent[] = [];
    const run = new TrainRun({ kind: 'start', runDir, model: { ...MICRO_MODEL, classes: 5 }, settings: tinySettings(), dataset: { kind: 'builtin', name: 'mnist' } }, (e) => events.push(e), ports);
    await run.done;
    expect(events.map((e) => e.type)).toEqual(['state', 'error', 'finished']);
    expect(events[1]).toMatchObject({ fatal: true, error: { message: expect.stringMatching(/The model has 5 classes but dataset synthetic has 3/) } });
    expect(events[2]).toMatchObject({ reason: 'failed' });
    expect(fs.existsSync(runDir)).toBe(false);
  });
});
