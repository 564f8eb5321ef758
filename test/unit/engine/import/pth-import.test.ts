import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { importRun } from '../../../../main/engine/import/import-run';
import { exportRun } from '../../../../main/engine/export/export-run';
import { readImportRecord } from '../../../../main/engine/runs/import-record';
import { restoreModel } from '../../../../main/engine/run/open-run';
import { maxAbsDiff } from '../../../support/tiny-models';
import { solidImage, writeTree } from '../../../support/data';
import { loadDataset } from '../../../../main/engine/data';
import { readRunConfig } from '../../../../main/engine/runs/run-store';

/**
 * .pth files written by Debian's PyTorch (test/fixtures/pth/make_pth_fixtures.py), imported into
 * runs: the run's TF.js model and its ONNX export must give PyTorch's own logits within 1e-4.
 */
const DIR = 'test/fixtures/pth';
const fixture = JSON.parse(fs.readFileSync(`${DIR}/pth_fixtures.json`, 'utf8')) as {
  inputShape: [number, number, number, number];
  pixels: number[];
  logits: number[][];
  logitsHalf: number[][];
  evilMarker: string;
};
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'import-pth-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The probe as NCHW pixels / 255, exactly the tensor PyTorch saw. */
function probeNchw(): Float32Array {
  return Float32Array.from(fixture.pixels, (p) => Math.fround(p / 255));
}

async function tfjsLogits(runDir: string): Promise<Float32Array> {
  const { model } = await restoreModel(runDir, 'latest');
  try {
    const [n, c, h, w] = fixture.inputShape;
    return tf.tidy(() => (model.predict(tf.tensor4d(probeNchw(), [n, c, h, w]).transpose([0, 2, 3, 1])) as tf.Tensor).dataSync() as Float32Array).slice();
  } finally {
    model.dispose();
  }
}

const cases: [string, string, 'logits' | 'logitsHalf', RegExp][] = [
  ['the zip format with today’s keys (views and offsets inside)', 'tiny_densenet.pth', 'logits', /^A custom DenseNet read off the weights' shapes \(blocks \[2, 2\], k=4, 8 initial features, bottleneck, θ=0\.5, ImageNet stem\)/],
  ['the legacy format with the legacy keys of torchvision’s published files', 'tiny_densenet_legacy.pth', 'logits', /renamed 40 keys from torchvision's legacy layout/],
  ['a {"model": ...} checkpoint of a DataParallel model in bfloat16/float16', 'tiny_densenet_wrapped_half.pth', 'logitsHalf', /read the state dict under "model"/],
];

describe('import .pth → TF.js and ONNX predictions equal PyTorch’s', () => {
  for (const [what, file, logits, note] of cases) {
    it(what, async () => {
      const out = path.join(root, file.replace(/\W/g, '_'));
      const result = await importRun({ weights: `${DIR}/${file}`, inputShape: [32, 32, 3], out });
      expect(result.notes.join(' ')).toMatch(note);
      expect(result.headReplaced).toBe(false);
      expect(readImportRecord(out)).toMatchObject({ kind: 'torchvision-pth', headReplaced: false });
      const want = fixture[logits].flat();
      expect(maxAbsDiff(await tfjsLogits(out), want)).toBeLessThan(1e-4);

      const onnx = await exportRun(out, { format: 'onnx', checkpoint: 'latest', out: path.join(out, 'onnx') });
      const session = await ort.InferenceSession.create(path.join(onnx.dir, 'model.onnx'));
      const [n, c, h, w] = fixture.inputShape;
      const res = await session.run({ input: new ort.Tensor('float32', probeNchw(), [n, c, h, w]) });
      expect(maxAbsDiff(res.logits.data as Float32Array, want)).toBeLessThan(1e-4);
    });
  }

  it('says which variant it read and lets --variant name another one', async () => {
    await expect(importRun({ weights: `${DIR}/tiny_densenet.pth`, variant: 'densenet121', out: path.join(root, 'as-121') })).rejects.toThrow(
      /tiny_densenet\.pth does not match variant densenet121: the weights are a DenseNet with blocks \[2, 2\], growth rate 4, 8 initial features, but densenet121 has blocks \[6, 12, 24, 16\]/,
    );
  });
});

describe('import .pth onto a dataset', () => {
  it('records the dataset with the fingerprint a training load computes, so a resume does not call it changed', async () => {
    const data = path.join(root, 'photos');
    const png = await solidImage('png', 20, 20, [200, 30, 30]);
    writeTree(data, { 'cat/1.png': png, 'cat/2.png': png, 'dog/1.png': png, 'dog/2.png': png, 'owl/1.png': png, 'owl/2.png': png });
    const out = path.join(root, 'on-photos');
    await importRun({ weights: `${DIR}/tiny_densenet.pth`, inputShape: [32, 32, 3], data: { kind: 'folder', path: data }, out });
    const loaded = await loadDataset({ kind: 'folder', path: data }, { inputShape: [32, 32, 3], valFraction: 0.1, seed: 42 });
    const config = readRunConfig(out);
    expect(config.dataset).toMatchObject({ fingerprint: loaded.fingerprint, classes: ['cat', 'dog', 'owl'], inputShape: [32, 32, 3] });
    expect(config.normalization).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  });
});

describe('import .pth: bad input loses nothing', () => {
  it('refuses a pickle naming os.system; nothing runs and no run folder is made', async () => {
    fs.rmSync(fixture.evilMarker, { force: true });
    const out = path.join(root, 'evil');
    await expect(importRun({ weights: `${DIR}/evil_os_system.pth`, out })).rejects.toThrow(/was refused: its pickle asks for the Python global posix\.system/);
    expect(fs.existsSync(fixture.evilMarker)).toBe(false);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('says a ResNet state dict is a ResNet', async () => {
    await expect(importRun({ weights: `${DIR}/resnet_keys.pth`, out: path.join(root, 'resnet') })).rejects.toThrow(
      /resnet_keys\.pth is not a torchvision DenseNet state dict \(it has no features\.conv0 and dense layers\): it holds 122 tensors; it looks like a ResNet/,
    );
  });

  it('refuses a wrong dtype and a truncated storage', async () => {
    await expect(importRun({ weights: `${DIR}/complex_dtype.pth`, out: path.join(root, 'complex') })).rejects.toThrow(/stored as torch\.ComplexFloatStorage \(complex64\)/);
    await expect(importRun({ weights: `${DIR}/truncated_storage.pth`, out: path.join(root, 'trunc') })).rejects.toThrow(/is truncated or damaged: record data\/0 holds 40 bytes/);
    expect(fs.existsSync(path.join(root, 'complex'))).toBe(false);
  });
});
