import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../../shared/config';
import { WorkbenchError } from '../../../../shared/errors';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { torchvisionNameMap } from '../../../../main/engine/model/torchvision';
import { parseSafetensors } from '../../../../main/engine/import/safetensors';
import { readFileSync } from 'node:fs';

const tiny: DenseNetConfig = {
  variant: 'custom',
  blocks: [2, 3],
  growthRate: 4,
  bottleneck: true,
  compression: 0.5,
  initFeatures: 8,
  stem: 'cifar',
  dropRate: 0,
  inputShape: [8, 8, 1],
  classes: 3,
};

const imagenet = (blocks: number[], growthRate: number, initFeatures: number): DenseNetConfig => ({
  variant: 'custom',
  blocks,
  growthRate,
  bottleneck: true,
  compression: 0.5,
  initFeatures,
  stem: 'imagenet',
  dropRate: 0,
  inputShape: [224, 224, 3],
  classes: 1000,
});

const trainable = (model: tf.LayersModel) => model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildDenseNet', () => {
  it('matches torchvision densenet121 trainable parameters and Keras layer names', () => {
    const model = buildDenseNet(imagenet([6, 12, 24, 16], 32, 64));
    expect(trainable(model)).toBe(7_978_856);
    // The stem and head names are the weights' keys (Keras 3 spelling: `conv1_conv`, not `conv1/conv`).
    expect(model.layers.slice(0, 7).map((l) => l.name)).toEqual(['input_1', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1']);
    expect(model.layers.slice(-4).map((l) => l.name)).toEqual(['bn', 'relu', 'avg_pool', 'predictions']);
    const names = model.layers.map((l) => l.name);
    for (const name of ['conv2_block1_0_bn', 'conv2_block1_0_relu', 'conv2_block1_1_conv', 'conv2_block1_1_bn', 'conv2_block1_1_relu', 'conv2_block1_2_conv', 'conv2_block1_concat', 'pool2_bn', 'pool2_relu', 'pool2_conv', 'pool2_pool', 'conv5_block16_concat']) {
      expect(names).toContain(name);
    }
    expect(model.getLayer('conv5_block16_concat').outputShape).toEqual([null, 7, 7, 1024]);
    expect(model.getLayer('predictions').getWeights().map((w) => w.shape)).toEqual([[1024, 1000], [1000]]);
    // No conv carries a bias, as in Keras and torchvision.
    expect(model.getLayer('conv2_block1_2_conv').weights.map((w) => w.originalName)).toEqual(['conv2_block1_2_conv/kernel']);
    model.dispose();
  });

  it.each([
    ['densenet169', [6, 12, 32, 32], 32, 64, 14_149_480],
    ['densenet201', [6, 12, 48, 32], 32, 64, 20_013_928],
    ['densenet161', [6, 12, 36, 24], 48, 96, 28_681_000],
  ])('matches torchvision %s trainable parameters', (_name, blocks, k, init, expected) => {
    const model = buildDenseNet(imagenet(blocks, k, init));
    expect(trainable(model)).toBe(expected);
    model.dispose();
  });

  it('matches the CIFAR DenseNet-BC (L=100, k=12) for 10 classes: 769,162', () => {
    const model = buildDenseNet({ ...tiny, blocks: [16, 16, 16], growthRate: 12, initFeatures: 24, inputShape: [32, 32, 3], classes: 10 });
    expect(trainable(model)).toBe(769_162);
    model.dispose();
  });

  it('names the 3×3 conv `_2_conv` without a bottleneck and adds dropout after each conv', () => {
    const model = buildDenseNet({ ...tiny, bottleneck: false, dropRate: 0.2 });
    const names = model.layers.map((l) => l.name);
    expect(names).not.toContain('conv2_block1_1_conv');
    expect(names).toEqual(expect.arrayContaining(['conv2_block1_2_conv', 'conv2_block1_2_drop', 'pool2_conv', 'pool2_drop']));
    model.dispose();
  });

  it('rejects an invalid config before building anything', () => {
    expect(() => buildDenseNet({ ...tiny, growthRate: 0, compression: 1.5 })).toThrow(WorkbenchError);
    expect(() => buildDenseNet({ ...tiny, growthRate: 0 })).toThrow(/Growth rate k must be a whole number ≥ 1; got 0\./);
  });

  it('runs a forward pass and one training step on the cpu backend', () => {
    const model = buildDenseNet(tiny);
    expect(model.outputs[0].shape).toEqual([null, 3]);
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 1);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);

    const logits = model.predict(x) as tf.Tensor;
    expect(logits.shape).toEqual([4, 3]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    logits.dispose();

    const optimizer = tf.train.sgd(0.1);
    const loss = () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const step = () => {
      const value = optimizer.minimize(loss, true) as tf.Scalar;
      const number = value.dataSync()[0];
      value.dispose();
      return number;
    };

    const before = model.getLayer('conv1_conv').getWeights()[0].clone();
    const movingBefore = model.getLayer('conv2_block1_0_bn').getWeights()[2].clone();
    const first = step();
    expect(Number.isFinite(first)).toBe(true);
    const after = model.getLayer('conv1_conv').getWeights()[0];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(after, before))).dataSync()[0])).toBeGreaterThan(0);
    // Training mode updates the BN moving statistics too.
    const movingAfter = model.getLayer('conv2_block1_0_bn').getWeights()[2];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(movingAfter, movingBefore))).dataSync()[0])).toBeGreaterThan(0);

    // A second step allocates no tensors that outlive it.
    const tensors = tf.memory().numTensors;
    expect(Number.isFinite(step())).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);

    tf.dispose([x, labels, before, movingBefore]);
    optimizer.dispose();
    model.dispose();
  });
});

