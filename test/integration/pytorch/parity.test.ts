import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRng, deriveSeed, shuffleInPlace, loadDataset } from '../../../main/engine/data';
import { torchvisionNameMap } from '../../../main/engine/model/torchvision';
import { restoreModel } from '../../../main/engine/run/open-run';
import { datasetSource } from '../../../main/engine/train/dataset-source';
import { learningRateAt } from '../../../main/engine/train/schedules';
import { readRunConfig } from '../../../main/engine/runs/run-store';
import { summarize } from '../../../shared/architecture';
import { getPreset, presetNames } from '../../../shared/presets';
import { TrainSettingsSchema } from '../../../shared/training';
import { describeTorch, pythonJson } from '../../support/python';
import { PT_MODEL, preparePtRun, ptSettings, stepLosses, tempRoot, trainStandalone, trainWithTfjs, valLosses, writeTfjsInitialCheckpoint } from '../../support/pytorch-runs';
import { tinyConfig } from '../../support/tiny-models';

/**
 * The PyTorch engine against the TF.js engine on the same inputs: random streams, schedules, the
 * exact training batches, the model's structure, the loss of training steps from the same weights,
 * and predictions of a PyTorch checkpoint read back by the JS side.
 */
let root: string;
beforeAll(() => { root = tempRoot(); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const f32 = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);

describeTorch('the PyTorch engine matches the TF.js engine', () => {
  it('draws the same random streams, seeds and shuffles, and gives every step the same learning rate', () => {
    const seeds = [0, 1, 42, 4294967295];
    const ints = [1, 7, 1000, 2 ** 31 + 3];
    const derive = [[42, 3], [42, 2, 0], [7, 1, 5, 123456], [0, 0xffffffff, -1]];
    const shuffles: [number, number][] = [[10, 5], [257, 42]];
    const base = { epochs: 5, lr: 0.1, milestones: [0.5, 0.75], gamma: 0.1, stepEpochs: 2 };
    const schedules = (['multistep', 'step', 'cosine', 'onecycle', 'constant'] as const).flatMap((schedule) =>
      [0, 0.5, 1.3].map((warmupEpochs) => ({ stepsPerEpoch: 7, steps: 35, settings: TrainSettingsSchema.parse({ ...base, schedule, warmupEpochs }) })));
    const py = pythonJson<{ streams: { uint32: number[]; ints: number[]; floats: number[]; state: number[] }[]; derived: number[]; shuffles: number[][]; schedules: number[][] }>(
      'vectors.py', { seeds, ints, derive, shuffles, schedules },
    );
    seeds.forEach((seed, i) => {
      const r = createRng(seed);
      const uint32 = Array.from({ length: 5 }, () => r.nextUint32());
      expect(py.streams[i]).toEqual({ uint32, ints: ints.map((n) => r.int(n)), floats: [r.next(), r.next(), r.next()], state: r.getState().map((v) => v >>> 0) });
    });
    expect(py.derived).toEqual(derive.map((p) => deriveSeed(p[0], ...p.slice(1))));
    expect(py.shuffles).toEqual(shuffles.map(([n, seed]) => shuffleInPlace(Array.from({ length: n }, (_, i) => i), createRng(seed))));
    schedules.forEach((c, i) => {
      const ts = Array.from({ length: c.steps }, (_, s) => learningRateAt(s, c.stepsPerEpoch, c.settings));
      py.schedules[i].forEach((lr, s) => expect(lr).toBeCloseTo(ts[s], 15));
    });
  });

  it('trains on bit-identical batches: the same order, pad-crop and flip draws, pixels and normalization, epoch after epoch', async () => {
    const runDir = path.join(root, 'batches');
    const settings = ptSettings({ batchSize: 5 });
    const { config } = await preparePtRun(runDir, { settings, limit: 40 });
    const py = pythonJson<{ stepsPerEpoch: number; epochs: { x: string; y: number[]; n: number }[][]; val: { x: string; y: number[] }[] }>('batches.py', { run: runDir, epochs: 2 });
    const ds = await loadDataset(config.dataset.spec, { inputShape: config.model.inputShape, valFraction: settings.valFraction, seed: settings.seed });
    const data = datasetSource(ds, settings, config.normalization);
    expect(py.stepsPerEpoch).toBe(data.stepsPerEpoch);
    for (const [e, batches] of py.epochs.entries()) {
      let b = 0;
      for await (const batch of data.trainBatches(e, 0)) {
        expect(Array.from(batch.y)).toEqual(batches[b].y);
        expect(f32(batches[b].x)).toEqual(batch.x);
        b++;
      }
      expect(b).toBe(batches.length);
    }
    let v = 0;
    for await (const batch of data.valBatches()!) {
      expect(f32(py.val[v].x)).toEqual(batch.x);
      v++;
    }
    expect(v).toBe(py.val.length);
  });

  it('DataLoader workers (how GPU runs are fed) give the same batches: 2 workers train exactly as none', async () => {
    const a = path.join(root, 'workers-0');
    const b = path.join(root, 'workers-2');
    await preparePtRun(a, { settings: ptSettings({ epochs: 2 }), limit: 40 });
    fs.cpSync(a, b, { recursive: true });
    for (const [dir, workers] of [[a, '0'], [b, '2']]) {
      const r = trainStandalone(dir, ['--workers', workers]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(stepLosses(b)).toEqual(stepLosses(a));
  });

  it('channels_last and bf16 autocast (GPU settings, here on the CPU) are recorded and train alike: channels_last to float rounding, bf16 tracking fp32', async () => {
    const base = path.join(root, 'fp32');
    await preparePtRun(base, { settings: ptSettings({ epochs: 1 }), limit: 40 });
    const runs = { fp32: base, cl: path.join(root, 'channels-last'), bf16: path.join(root, 'bf16') };
    fs.cpSync(base, runs.cl, { recursive: true });
    fs.cpSync(base, runs.bf16, { recursive: true });
    for (const [dir, args] of [[runs.fp32, []], [runs.cl, ['--channels-last']], [runs.bf16, ['--precision', 'bf16']]] as const) {
      const r = trainStandalone(dir, [...args]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readRunConfig(runs.cl).backend).toMatchObject({ channelsLast: true, precision: 'fp32' });
    expect(readRunConfig(runs.bf16).backend).toMatchObject({ channelsLast: false, precision: 'bf16' });
    const [a, b, c] = [stepLosses(runs.fp32), stepLosses(runs.cl), stepLosses(runs.bf16)];
    b.forEach((l, i) => expect(Math.abs(l - a[i])).toBeLessThan(1e-4));
    c.forEach((l, i) => expect(Math.abs(l - a[i])).toBeLessThan(0.05));
  });

  it('builds every preset and custom B/θ/blocks with the TF.js model\'s parameter counts and maps every weight to its Keras name', () => {
    const configs = [...presetNames().map((n) => getPreset(n, { classes: 10 })),
      tinyConfig({ bottleneck: false, compression: 0.7, blocks: [3, 1, 2], growthRate: 5, initFeatures: 7, inputShape: [9, 9, 3] }),
      tinyConfig({ stem: 'imagenet', inputShape: [32, 32, 3], dropRate: 0.2 })];
    const py = pythonJson<{ trainable: number; total: number; names: [string, string][]; unmapped: string[] }[]>('model_facts.py', { configs });
    configs.forEach((c, i) => {
      const s = summarize(c).totals;
      expect({ variant: c.variant, trainable: py[i].trainable, total: py[i].total, unmapped: py[i].unmapped })
        .toEqual({ variant: c.variant, trainable: s.trainableParams, total: s.params, unmapped: [] });
      if (c.bottleneck) expect(py[i].names).toEqual(torchvisionNameMap(c).map((r) => [`${r.keras}/${r.weight}`, r.torch]));
    });
  });

  it('from the same weights, its training steps give the TF.js cpu backend\'s losses (first step within 1e-4), with SGD and with AdamW, and the same validation loss after them (batch-norm moving statistics alike)', async () => {
    for (const optimizer of ['sgd', 'adamw'] as const) {
      const settings = ptSettings({ epochs: 1, optimizer, lr: optimizer === 'sgd' ? 0.1 : 1e-3, labelSmoothing: 0.1, schedule: 'cosine', warmupEpochs: 0.5 });
      const a = path.join(root, `loss-${optimizer}-tfjs`);
      const b = path.join(root, `loss-${optimizer}-torch`);
      const { config } = await preparePtRun(a, { settings, limit: 36 });
      await writeTfjsInitialCheckpoint(a, PT_MODEL, settings);
      fs.cpSync(a, b, { recursive: true });
      const tfjs = await trainWithTfjs(a, config);
      const run = trainStandalone(b);
      expect(run.status, run.stderr).toBe(0);
      const torch = stepLosses(b);
      expect(torch).toHaveLength(tfjs.losses.length);
      expect(Math.abs(torch[0] - tfjs.losses[0])).toBeLessThan(1e-4);
      torch.forEach((l, i) => expect(Math.abs(l - tfjs.losses[i])).toBeLessThan(1e-3));
      // Evaluated in inference mode on the moving statistics both engines updated in their own way.
      const [val] = valLosses(b);
      expect(Math.abs(val! - tfjs.valLosses[0]!)).toBeLessThan(1e-5);
    }
  });

  it('a checkpoint it wrote gives the same predictions when the JS side evaluates it', async () => {
    const runDir = path.join(root, 'loss-sgd-torch');
    const py = pythonJson<{ name: string; logits: number[][]; labels: number[] }>('logits.py', { run: runDir });
    const { model, manifest } = await restoreModel(runDir, 'latest', { backend: 'cpu' });
    try {
      expect(manifest.name).toBe(py.name);
      const config = readRunConfig(runDir);
      expect(config.engine).toBe('pytorch');
      expect(config.backend).toMatchObject({ name: 'pytorch', kind: 'cpu' });
      const ds = await loadDataset(config.dataset.spec, { inputShape: config.model.inputShape, valFraction: config.settings.valFraction, seed: config.settings.seed });
      const data = datasetSource(ds, config.settings, config.normalization);
      const logits: number[][] = [];
      for await (const b of data.valBatches()!) {
        const out = tf.tidy(() => (model.predict(tf.tensor4d(b.x, [b.n, 8, 8, 1])) as tf.Tensor).arraySync() as number[][]);
        logits.push(...out);
      }
      expect(logits).toHaveLength(py.logits.length);
      const argmax = (r: number[]) => r.indexOf(Math.max(...r));
      expect(logits.map(argmax)).toEqual(py.logits.map(argmax));
      const worst = Math.max(...logits.flatMap((r, i) => r.map((v, j) => Math.abs(v - py.logits[i][j]))));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      model.dispose();
    }
  });
});
