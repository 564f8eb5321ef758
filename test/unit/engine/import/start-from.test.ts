import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { exportRun } from '../../../../main/engine/export/export-run';
import { describeStartFrom, loadStartFrom } from '../../../../main/engine/import/start-from';
import { IMAGENET_NORMALIZATION } from '../../../../main/engine/import/pretrained';
import { getModelWeights, setModelWeights } from '../../../../main/engine/train/model-weights';
import { randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';
import { makeRun } from '../../../support/run-fixture';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'start-from-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('start a run from pretrained weights', () => {
  it('describes a torchvision .pth as ImageNet weights want it: 224×224×3, ImageNet normalization', async () => {
    const info = await describeStartFrom({ kind: 'weights', file: 'test/fixtures/pth/tiny_densenet_legacy.pth' });
    expect(info).toMatchObject({
      variant: 'custom', inputShape: [224, 224, 3], classes: 3, normalization: IMAGENET_NORMALIZATION,
      architecture: { blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'imagenet' },
    });
    expect(info.description).toBe('PyTorch checkpoint (legacy format) of a custom DenseNet (blocks [2, 2], k=4, 8 initial features, bottleneck, θ=0.5, ImageNet stem), 3 classes.');
  });

  it('maps the file onto a model with another class count, replacing only the classifier', async () => {
    const config = tinyConfig({ stem: 'imagenet', inputShape: [64, 64, 3], classes: 5 });
    const model = buildDenseNet(config);
    const fresh = new Map(getModelWeights(model).map((w) => [w.name, w.data]));
    const init = await loadStartFrom({ kind: 'weights', file: 'test/fixtures/pth/tiny_densenet.pth' }, config, model);
    expect(init.headReplaced).toBe(true);
    expect(init.note).toMatch(/^Starting from the weights in test\/fixtures\/pth\/tiny_densenet\.pth, with a new classifier\.$/);
    const byName = new Map(init.weights.map((w) => [w.name, w.data]));
    expect(same(byName.get('predictions/kernel')!, fresh.get('predictions/kernel')!)).toBe(true);
    expect(same(byName.get('conv1_conv/kernel')!, fresh.get('conv1_conv/kernel')!)).toBe(false);
    setModelWeights(model, init.weights);
    model.dispose();
  });

  it('starts from another run’s checkpoint, and its torchvision export keeps that run’s input and normalization', async () => {
    const config = tinyConfig({ inputShape: [16, 16, 1], classes: 3 });
    const source = buildDenseNet(config);
    randomizeBatchNorms(source);
    const runDir = makeRun(path.join(root, 'runs'), config, source);
    const info = await describeStartFrom({ kind: 'run', run: runDir, checkpoint: 'latest' });
    expect(info).toMatchObject({ inputShape: [16, 16, 1], classes: 3, normalization: { mean: [0.4], std: [0.25] } });

    const target = tinyConfig({ inputShape: [24, 24, 1], classes: 2 });
    const model = buildDenseNet(target);
    const init = await loadStartFrom({ kind: 'run', run: runDir, checkpoint: 'latest' }, target, model);
    expect(init.headReplaced).toBe(true);
    expect(init.note).toMatch(/^Starting from run .*, checkpoint step-0+6 \(step 6\), with a new classifier for 2 classes\.$/);
    const want = new Map(getModelWeights(source).map((w) => [w.name, w.data]));
    const got = new Map(init.weights.map((w) => [w.name, w.data]));
    expect(same(got.get('bn/moving_mean')!, want.get('bn/moving_mean')!)).toBe(true);
    model.dispose();

    // The same number of classes, but other ones: a new classifier all the same; the same ones: kept.
    const threeClasses = tinyConfig({ inputShape: [16, 16, 1], classes: 3 });
    const m3 = buildDenseNet(threeClasses);
    expect((await loadStartFrom({ kind: 'run', run: runDir, checkpoint: 'latest' }, threeClasses, m3, ['cat', 'dog', 'owl'])).headReplaced).toBe(true);
    expect((await loadStartFrom({ kind: 'run', run: runDir, checkpoint: 'latest' }, threeClasses, m3, ['class a', 'class b', 'class c'])).headReplaced).toBe(false);
    m3.dispose();

    await expect(loadStartFrom({ kind: 'run', run: runDir, checkpoint: 'latest' }, tinyConfig({ growthRate: 6, inputShape: [16, 16, 1] }), buildDenseNet(tinyConfig({ growthRate: 6, inputShape: [16, 16, 1] }))))
      .rejects.toThrow(/the new run is custom \(blocks \[2, 2\], k=6, .*\)\. They differ in growth rate k; start a run of the same architecture\./);

    const out = path.join(root, 'tv');
    await exportRun(runDir, { format: 'torchvision', checkpoint: 'latest', out });
    const exported = await describeStartFrom({ kind: 'weights', file: path.join(out, 'model.safetensors') });
    expect(exported).toMatchObject({ inputShape: [16, 16, 1], normalization: { mean: [0.4], std: [0.25] } });
    expect(exported.description).toMatch(/exported by the workbench\.$/);
    source.dispose();
  });
});