describe('torchvisionNameMap', () => {
  it('pins the rows of densenet121', () => {
    const rows = torchvisionNameMap(imagenet([6, 12, 24, 16], 32, 64));
    expect(rows[0]).toEqual({ keras: 'conv1_conv', weight: 'kernel', torch: 'features.conv0.weight', layout: 'OIHW->HWIO' });
    expect(rows[1]).toEqual({ keras: 'conv1_bn', weight: 'gamma', torch: 'features.norm0.weight', layout: 'same' });
    expect(rows).toContainEqual({ keras: 'conv2_block1_0_bn', weight: 'moving_variance', torch: 'features.denseblock1.denselayer1.norm1.running_var', layout: 'same' });
    expect(rows).toContainEqual({ keras: 'conv2_block1_1_conv', weight: 'kernel', torch: 'features.denseblock1.denselayer1.conv1.weight', layout: 'OIHW->HWIO' });
    expect(rows).toContainEqual({ keras: 'conv3_block12_2_conv', weight: 'kernel', torch: 'features.denseblock2.denselayer12.conv2.weight', layout: 'OIHW->HWIO' });
    expect(rows).toContainEqual({ keras: 'pool4_conv', weight: 'kernel', torch: 'features.transition3.conv.weight', layout: 'OIHW->HWIO' });
    expect(rows).toContainEqual({ keras: 'bn', weight: 'moving_mean', torch: 'features.norm5.running_mean', layout: 'same' });
    expect(rows.slice(-2)).toEqual([
      { keras: 'predictions', weight: 'kernel', torch: 'classifier.weight', layout: 'OI->IO' },
      { keras: 'predictions', weight: 'bias', torch: 'classifier.bias', layout: 'same' },
    ]);
    // One row per TF.js weight of the model.
    const model = buildDenseNet(imagenet([6, 12, 24, 16], 32, 64));
    expect(rows.map((r) => `${r.keras}/${r.weight}`).sort()).toEqual(model.weights.map((w) => w.originalName).sort());
    model.dispose();
  });

  it('names the one BN and the one conv of a dense layer without a bottleneck norm1 and conv2', () => {
    const plain = { ...tiny, bottleneck: false };
    const rows = torchvisionNameMap(plain);
    expect(rows).toContainEqual({ keras: 'conv2_block1_0_bn', weight: 'gamma', torch: 'features.denseblock1.denselayer1.norm1.weight', layout: 'same' });
    expect(rows).toContainEqual({ keras: 'conv2_block1_2_conv', weight: 'kernel', torch: 'features.denseblock1.denselayer1.conv2.weight', layout: 'OIHW->HWIO' });
    expect(rows.some((r) => /denselayer\d+\.(conv1|norm2)\./.test(r.torch))).toBe(false);
    const model = buildDenseNet(plain);
    expect(rows.map((r) => `${r.keras}/${r.weight}`).sort()).toEqual(model.weights.map((w) => w.originalName).sort());
    model.dispose();
  });

  it('loads torchvision’s own weights and reproduces PyTorch’s logits (committed fixture)', () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/torchvision/tiny_densenet.json', 'utf8')) as {
      config: { growth_rate: number; block_config: number[]; num_init_features: number; num_classes: number };
      inputShape: [number, number, number, number];
      pixels: number[];
      logits: number[][];
    };
    const { tensors } = parseSafetensors(readFileSync('test/fixtures/torchvision/tiny_densenet.safetensors'));
    const [n, c, h, w] = fixture.inputShape;
    const config: DenseNetConfig = {
      ...imagenet(fixture.config.block_config, fixture.config.growth_rate, fixture.config.num_init_features),
      inputShape: [h, w, c],
      classes: fixture.config.num_classes,
    };
    const rows = torchvisionNameMap(config);
    // Every parameter and running statistic of the state dict is mapped exactly once.
    const stateKeys = [...tensors.keys()].filter((k) => !k.endsWith('num_batches_tracked')).sort();
    expect(rows.map((r) => r.torch).sort()).toEqual(stateKeys);

    const model = buildDenseNet(config);
    const byName = new Map(rows.map((r) => [`${r.keras}/${r.weight}`, r]));
    const values = tf.tidy(() =>
      model.weights.map((weight) => {
        const row = byName.get(weight.originalName);
        if (!row) throw new Error(`No torchvision row for ${weight.originalName}`);
        const source = tensors.get(row.torch);
        if (!source) throw new Error(`No ${row.torch} in the fixture`);
        const t = tf.tensor(Array.from(source.data as Float32Array), source.shape);
        const converted = row.layout === 'OIHW->HWIO' ? t.transpose([2, 3, 1, 0]) : row.layout === 'OI->IO' ? t.transpose() : t;
        expect(converted.shape).toEqual(weight.shape);
        return tf.keep(converted);
      }),
    );
    model.setWeights(values);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(fixture.pixels, [n, c, h, w], 'float32').div(255).transpose([0, 2, 3, 1]);
      return model.predict(x) as tf.Tensor;
    });
    const got = logits.arraySync() as number[][];
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(fixture.logits[i][j], 4)));
    tf.dispose([...values, logits]);
    model.dispose();
  });
});
