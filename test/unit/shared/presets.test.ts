import { describe, expect, it } from 'vitest';
import { summarize } from '../../../shared/architecture';
import { WorkbenchError } from '../../../shared/errors';
import { DEFAULT_DEMO_PRESET, PRESETS, findPreset, getPreset, presetNames } from '../../../shared/presets';
import { validateConfig } from '../../../shared/validation';

describe('presets', () => {
  it('lists stable kebab-case names with the paper’s titles', () => {
    expect(presetNames()).toEqual([
      'densenet121', 'densenet169', 'densenet201', 'densenet264', 'densenet161',
      'densenet-40-12', 'densenet-100-12', 'densenet-100-24',
      'densenet-bc-40-12', 'densenet-bc-100-12', 'densenet-bc-250-24', 'densenet-bc-190-40',
      'demo-bc-tiny', 'demo-bc-small',
    ]);
    for (const p of PRESETS) expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(findPreset('densenet-bc-100-12')?.title).toBe('DenseNet-BC (L=100, k=12)');
    expect(findPreset('densenet-40-12')?.title).toBe('DenseNet (L=40, k=12)');
    expect(findPreset('densenet121')?.title).toBe('DenseNet-121');
    expect(findPreset(DEFAULT_DEMO_PRESET)?.family).toBe('demo');
  });

  it('gives valid configs named after the preset', () => {
    for (const p of PRESETS) {
      const config = p.config();
      expect(validateConfig(config)).toEqual([]);
      expect(config.variant).toBe(p.name);
    }
  });

  it('has the ImageNet block layouts of torchvision', () => {
    expect(getPreset('densenet264')).toMatchObject({ blocks: [6, 12, 64, 48], growthRate: 32, initFeatures: 64, bottleneck: true, compression: 0.5, stem: 'imagenet', inputShape: [224, 224, 3], classes: 1000 });
    expect(getPreset('densenet161')).toMatchObject({ blocks: [6, 12, 36, 24], growthRate: 48, initFeatures: 96 });
  });

  it('applies the paper’s depth rule to the CIFAR networks', () => {
    expect(getPreset('densenet-40-12')).toMatchObject({ blocks: [12, 12, 12], bottleneck: false, compression: 1, initFeatures: 16, stem: 'cifar' });
    expect(getPreset('densenet-100-24')).toMatchObject({ blocks: [32, 32, 32], growthRate: 24, initFeatures: 16 });
    expect(getPreset('densenet-bc-100-12')).toMatchObject({ blocks: [16, 16, 16], bottleneck: true, compression: 0.5, initFeatures: 24 });
    expect(getPreset('densenet-bc-250-24')).toMatchObject({ blocks: [41, 41, 41], initFeatures: 48 });
    expect(getPreset('densenet-bc-190-40')).toMatchObject({ blocks: [31, 31, 31], initFeatures: 80 });
  });

  it.each([
    ['densenet-40-12', 1.0],
    ['densenet-100-12', 7.0],
    ['densenet-100-24', 27.2],
    ['densenet-bc-100-12', 0.8],
    ['densenet-bc-250-24', 15.3],
    ['densenet-bc-190-40', 25.6],
  ])('%s has the paper’s Table 2 size, %s M parameters', (name, millions) => {
    const params = summarize(getPreset(name)).totals.trainableParams;
    expect(Math.round(params / 1e5) / 10).toBe(millions);
  });

  it('keeps the demos small enough to train on a CPU', () => {
    const tiny = summarize(getPreset('demo-bc-tiny')).totals;
    expect(getPreset('demo-bc-tiny').inputShape).toEqual([28, 28, 1]);
    expect(tiny.macs).toBeLessThan(10e6);
    expect(tiny.trainableParams).toBeLessThan(30_000);
    expect(summarize(getPreset('demo-bc-small')).totals.macs).toBeLessThan(50e6);
  });

  it('overrides input and classes without changing the variant, architecture fields making it custom', () => {
    const c = getPreset('densenet121', { inputShape: [64, 64, 1], classes: 5 });
    expect(c).toMatchObject({ variant: 'densenet121', inputShape: [64, 64, 1], classes: 5 });
    expect(getPreset('densenet-40-12', { dropRate: 0.2 })).toMatchObject({ variant: 'densenet-40-12', dropRate: 0.2 });
    expect(getPreset('densenet121', { growthRate: 32 }).variant).toBe('densenet121');
    expect(getPreset('densenet121', { growthRate: 12, blocks: [2, 2] })).toMatchObject({ variant: 'custom', growthRate: 12, blocks: [2, 2], initFeatures: 64 });
  });

  it('returns fresh objects, so callers cannot change a preset', () => {
    const a = getPreset('densenet121');
    a.blocks.push(99);
    a.inputShape[0] = 1;
    expect(getPreset('densenet121')).toMatchObject({ blocks: [6, 12, 24, 16], inputShape: [224, 224, 3] });
  });

  it('rejects an unknown name, listing the valid ones', () => {
    expect(() => getPreset('densenet122')).toThrow(WorkbenchError);
    expect(() => getPreset('densenet122')).toThrow(/^Unknown variant "densenet122"; valid variants are densenet121, densenet169, .*, demo-bc-small\.$/);
  });
});
