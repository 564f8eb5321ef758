import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { DenseNetConfig } from '../../../../shared/config';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { FeatureProbe } from '../../../../main/engine/inspect/feature-probe';
import { ablationTargets, probePoints } from '../../../../main/engine/inspect/probe-points';
import { connectivityGraph } from '../../../../shared/architecture';
import { computeStats } from '../../../../main/engine/inspect/stats';
import { ablateLayers, withLayerZeroed } from '../../../../main/engine/inspect/ablation';
import { evaluationMetrics, memoryBatches } from '../../../../main/engine/inspect/evaluation';
import { accuracyOf, predictAll } from '../../../../main/engine/train/evaluate';
import { encodeActivationMaps, rawActivationMaps } from '../../../../main/engine/inspect/activations';
import { ActivationMapSchema, LayerStatSchema } from '../../../../shared/protocol/inspect';

const config: DenseNetConfig = {
  variant: 'tiny', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8,
  stem: 'cifar', dropRate: 0.2, inputShape: [8, 8, 1], classes: 3,
};

let model: tf.LayersModel;
let images: Float32Array;
let labels: Int32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = buildDenseNet(config);
  const n = 24;
  images = new Float32Array(n * 64);
  labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) images[i * 64 + p] = Math.sin(0.3 * p * (1 + labels[i]) + i) * 0.5 + 0.5;
  }
});
afterAll(() => model.dispose());

const batch = () => tf.tensor4d(images.subarray(0, 8 * 64), [8, 8, 8, 1]);

describe('feature probe', () => {
  it('covers the stem, every dense layer, every transition and the classifier input, on the same weights', async () => {
    const points = probePoints(connectivityGraph(config));
    expect(points.map((p) => [p.node, p.layer])).toEqual([
      ['conv1', 'conv1_conv'],
      ['conv2_block1', 'conv2_block1_2_drop'], ['conv2_block2', 'conv2_block2_2_drop'], ['pool2', 'pool2_pool'],
      ['conv3_block1', 'conv3_block1_2_drop'], ['conv3_block2', 'conv3_block2_2_drop'], ['conv3_block3', 'conv3_block3_2_drop'],
      ['predictions', 'avg_pool'],
    ]);
    const weightsBefore = model.getWeights().length;
    const probe = new FeatureProbe(model, points.map((p) => p.layer));
    expect(model.getWeights().length).toBe(weightsBefore);

    const x = batch();
    const stats = await probe.stats(x);
    expect(stats.map((s) => s.layer)).toEqual(probe.layers);
    for (const s of stats) expect(LayerStatSchema.safeParse(s).success).toBe(true);

    // The probe's view equals the real network: layer 2's maps are channels [12, 16) of block 1's
    // concat (8 stem channels + 4 from layer 1), computed through the model itself.
    const direct = tf.tidy(() => {
      const concat = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv2_block2_concat').output as tf.SymbolicTensor });
      return (concat.predict(x) as tf.Tensor4D).slice([0, 0, 0, 12], [-1, -1, -1, 4]);
    });
    const [expected] = await computeStats([{ layer: 'conv2_block2_2_conv', tensor: direct }]);
    const got = stats.find((s) => s.layer === 'conv2_block2_2_drop')!;
    expect(got.mean).toBeCloseTo(expected.mean, 6);
    expect(got.std).toBeCloseTo(expected.std, 6);
    expect(got.histogram).toEqual(expected.histogram);
    // The classifier input is post-ReLU and pooled: nothing negative.
    expect(stats.at(-1)!.min).toBeGreaterThanOrEqual(0);
    direct.dispose();
    x.dispose();
  });

  it('leaks no tensor across repeated probes', async () => {
    const probe = new FeatureProbe(model, probePoints(connectivityGraph(config)).map((p) => p.layer));
    const x = batch();
    const warm = x.slice([0], [1]);
    await probe.stats(x); // the first call may create lasting state (none expected, but not measured)
    await rawActivationMaps(probe, warm, 2);
    warm.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await probe.stats(x);
      const one = x.slice([0], [1]);
      await rawActivationMaps(probe, one, 2);
      one.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('refuses a layer the model does not have', () => {
    expect(() => new FeatureProbe(model, ['conv9_block1_2_conv'])).toThrow('The model tiny has no layer named conv9_block1_2_conv.');
  });
});

describe('activation maps', () => {
  it('give each spatial layer its top-N maps by mean activation as 8-bit PNGs', async () => {
    const probe = new FeatureProbe(model, ['conv1_conv', 'conv2_block1_2_conv', 'avg_pool']);
    const image = tf.tensor3d(images.subarray(0, 64), [8, 8, 1]);
    const raw = await rawActivationMaps(probe, image, 3);
    expect(raw.map((m) => m.layer)).toEqual(['conv1_conv', 'conv2_block1_2_conv']); // avg_pool is not a map
    const stem = tf.tidy(() => (probe.outputs(image.expandDims(0))[0] as tf.Tensor4D).squeeze([0]));
    const means = Array.from(await stem.mean([0, 1]).data());
    const order = means.map((m, c) => [m, c]).sort((a, b) => b[0] - a[0]).slice(0, 3).map((p) => p[1]);
    expect(raw[0].channels).toEqual(order);
    // Each map is scaled on its own range: its darkest pixel is 0 and its brightest 255.
    const first = await stem.data();
    const c0 = order[0];
    const values = Array.from({ length: 64 }, (_, p) => first[p * 8 + c0]);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    expect(Array.from(raw[0].pixels[0])).toEqual(values.map((v) => Math.round(((v - lo) / (hi - lo)) * 255)));

    const [encoded] = await encodeActivationMaps(raw.slice(0, 1));
    expect(ActivationMapSchema.safeParse(encoded).success).toBe(true);
    const meta = await sharp(Buffer.from(encoded.pngs[0], 'base64')).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 8, 8, 1]);
    stem.dispose();
    image.dispose();
  });
});

