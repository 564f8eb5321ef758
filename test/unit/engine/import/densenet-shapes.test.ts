import { describe, expect, it } from 'vitest';
import { getPreset } from '../../../../shared/presets';
import { describeDenseNet, expectedShapes, firstMismatch, inferDenseNet, matchingPreset } from '../../../../main/engine/import/densenet-shapes';
import { readWeightsFile } from '../../../../main/engine/import/weights-file';
import { torchvisionNameMap } from '../../../../main/engine/model/torchvision';

const shapesOf = (name: string) => {
  const c = getPreset(name);
  return expectedShapes({ ...c, inputChannels: c.inputShape[2] });
};
const trainable = (shapes: Map<string, number[]>) =>
  [...shapes].filter(([k]) => !/running_(mean|var)$/.test(k)).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);

describe('DenseNet state-dict shapes', () => {
  it('gives torchvision’s parameter counts for its four ImageNet DenseNets (torchvision 0.14 weights metadata)', () => {
    expect(trainable(shapesOf('densenet121'))).toBe(7_978_856);
    expect(trainable(shapesOf('densenet169'))).toBe(14_149_480);
    expect(trainable(shapesOf('densenet201'))).toBe(20_013_928);
    expect(trainable(shapesOf('densenet161'))).toBe(28_681_000);
  });

  it('lists exactly the keys of the name map, for bottleneck and plain variants', () => {
    for (const name of ['densenet121', 'densenet-40-12', 'densenet-bc-100-12', 'demo-bc-tiny']) {
      const c = getPreset(name);
      expect([...expectedShapes({ ...c, inputChannels: c.inputShape[2] }).keys()].sort(), name).toEqual(torchvisionNameMap(c).map((r) => r.torch).sort());
    }
  });

  it('infers every preset back from its own shapes', () => {
    for (const name of ['densenet121', 'densenet161', 'densenet-40-12', 'densenet-100-24', 'densenet-bc-100-12', 'demo-bc-small']) {
      const shapes = shapesOf(name);
      const arch = inferDenseNet(new Map([...shapes].map(([k, s]) => [k, { shape: s }])));
      expect(arch, name).not.toBeNull();
      expect(matchingPreset(arch!), name).toBe(name);
    }
  });

  it('reads the architecture of the PyTorch fixture and finds no mismatch', async () => {
    const { tensors } = await readWeightsFile('test/fixtures/pth/tiny_densenet.pth');
    const arch = inferDenseNet(tensors)!;
    expect(arch).toMatchObject({ blocks: [2, 2], growthRate: 4, bottleneck: true, bnSize: 4, compression: 0.5, initFeatures: 8, stem: 'imagenet', inputChannels: 3, classes: 3 });
    expect(describeDenseNet(arch)).toBe('blocks [2, 2], k=4, 8 initial features, bottleneck, θ=0.5, ImageNet stem');
    expect(firstMismatch(tensors, { ...arch, classes: 3 })).toBeNull();
    // Another class count only replaces the classifier.
    expect(firstMismatch(tensors, { ...arch, classes: 7 })).toBeNull();
  });

  it('names the first layer whose shape disagrees, and missing or extra tensors', async () => {
    const { tensors } = await readWeightsFile('test/fixtures/pth/tiny_densenet.pth');
    const arch = { ...inferDenseNet(tensors)!, classes: 3 };
    const bad = new Map(tensors);
    bad.set('features.denseblock2.denselayer2.conv1.weight', { dtype: 'F32', shape: [16, 11, 1, 1], data: new Float32Array(176) });
    expect(firstMismatch(bad, arch)).toBe('layer features.denseblock2.denselayer2.conv1.weight has shape [16, 11, 1, 1] where that architecture needs [16, 12, 1, 1]');
    const missing = new Map(tensors);
    missing.delete('features.transition1.norm.running_var');
    expect(firstMismatch(missing, arch)).toBe('it has no tensor features.transition1.norm.running_var, which that architecture needs (shape [16])');
    const extra = new Map(tensors);
    extra.set('features.denseblock2.denselayer2.se.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    expect(firstMismatch(extra, arch)).toBe('it has 1 tensors that architecture lacks, e.g. features.denseblock2.denselayer2.se.weight');
  });

  it('does not take a ResNet for a DenseNet', async () => {
    const { tensors } = await readWeightsFile('test/fixtures/pth/resnet_keys.pth');
    expect(inferDenseNet(tensors)).toBeNull();
  });
});
