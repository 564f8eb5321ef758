import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { exportRun } from '../../../../main/engine/export/export-run';
import { openPredictor, predictFiles } from '../../../../main/engine/predict/predict';
import { maxAbsDiff, randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';
import { makeRun } from '../../../support/run-fixture';

const config = tinyConfig({ inputShape: [8, 8, 3] });
let root: string;
let runDir: string;
let model: tf.LayersModel;
let png: string;
let jpeg: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-'));
  model = buildDenseNet(config);
  randomizeBatchNorms(model, 9);
  runDir = makeRun(root, config, model, { classes: ['red', 'green', 'blue'] });
  // 20×12 images with a gradient, so resizing to 8×8 matters; one PNG with alpha, one JPEG.
  const raw = (channels: 3 | 4) => Buffer.from(Array.from({ length: 20 * 12 * channels }, (_, i) => (i * 37) % 256));
  png = path.join(root, 'a.png');
  jpeg = path.join(root, 'b.jpg');
  await sharp(raw(4), { raw: { width: 20, height: 12, channels: 4 } }).png().toFile(png);
  await sharp(raw(3), { raw: { width: 20, height: 12, channels: 3 } }).jpeg({ quality: 95 }).toFile(jpeg);
});
afterAll(() => {
  model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The same preprocessing written out by hand: sharp fill-resize, drop alpha, /255, (x − mean)/std. */
async function manualLogits(file: string): Promise<Float32Array> {
  const { data } = await sharp(file).removeAlpha().toColourspace('srgb').resize(8, 8, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const mean = [0.4, 0.45, 0.5];
  const std = [0.25, 0.26, 0.27];
  const x = Float32Array.from(data, (v, i) => (v / 255 - mean[i % 3]) / std[i % 3]);
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [1, 8, 8, 3])) as tf.Tensor).dataSync() as Float32Array).slice();
}

describe('predict MODEL_DIR IMAGE...', () => {
  it('classifies PNG and JPEG files with a run, preprocessing as training does', async () => {
    const predictor = await openPredictor(runDir);
    const results = await predictFiles(predictor, [png, jpeg], 2);
    predictor.dispose();
    expect(results.map((r) => r.file)).toEqual([png, jpeg]);
    for (const r of results) {
      expect(r.top).toHaveLength(2);
      expect(r.top[0].probability).toBeGreaterThanOrEqual(r.top[1].probability);
      expect(['red', 'green', 'blue']).toContain(r.top[0].label);
      expect(maxAbsDiff(r.logits, await manualLogits(r.file))).toBeLessThan(1e-5);
    }
  });

  it('gives the same answers from a TF.js export and an ONNX export', async () => {
    const fromRun = await predictFiles(await openPredictor(runDir), [png, jpeg], 3);
    for (const format of ['tfjs', 'onnx'] as const) {
      const { dir } = await exportRun(runDir, { format, out: path.join(root, `export-${format}`) });
      const predictor = await openPredictor(dir);
      expect(predictor.kind).toBe(format === 'tfjs' ? 'tfjs-layers' : 'onnx');
      const got = await predictFiles(predictor, [png, jpeg], 3);
      predictor.dispose();
      got.forEach((r, i) => {
        expect(r.top.map((t) => t.label)).toEqual(fromRun[i].top.map((t) => t.label));
        expect(maxAbsDiff(r.logits, fromRun[i].logits)).toBeLessThan(1e-4);
      });
    }
  });

  it('names a file that is not an image, and a folder that is not a model', async () => {
    const text = path.join(root, 'notes.png');
    fs.writeFileSync(text, 'not an image at all');
    const predictor = await openPredictor(runDir);
    await expect(predictFiles(predictor, [text])).rejects.toThrow(/Image .*notes\.png is not an image that can be decoded/);
    await expect(predictFiles(predictor, [path.join(root, 'missing.png')])).rejects.toThrow(/missing\.png cannot be read/);
    predictor.dispose();
    await expect(openPredictor(root)).rejects.toThrow(/is neither a run \(no config.json\) nor an export \(no preprocessing.json\)/);
  });
});
