import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { importRun } from '../../../../main/engine/import/import-run';
import { encodeSafetensors, parseSafetensors, type SafeTensor } from '../../../../main/engine/import/safetensors';
import { checkArchitecture } from '../../../../main/engine/import/torchvision-weights';
import { applyImportFreeze } from '../../../../main/engine/import/freeze';
import { restoreModel } from '../../../../main/engine/run/open-run';
import { readRunStatus } from '../../../../main/engine/runs/run-store';
import { torchvisionNameMap } from '../../../../main/engine/model/torchvision';
import { getPreset } from '../../../../shared/presets';
import { maxAbsDiff } from '../../../support/tiny-models';

const FIXTURE = 'test/fixtures/torchvision/tiny_densenet.safetensors';
const fixture = JSON.parse(fs.readFileSync('test/fixtures/torchvision/tiny_densenet.json', 'utf8')) as {
  inputShape: [number, number, number, number];
  pixels: number[];
  logits: number[][];
};
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'import-tv-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function fixtureLogits(model: tf.LayersModel): Float32Array {
  const [n, c, h, w] = fixture.inputShape;
  return tf.tidy(() => {
    const x = tf.tensor4d(fixture.pixels, [n, c, h, w], 'float32').div(255).transpose([0, 2, 3, 1]);
    return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  }).slice();
}

/** The fixture's tensors re-encoded (F32 only), optionally changed, as a new file. */
function variantOfFixture(name: string, change: (t: Map<string, { shape: number[]; data: Float32Array }>) => void): string {
  const { tensors } = parseSafetensors(fs.readFileSync(FIXTURE));
  const floats = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of tensors) if (t.data instanceof Float32Array) floats.set(k, { shape: t.shape, data: t.data });
  change(floats);
  const file = path.join(root, name);
  fs.writeFileSync(file, encodeSafetensors(floats));
  return file;
}

/** A file with a hand-written header and `dataBytes` bytes of data. */
function rawFile(name: string, header: string, dataBytes: number, lengthField?: bigint): string {
  const head = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(8 + head.length + dataBytes);
  out.writeBigUInt64LE(lengthField ?? BigInt(head.length), 0);
  head.copy(out, 8);
  const file = path.join(root, name);
  fs.writeFileSync(file, out);
  return file;
}

describe('import --weights torchvision.safetensors', () => {
  it('reproduces the committed PyTorch logits within 1e-4 from the run it creates', async () => {
    const out = path.join(root, 'run-auto');
    const result = await importRun({ weights: FIXTURE, inputShape: [32, 32, 3], out });
    expect(result.headReplaced).toBe(false);
    expect(result.ignored.filter((k) => k.endsWith('num_batches_tracked')).length).toBeGreaterThan(0);
    expect(result.config).toMatchObject({ variant: 'custom', blocks: [2, 2], growthRate: 4, initFeatures: 8, stem: 'imagenet', classes: 3 });
    expect(readRunStatus(out)).toMatchObject({ status: 'finished', reason: 'stopped' });

    const { model, manifest } = await restoreModel(out, 'latest');
    expect(manifest.step).toBe(0);
    const logits = fixtureLogits(model);
    expect(maxAbsDiff(logits, fixture.logits.flat())).toBeLessThan(1e-4);
    model.dispose();
  });

  it('replaces the classifier when --classes differs and can freeze the features', async () => {
    const out = path.join(root, 'run-5');
    const result = await importRun({ weights: FIXTURE, inputShape: [32, 32, 3], classes: 5, freezeFeatures: true, out });
    expect(result.headReplaced).toBe(true);
    expect(result.ignored).toContain('classifier.weight');
    const { model } = await restoreModel(out, 'latest');
    // blocks [2, 2], k=4, 8 initial features: 8+2·4 = 16, halved to 8, then 8+2·4 = 16 features.
    expect(model.getLayer('predictions').getWeights()[0].shape).toEqual([16, 5]);
    expect(result.trainableParams).toBe(16 * 5 + 5);
    // The Training engine rebuilds the model from config.json; import.json carries the freeze.
    expect(model.trainableWeights.length).toBeGreaterThan(2);
    expect(applyImportFreeze(out, model)).toBe(true);
    expect(model.trainableWeights.map((w) => w.originalName).sort()).toEqual(['predictions/bias', 'predictions/kernel']);
    model.dispose();
  });
});

