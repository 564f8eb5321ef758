import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../../shared/config';
import { getPreset } from '../../../../shared/presets';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { exportRun } from '../../../../main/engine/export/export-run';
import { parseSafetensors } from '../../../../main/engine/import/safetensors';
import { openPredictor } from '../../../../main/engine/predict/predict';
import { maxAbsDiff, nhwcToNchw, probeBatch, randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';
import { makeRun } from '../../../support/run-fixture';

/**
 * `export --format torchvision` loaded back in Debian's PyTorch (/usr/bin/python3, where CI installs
 * python3-torch and python3-torchvision): load_densenet.py must build every kind of DenseNet the
 * workbench has (ImageNet and CIFAR stems, 1 and 3 channels, with and without bottleneck, any θ)
 * and give the workbench's logits within 1e-4.
 */
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;
if (!hasTorch) console.log(`[skip] torchvision export parity: ${PYTHON} cannot import torch and torchvision (apt-get install python3-torch python3-torchvision).`);

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-tv-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const configs: [string, DenseNetConfig][] = [
  ['DenseNet-BC, ImageNet stem, 3 channels', tinyConfig({ stem: 'imagenet', inputShape: [32, 32, 3] })],
  ['DenseNet-BC, CIFAR stem, 1 channel, three blocks', tinyConfig({ blocks: [2, 1, 2], inputShape: [12, 12, 1], classes: 4 })],
  ['DenseNet without bottleneck or compression (the paper’s plain CIFAR DenseNet)', tinyConfig({ bottleneck: false, compression: 1, growthRate: 3, initFeatures: 6, inputShape: [10, 10, 3] })],
  ['DenseNet-BC with θ = 0.7 and an odd input', tinyConfig({ stem: 'imagenet', compression: 0.7, blocks: [3, 2], inputShape: [37, 37, 3], classes: 5 })],
  ['the demo-bc-tiny preset', getPreset('demo-bc-tiny', { classes: 3 })],
];

/** Runs load_densenet.py's `load()` on the probe and returns PyTorch's logits. */
function pytorchLogits(dir: string, x: Float32Array, dims: number[]): number[] {
  const input = path.join(dir, 'probe.json');
  fs.writeFileSync(input, JSON.stringify({ data: Array.from(x), dims }));
  const code = [
    'import json, sys, torch',
    `sys.path.insert(0, ${JSON.stringify(dir)})`,
    'import load_densenet',
    `p = json.load(open(${JSON.stringify(input)}))`,
    'model = load_densenet.load()',
    'x = torch.tensor(p["data"], dtype=torch.float32).reshape(p["dims"])',
    'with torch.no_grad(): print(json.dumps(model(x).flatten().tolist()))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`PyTorch failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!hasTorch)('export --format torchvision, loaded in PyTorch', () => {
  for (const [what, config] of configs) {
    it(what, async () => {
      const model = buildDenseNet(config);
      randomizeBatchNorms(model);
      const runDir = makeRun(path.join(root, 'runs'), config, model);
      const [h, w, c] = config.inputShape;
      const x = probeBatch(2, config.inputShape);
      const ours = tf.tidy(() => (model.predict(tf.tensor4d(x, [2, h, w, c])) as tf.Tensor).dataSync() as Float32Array).slice();
      model.dispose();

      const out = path.join(root, `tv-${configs.findIndex(([name]) => name === what)}`);
      const result = await exportRun(runDir, { format: 'torchvision', checkpoint: 'latest', out });
      expect(result.files.map((f) => path.basename(f))).toEqual(['model.safetensors', 'load_densenet.py', 'preprocessing.json']);
      expect(result.preprocessing.model).toMatchObject({ kind: 'torchvision', file: 'model.safetensors', outputNames: ['logits'] });
      expect(result.preprocessing.input.layout).toBe('NCHW');
      const { tensors, metadata } = parseSafetensors(fs.readFileSync(path.join(out, 'model.safetensors')));
      expect(tensors.has('features.conv0.weight')).toBe(true);
      expect(metadata.format).toBe('pt');

      const theirs = pytorchLogits(out, nhwcToNchw(x, [2, h, w, c]), [2, c, h, w]);
      expect(theirs).toHaveLength(ours.length);
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-4);
    });
  }

  it('prints an image’s top classes with `python3 load_densenet.py IMAGE`, and predict reads the export too', async () => {
    const config = tinyConfig({ stem: 'imagenet', inputShape: [32, 32, 3] });
    const model = buildDenseNet(config);
    randomizeBatchNorms(model, 11);
    const runDir = makeRun(path.join(root, 'runs'), config, model, { classes: ['cat', 'dog', 'owl'] });
    model.dispose();
    const out = path.join(root, 'tv-cli');
    await exportRun(runDir, { format: 'torchvision', checkpoint: 'latest', out });
    const image = path.join(root, 'owl.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 90, b: 10 } } }).png().toFile(image);

    const r = spawnSync(PYTHON, [path.join(out, 'load_densenet.py'), image], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${image.replace(/[.]/g, '\\.')}: (cat|dog|owl) \\d+\\.\\d%, (cat|dog|owl) \\d+\\.\\d%, (cat|dog|owl) \\d+\\.\\d%\\n$`));

    // The workbench reads its own torchvision export back: the same logits as the run.
    const fromExport = await openPredictor(out);
    const fromRun = await openPredictor(runDir, 'latest');
    try {
      expect(fromExport.kind).toBe('torchvision');
      const x = probeBatch(1, config.inputShape, 5);
      expect(maxAbsDiff(await fromExport.logits(x, 1), await fromRun.logits(x, 1))).toBeLessThan(1e-6);
    } finally {
      fromExport.dispose();
      fromRun.dispose();
    }
  });
});
