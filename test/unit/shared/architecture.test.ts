import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../shared/config';
import { connectivityGraph, summarize } from '../../../shared/architecture';
import { getPreset } from '../../../shared/presets';
import { buildDenseNet } from '../../../main/engine/model/densenet';

const tiny: DenseNetConfig = {
  variant: 'custom', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5,
  initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 3,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('summarize', () => {
  it('gives the DenseNet-121 volumes of the seed article and torchvision’s counts', () => {
    const s = summarize(getPreset('densenet121'));
    expect(s.stages.map((st) => st.shape.join('×'))).toEqual([
      '56×56×64', '56×56×256', '28×28×128', '28×28×512', '14×14×256', '14×14×1024', '7×7×512', '7×7×1024', '1024',
    ]);
    expect(s.stages.map((st) => st.layer)).toEqual([
      'pool1', 'conv2_block6_concat', 'pool2_pool', 'conv3_block12_concat', 'pool3_pool', 'conv4_block24_concat', 'pool4_pool', 'conv5_block16_concat', 'avg_pool',
    ]);
    expect(s.totals.trainableParams).toBe(7_978_856);
    expect(s.totals.nonTrainableParams).toBe(83_648); // BN moving mean + variance
    expect(s.totals.params).toBe(s.totals.trainableParams + s.totals.nonTrainableParams);
    // torchvision lists 2.834 "GFLOPS", which are multiply-adds of convs and the classifier.
    expect(Math.abs(s.totals.macs / 2.834e9 - 1)).toBeLessThan(0.01);
    expect(s.blocks.map((b) => [b.channelsIn, b.channelsOut])).toEqual([[64, 256], [128, 512], [256, 1024], [512, 1024]]);
    expect(s.layers[0].name).toBe('input_1');
    expect(s.layers[s.layers.length - 1]).toMatchObject({ name: 'predictions', kind: 'dense', outputShape: [1000], params: 1_025_000 });
  });

  it.each([
    ['densenet169', 14_149_480],
    ['densenet201', 20_013_928],
    ['densenet161', 28_681_000],
    ['densenet-bc-100-12', 769_162],
    ['densenet-bc-40-12', 176_122],
  ])('counts %s trainable parameters as torchvision does', (name, expected) => {
    expect(summarize(getPreset(name)).totals.trainableParams).toBe(expected);
  });

  it('has channelsOut = k0 + k·ℓ for every block', () => {
    const s = summarize(getPreset('densenet-bc-100-12'));
    for (const b of s.blocks) expect(b.channelsOut).toBe(b.channelsIn + b.growthRate * b.layers);
    expect(s.blocks.map((b) => b.channelsIn)).toEqual([24, 108, 150]);
  });

  it.each([
    ['bottleneck', tiny],
    ['plain with dropout', { ...tiny, bottleneck: false, compression: 1, dropRate: 0.2 }],
    ['imagenet stem on an odd size', { ...tiny, stem: 'imagenet', inputShape: [37, 35, 3], blocks: [1, 2, 1], compression: 0.7 } as DenseNetConfig],
  ])('agrees layer by layer with the built tf model (%s)', (_name, config) => {
    const model = buildDenseNet(config);
    const s = summarize(config);
    const fromModel = model.layers.map((l) => ({
      name: l.name,
      outputShape: (l.outputShape as number[]).slice(1),
      params: l.countParams(),
      trainableParams: l.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0),
    }));
    const fromSummary = s.layers.map(({ name, outputShape, params, trainableParams }) => ({ name, outputShape, params, trainableParams }));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...fromSummary].sort(byName)).toEqual([...fromModel].sort(byName));
    expect(fromSummary.map((l) => l.name)).toEqual(fromModel.map((l) => l.name));
    expect(s.totals.params).toBe(model.countParams());
    model.dispose();
  });
});

describe('connectivityGraph', () => {
  const config: DenseNetConfig = { ...tiny, blocks: [3, 4, 2], inputShape: [16, 16, 1] };
  const graph = connectivityGraph(config);

  it('has ℓ(ℓ+1)/2 edges per block, ℓ counting the dense layers and the transition or classifier', () => {
    config.blocks.forEach((n, b) => {
      const l = n + 1;
      expect(graph.edges.filter((e) => e.block === b + 1)).toHaveLength((l * (l + 1)) / 2);
    });
    expect(graph.blocks.map((b) => b.targets.at(-1))).toEqual(['pool2', 'pool3', 'predictions']);
    expect(graph.blocks[1].sources).toEqual(['pool2', 'conv3_block1', 'conv3_block2', 'conv3_block3', 'conv3_block4']);
  });

  it('has channel ranges that tile each consumer’s input exactly, in source order', () => {
    const s = summarize(config);
    const shape = new Map(s.layers.map((l) => [l.name, l.outputShape]));
    for (const node of graph.nodes.filter((n) => n.kind !== 'stem')) {
      let next = 0;
      for (const r of node.inputs) {
        expect(r.start).toBe(next);
        const source = graph.nodes.find((n) => n.id === r.source);
        expect(r.end - r.start).toBe(source?.volume.at(-1));
        next = r.end;
      }
      expect(next).toBe(node.inputChannels);
      // The weight layer's kernel input axis is exactly this input.
      const weightInput = s.layers.find((l) => l.name === node.weightLayer)?.inputs[0] as string;
      expect(shape.get(weightInput)?.at(-1)).toBe(node.inputChannels);
      expect(graph.edges.filter((e) => e.target === node.id).map(({ source, start, end }) => ({ source, start, end }))).toEqual(node.inputs);
    }
  });

  it('names nodes by Keras prefixes and lists the model’s layers', () => {
    expect(graph.nodes.map((n) => n.id).slice(0, 5)).toEqual(['conv1', 'conv2_block1', 'conv2_block2', 'conv2_block3', 'pool2']);
    const layer = graph.nodes[1];
    expect(layer).toMatchObject({ kind: 'dense', block: 1, index: 1, volume: [16, 16, 4], weightLayer: 'conv2_block1_1_conv', outputLayer: 'conv2_block1_2_conv' });
    expect(graph.nodes.find((n) => n.id === 'predictions')).toMatchObject({ kind: 'classifier', weightLayer: 'predictions', volume: [3], index: 3 });
    const all = graph.nodes.flatMap((n) => n.layers);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length + 1).toBe(summarize(config).layers.length); // every layer but the input belongs to one node
  });

  it('uses the 3×3 conv as the weight layer without a bottleneck', () => {
    const plain = connectivityGraph({ ...config, bottleneck: false });
    expect(plain.nodes[1].weightLayer).toBe('conv2_block1_2_conv');
  });

  it('rejects an invalid config', () => {
    expect(() => connectivityGraph({ ...config, growthRate: 0 })).toThrow(/Growth rate k/);
  });
});