describe('layer ablation', () => {
  const accuracy = async () => accuracyOf(labels, (await predictAll(model, memoryBatches(images, labels, 10)())).predicted);

  it('of a layer whose weights are zero changes nothing', async () => {
    const target = 'conv3_block2_2_conv';
    const layer = model.getLayer(target);
    const original = layer.getWeights()[0].clone();
    layer.setWeights([tf.zerosLike(original)]);
    try {
      const x = batch();
      const before = tf.tidy(() => model.predict(x) as tf.Tensor);
      const during = await withLayerZeroed(model, target, async () => tf.tidy(() => model.predict(x) as tf.Tensor));
      expect(Array.from(await during.data())).toEqual(Array.from(await before.data()));
      const result = await ablateLayers(model, [target], accuracy);
      expect(result.layers[0]).toEqual({ layer: target, accuracy: result.baselineAccuracy, drop: 0 });
      tf.dispose([x, before, during]);
    } finally {
      layer.setWeights([original]);
      original.dispose();
    }
  });

  it('zeroes a live layer exactly, then restores its kernel', async () => {
    const target = 'conv2_block1_2_conv';
    const kernelBefore = await model.getLayer(target).getWeights()[0].data();
    const x = batch();
    const maps = await withLayerZeroed(model, target, async () =>
      tf.tidy(() => {
        const view = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv2_block1_concat').output as tf.SymbolicTensor });
        return (view.predict(x) as tf.Tensor).slice([0, 0, 0, 8], [-1, -1, -1, 4]);
      }),
    );
    expect((await maps.abs().max().data())[0]).toBe(0);
    expect(Array.from(await model.getLayer(target).getWeights()[0].data())).toEqual(Array.from(kernelBefore));
    const before = tf.memory().numTensors;
    const targets = ablationTargets(connectivityGraph(config));
    expect(targets.map((t) => t.conv)).toEqual(['conv2_block1_2_conv', 'conv2_block2_2_conv', 'conv3_block1_2_conv', 'conv3_block2_2_conv', 'conv3_block3_2_conv']);
    await ablateLayers(model, targets.slice(0, 2).map((t) => t.conv), accuracy);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([maps, x]);
  });

  it('refuses a layer that is not a bias-free conv', async () => {
    await expect(ablateLayers(model, ['predictions'], accuracy)).rejects.toThrow(
      'Layer predictions must be a bias-free Conv2D to be ablated by zeroing its kernel; it is a Dense with 2 weights.',
    );
  });
});

describe('evaluation', () => {
  it('builds the confusion matrix, per-class metrics and the most confident mistakes', () => {
    const y = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const predicted = Int32Array.from([0, 1, 1, 1, 0, 2]);
    const confidence = Float32Array.from([0.9, 0.6, 0.8, 0.7, 0.95, 0.5]);
    const r = evaluationMetrics({ labels: y, predicted, confidence }, 3);
    expect(r.confusion).toEqual([[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
    expect(r.accuracy).toBeCloseTo(4 / 6);
    expect(r.perClass[1]).toEqual({ precision: 2 / 3, recall: 1, accuracy: 5 / 6, support: 2 });
    expect(r.perClass[2]).toEqual({ precision: 1, recall: 0.5, accuracy: 5 / 6, support: 2 });
    expect(r.misclassified.map((m) => m.index)).toEqual([4, 1]);
    expect(r.misclassified[0].confidence).toBeCloseTo(0.95);
  });

  it('names a label outside the classes', () => {
    const r = () => evaluationMetrics({ labels: Int32Array.from([3]), predicted: Int32Array.from([0]), confidence: Float32Array.from([1]) }, 3);
    expect(r).toThrow('Sample 0 has class 3, outside 0..2.');
  });
});