describe('import: bad safetensors files', () => {
  const bytes = fs.readFileSync(FIXTURE);
  const cases: [string, () => string, RegExp][] = [
    ['shorter than the length field', () => { const f = path.join(root, 'tiny.st'); fs.writeFileSync(f, bytes.subarray(0, 5)); return f; }, /5 bytes long, shorter than the 8-byte header length/],
    ['truncated data', () => { const f = path.join(root, 'trunc.st'); fs.writeFileSync(f, bytes.subarray(0, bytes.length - 100)); return f; }, /ends at byte \d+ of the data, but the data section is \d+ bytes \(truncated file\?\)/],
    ['header length beyond the file', () => rawFile('hl.st', '{}', 0, 1000n), /header claims 1000 bytes but only 2 follow/],
    ['bad JSON', () => rawFile('json.st', '{"a": [1, 2', 0), /header is not valid UTF-8 JSON/],
    ['unsupported dtype', () => rawFile('dtype.st', '{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', 8), /tensor "w" has dtype "C64"; supported: F64, F32/],
    ['offsets out of range', () => rawFile('range.st', '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8), /tensor "w" ends at byte 16 of the data, but the data section is 8 bytes/],
    ['offsets that disagree with the shape', () => rawFile('size.st', '{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), /needs 12 bytes, but its offsets \[0, 8\] span 8/],
    ['overlapping tensors', () => rawFile('overlap.st', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12), /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/],
  ];
  for (const [label, make, message] of cases) {
    it(`refuses ${label}`, async () => {
      const file = make();
      await expect(importRun({ weights: file, variant: 'auto', out: path.join(root, `never-${label.replace(/\W+/g, '-')}`) })).rejects.toThrow(message);
    });
  }
});

describe('import: weights that do not fit', () => {
  it('names the layer whose shape fits no variant, with both shapes', async () => {
    const file = variantOfFixture('shape.safetensors', (t) => {
      t.set('features.denseblock2.denselayer1.norm1.weight', { shape: [5], data: new Float32Array(5) });
    });
    await expect(importRun({ weights: file, inputShape: [32, 32, 3], out: path.join(root, 'r-shape') }))
      .rejects.toThrow(/shape\.safetensors holds a DenseNet \(blocks \[2, 2\], k=4, 8 initial features, bottleneck, θ=0\.5, ImageNet stem\) whose shapes fit no variant the workbench builds: layer features\.denseblock2\.denselayer1\.norm1\.weight has shape \[5\] where that architecture needs \[8\]\./);
  });

  it('lists unknown and missing keys', async () => {
    const file = variantOfFixture('keys.safetensors', (t) => {
      t.delete('features.norm5.bias');
      t.set('features.extra.weight', { shape: [1], data: new Float32Array(1) });
    });
    await expect(importRun({ weights: file, inputShape: [32, 32, 3], out: path.join(root, 'r-keys') }))
      .rejects.toThrow(/missing 1 \("features.norm5.bias"\); unknown 1 \("features.extra.weight"\)/);
  });

  it('detects weights of another variant (the tiny fixture as densenet121)', async () => {
    await expect(importRun({ weights: FIXTURE, variant: 'densenet121', inputShape: [32, 32, 3], out: path.join(root, 'r-121') }))
      .rejects.toThrow(/does not match variant densenet121: the weights are a DenseNet with blocks \[2, 2\], growth rate 4, 8 initial features, but densenet121 has blocks \[6, 12, 24, 16\], growth rate 32, 64 initial features/);
  });

  it('detects densenet169 weights given as densenet121', () => {
    // Keys and shapes of a real densenet169 state dict; the values are never read by the check.
    const c169 = getPreset('densenet169', { classes: 1000 });
    const tensors = new Map<string, SafeTensor>();
    const shapes = torchShapes(c169);
    for (const [key, shape] of shapes) tensors.set(key, { dtype: 'F32', shape, data: new Float32Array(0) });
    expect(() => checkArchitecture(tensors, getPreset('densenet121'), 'densenet169.safetensors'))
      .toThrow('densenet169.safetensors does not match variant densenet121: the weights are a DenseNet with blocks [6, 12, 32, 32], growth rate 32, 64 initial features (densenet169), but densenet121 has blocks [6, 12, 24, 16], growth rate 32, 64 initial features (densenet121).');
  });
});

/** torchvision state-dict shapes of a config, worked out the way torchvision's DenseNet does. */
function torchShapes(config: ReturnType<typeof getPreset>): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const k = config.growthRate;
  let channels = config.initFeatures;
  const bn = (key: string, c: number) => ['weight', 'bias', 'running_mean', 'running_var'].forEach((s) => shapes.set(`${key}.${s}`, [c]));
  shapes.set('features.conv0.weight', [channels, 3, 7, 7]);
  bn('features.norm0', channels);
  config.blocks.forEach((layers, b) => {
    for (let i = 1; i <= layers; i++) {
      const p = `features.denseblock${b + 1}.denselayer${i}`;
      bn(`${p}.norm1`, channels);
      shapes.set(`${p}.conv1.weight`, [4 * k, channels, 1, 1]);
      bn(`${p}.norm2`, 4 * k);
      shapes.set(`${p}.conv2.weight`, [k, 4 * k, 3, 3]);
      channels += k;
    }
    if (b < config.blocks.length - 1) {
      bn(`features.transition${b + 1}.norm`, channels);
      shapes.set(`features.transition${b + 1}.conv.weight`, [channels / 2, channels, 1, 1]);
      channels /= 2;
    }
  });
  bn('features.norm5', channels);
  shapes.set('classifier.weight', [config.classes, channels]);
  shapes.set('classifier.bias', [config.classes]);
  // Sanity: the same keys as the Foundation's name map.
  expect([...shapes.keys()].sort()).toEqual(torchvisionNameMap(config).map((r) => r.torch).sort());
  return shapes;
}
