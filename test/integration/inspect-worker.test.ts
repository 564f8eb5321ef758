import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent, TrainerEventOf } from '../../shared/protocol';
import { readMetrics } from '../../main/engine/runs/run-store';
import { forkTrainerHost, type TrainerHost } from '../../main/trainer/host';
import { makeMnistRun } from '../support/inspect-run-fixture';

/**
 * A trainer process as a short-lived inspection worker, through the real child_process.fork: the
 * `inspectRun` command on a finished run, for each kind of inspection. Results come back as
 * events, evaluations and ablations are recorded in the run, and failures come back as data.
 */
let root: string;
let run: { dir: string; id: string };
let host: TrainerHost;
const events: TrainerEvent[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-worker-'));
  run = await makeMnistRun(root);
  host = forkTrainerHost({ stdio: 'ignore' });
  host.on('event', (e) => events.push(e));
  await host.ready;
}, 60_000);

afterAll(async () => {
  if (host.alive) await host.close(5_000);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Sends one request and resolves with every event of it, up to and including its inspectDone. */
function ask(what: TrainerEventOf<'inspectDone'>['what'], requestId: string, extra: { checkpoint?: string; sample?: number } = {}): Promise<TrainerEvent[]> {
  const from = events.length;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no inspectDone for ${requestId}; last events ${JSON.stringify(events.slice(-2)).slice(0, 400)}`)), 60_000);
    const off = host.on('event', (e) => {
      if (e.type === 'inspectDone' && e.requestId === requestId) {
        clearTimeout(timer);
        off();
        resolve(events.slice(from));
      }
    });
    host.send({ type: 'inspectRun', runDir: run.dir, checkpoint: extra.checkpoint ?? 'latest', what, requestId, ...(extra.sample !== undefined ? { sample: extra.sample } : {}) });
  });
}

const of = <T extends TrainerEvent['type']>(xs: TrainerEvent[], t: T) => xs.filter((e): e is TrainerEventOf<T> => e.type === t);

describe('inspection worker', () => {
  it('evaluates a checkpoint, names it, shows the mistakes with file names and thumbnails, and records the result in the run', async () => {
    const got = await ask('evaluation', 'e1');
    expect(of(got, 'inspectProgress').length).toBeGreaterThan(0);
    const [evaluation] = of(got, 'evaluation');
    expect(evaluation).toMatchObject({ runId: run.id, step: 6, checkpoint: 'step-000000006', split: 'validation split' });
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(10);
    expect(evaluation.misclassified.length).toBeGreaterThan(0);
    for (const m of evaluation.misclassified) {
      expect(m.file).toMatch(/^mnist \d #\d+$/);
      expect((await sharp(Buffer.from(m.thumbnail!, 'base64')).metadata()).width).toBe(8);
    }
    expect(of(got, 'inspectDone')[0]).toMatchObject({ ok: true, what: 'evaluation', requestId: 'e1' });
    const recorded = readMetrics(run.dir).events.filter((e) => e.type === 'evaluation');
    expect(recorded).toEqual([evaluation]);
  });

  it('ablates every dense layer at once, with progress, and records it', async () => {
    const got = await ask('ablation', 'a1');
    const [ablation] = of(got, 'ablation');
    expect(ablation.layers.map((l) => l.layer)).toEqual(['conv2_block1', 'conv2_block2', 'conv3_block1', 'conv3_block2']);
    expect(ablation).toMatchObject({ checkpoint: 'step-000000006', samples: 10 });
    const progress = of(got, 'inspectProgress');
    expect(progress.at(-1)).toMatchObject({ done: 50, total: 50 });
    expect(readMetrics(run.dir).events.filter((e) => e.type === 'ablation')).toEqual([ablation]);
  });

  it('answers activations, stats, gradients and contributions of the checkpoint without recording them', async () => {
    const before = readMetrics(run.dir).events.length;
    const acts = of(await ask('activations', 'x1', { sample: 3 }), 'activations');
    expect(acts[0]).toMatchObject({ sample: 3, checkpoint: 'step-000000006' });
    expect(acts[0].layers.length).toBeGreaterThan(0);
    const stats = of(await ask('stats', 's1'), 'layerStats');
    expect(stats[0]).toMatchObject({ checkpoint: 'step-000000006', epochEnd: false });
    const grads = of(await ask('gradients', 'g1'), 'gradients');
    expect(grads[0].layers.length).toBeGreaterThan(0);
    expect(grads[0].layers.every((l) => l.gradNorm > 0 && l.updateRatio === null)).toBe(true);
    const contributions = of(await ask('contributions', 'c1', { checkpoint: 'best' }), 'contributions');
    expect(contributions[0].blocks.length).toBe(2);
    expect(readMetrics(run.dir).events.length).toBe(before);
  });

  it('says what is wrong, as data, and keeps serving', async () => {
    const missing = of(await ask('evaluation', 'bad1', { checkpoint: 'step-999' }), 'inspectDone')[0];
    expect(missing).toMatchObject({ ok: false, error: { user: true, message: expect.stringMatching(/has no checkpoint "step-999"/) } });
    const outside = of(await ask('activations', 'bad2', { sample: 500 }), 'inspectDone')[0];
    expect(outside.error?.message).toMatch(/Sample 500 is outside the validation split, which has 10 samples/);
    expect(host.alive).toBe(true);
  });

  it('cancels an ablation in progress', async () => {
    const from = events.length;
    const done = ask('ablation', 'cancel-me');
    // Cancel once the worker has started: its first progress event.
    await new Promise<void>((resolve) => {
      const off = host.on('event', (e) => {
        if (e.type === 'inspectProgress' && e.requestId === 'cancel-me') {
          off();
          resolve();
        }
      });
    });
    host.send({ type: 'cancelInspect', requestId: 'cancel-me' });
    const end = of(await done, 'inspectDone')[0];
    expect(end).toMatchObject({ ok: false, cancelled: true });
    expect(of(events.slice(from), 'ablation')).toEqual([]);
  });
});
