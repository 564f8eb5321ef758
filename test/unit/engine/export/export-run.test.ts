import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { exportRun } from '../../../../main/engine/export/export-run';
import { loadLayersModelFromFiles } from '../../../../main/engine/export/tfjs-files';
import { readPreprocessing } from '../../../../main/engine/export/preprocessing';
import { WorkbenchError } from '../../../../shared/errors';
import { argmaxRows, maxAbsDiff, nhwcToNchw, probeBatch, randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';
import { makeRun } from '../../../support/run-fixture';

const config = tinyConfig({ stem: 'imagenet', inputShape: [16, 16, 3] });
let root: string;
let runDir: string;
let model: tf.LayersModel;
const n = 3;
const x = probeBatch(n, config.inputShape, 11);

function predict(m: tf.LayersModel): Float32Array {
  return tf.tidy(() => (m.predict(tf.tensor4d(x, [n, ...config.inputShape])) as tf.Tensor).dataSync() as Float32Array).slice();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-run-'));
  model = buildDenseNet(config);
  randomizeBatchNorms(model, 5);
  runDir = makeRun(root, config, model, { classes: ['cat', 'dog', 'emu'] });
});
afterAll(() => {
  model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('export RUN --format tfjs', () => {
  it('writes model.json + weights.bin that reload with tf.loadLayersModel to identical predictions', async () => {
    const result = await exportRun(runDir, { format: 'tfjs', out: path.join(root, 'tfjs') });
    expect(result.files.map((f) => path.basename(f)).sort()).toEqual(['model.json', 'preprocessing.json', 'weights.bin']);
    const json = JSON.parse(fs.readFileSync(path.join(root, 'tfjs', 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    // Standard Keras layer classes only, so the TF.js converter can turn it into Keras.
    const classes = new Set<string>(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name));
    expect([...classes].every((c) => ['InputLayer', 'ZeroPadding2D', 'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Concatenate', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Dense'].includes(c))).toBe(true);

    const reloaded = await loadLayersModelFromFiles(path.join(root, 'tfjs'));
    expect(Array.from(predict(reloaded))).toEqual(Array.from(predict(model)));
    reloaded.dispose();
  });

  it('puts everything a deployment needs in preprocessing.json', async () => {
    const pre = readPreprocessing(path.join(root, 'tfjs'));
    expect(pre.classes).toEqual(['cat', 'dog', 'emu']);
    expect(pre.input).toMatchObject({ height: 16, width: 16, channels: 3, layout: 'NHWC', colorMode: 'rgb', valueRange: [0, 1] });
    expect(pre.normalization?.mean).toHaveLength(3);
    expect(pre.variant).toBe('custom');
    expect(pre.config).toEqual(config);
    expect(pre.validationAccuracy).toBe(0.75);
    expect(pre.source.checkpoint).toBe('step-000000006');
    expect(pre.usage).toMatch(/loadLayersModel/);
  });
});

describe('export RUN --format onnx', () => {
  for (const foldBn of [false, true]) {
    it(`matches the workbench in ONNX Runtime${foldBn ? ' with --fold-bn' : ''}`, async () => {
      const out = path.join(root, `onnx-${foldBn}`);
      await exportRun(runDir, { format: 'onnx', out, foldBn });
      const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
      const [h, w, c] = config.inputShape;
      const res = await session.run({ input: new ort.Tensor('float32', nhwcToNchw(x, [n, h, w, c]), [n, c, h, w]) });
      const expected = predict(model);
      expect(maxAbsDiff(res.logits.data as Float32Array, expected)).toBeLessThan(1e-4);
      expect(argmaxRows(res.logits.data as Float32Array, 3)).toEqual(argmaxRows(expected, 3));
      const pre = readPreprocessing(out);
      expect(pre.input.layout).toBe('NCHW');
      expect(pre.model).toMatchObject({ kind: 'onnx', file: 'model.onnx', inputName: 'input', outputNames: ['logits', 'probabilities'], foldedBatchNorm: foldBn });
    });
  }
});

describe('export: bad input', () => {
  it('names an unwritable output path (a folder under a regular file)', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    const err = await exportRun(runDir, { format: 'onnx', out: path.join(file, 'sub') }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkbenchError);
    expect(err.message).toMatch(/Cannot write .*a-file\/sub: a part of the path is a file, not a folder/);
    // Writes as root ignore permissions; /proc refuses new folders even then.
    await expect(exportRun(runDir, { format: 'tfjs', out: '/proc/densenet-export' })).rejects.toThrow(/Cannot write \/proc\/densenet-export: /);
  });

  it('refuses --fold-bn for TF.js and an unknown format', async () => {
    await expect(exportRun(runDir, { format: 'tfjs', foldBn: true, out: path.join(root, 'x') })).rejects.toThrow(/--fold-bn applies to ONNX exports only/);
    await expect(exportRun(runDir, { format: 'keras' as never })).rejects.toThrow(/Export format must be tfjs, onnx or torchvision; got "keras"/);
  });

  it('reports a model.json that is not a TF.js model', async () => {
    const bad = path.join(root, 'bad.json');
    fs.writeFileSync(bad, '{"hello": 1}');
    await expect(loadLayersModelFromFiles(bad)).rejects.toThrow(/is not a TF.js model.json: it needs "modelTopology"/);
  });
});
