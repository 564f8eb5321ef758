import { describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import { assertValidConfig, validateConfig } from '../../../shared/validation';

const valid: DenseNetConfig = {
  variant: 'custom', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5,
  initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 3,
};

/** Data-driven: each case breaks one thing and names the field and the sentence it must produce. */
const cases: { name: string; patch: Record<string, unknown>; field: string; message: string }[] = [
  { name: 'k < 1', patch: { growthRate: 0 }, field: 'growthRate', message: 'Growth rate k must be a whole number ≥ 1; got 0.' },
  { name: 'non-integer k', patch: { growthRate: 2.5 }, field: 'growthRate', message: 'Growth rate k must be a whole number ≥ 1; got 2.5.' },
  { name: 'θ above 1', patch: { compression: 1.5 }, field: 'compression', message: 'Compression θ must be in (0, 1]; got 1.5.' },
  { name: 'θ = 0', patch: { compression: 0 }, field: 'compression', message: 'Compression θ must be in (0, 1]; got 0.' },
  { name: 'empty blocks', patch: { blocks: [] }, field: 'blocks', message: 'Blocks must be a non-empty list of layer counts, one per dense block (e.g. [6, 12, 24, 16]); got [].' },
  { name: 'blocks not a list', patch: { blocks: 6 }, field: 'blocks', message: 'Blocks must be a non-empty list of layer counts, one per dense block (e.g. [6, 12, 24, 16]); got 6.' },
  { name: 'a block of 0 layers', patch: { blocks: [2, 0] }, field: 'blocks[1]', message: 'Each dense block’s layer count must be a whole number ≥ 1; got 0.' },
  { name: 'classes < 2', patch: { classes: 1 }, field: 'classes', message: 'Classes must be a whole number ≥ 2; got 1.' },
  { name: 'initFeatures < 1', patch: { initFeatures: 0 }, field: 'initFeatures', message: 'Initial features (channels out of the stem) must be a whole number ≥ 1; got 0.' },
  { name: 'dropRate = 1', patch: { dropRate: 1 }, field: 'dropRate', message: 'Drop rate must be in [0, 1); got 1.' },
  { name: 'negative dropRate', patch: { dropRate: -0.1 }, field: 'dropRate', message: 'Drop rate must be in [0, 1); got -0.1.' },
  { name: 'bad stem', patch: { stem: 'resnet' }, field: 'stem', message: 'Stem must be "imagenet" (7×7/2 conv + 3×3/2 max-pool) or "cifar" (one 3×3 conv); got "resnet".' },
  { name: 'bottleneck not boolean', patch: { bottleneck: 'yes' }, field: 'bottleneck', message: 'Bottleneck (B) must be true or false; got "yes".' },
  { name: 'empty variant', patch: { variant: '' }, field: 'variant', message: 'Variant must be a preset name or "custom"; got "".' },
  { name: 'four channels', patch: { inputShape: [8, 8, 4] }, field: 'inputShape[2]', message: 'Input channels must be 1 (grayscale) or 3 (RGB); got 4.' },
  { name: 'zero height', patch: { inputShape: [0, 8, 1] }, field: 'inputShape[0]', message: 'Input height must be a whole number ≥ 1; got 0.' },
  { name: 'non-integer width', patch: { inputShape: [8, 7.5, 1] }, field: 'inputShape[1]', message: 'Input width must be a whole number ≥ 1; got 7.5.' },
  { name: 'two-element input', patch: { inputShape: [8, 8] }, field: 'inputShape', message: 'Input shape must be [height, width, channels], e.g. [28, 28, 1] or [224, 224, 3]; got [8,8].' },
  { name: 'missing classes', patch: { classes: undefined }, field: 'classes', message: 'Classes must be a whole number ≥ 2; got nothing.' },
  { name: 'infinite k', patch: { growthRate: Infinity }, field: 'growthRate', message: 'Growth rate k must be a whole number ≥ 1; got Infinity.' },
  {
    name: 'input too small for the cifar stem and two blocks',
    patch: { inputShape: [1, 8, 1] },
    field: 'inputShape[0]',
    message: 'Input height 1 is too small for the cifar stem and 2 dense blocks, which halve it 1 time; it must be at least 2.',
  },
  {
    name: 'input too small for the imagenet stem and four blocks',
    patch: { stem: 'imagenet', blocks: [6, 12, 24, 16], inputShape: [64, 28, 1] },
    field: 'inputShape[1]',
    message: 'Input width 28 is too small for the imagenet stem and 4 dense blocks, which halve it 5 times; it must be at least 29.',
  },
  {
    name: 'θ leaving a transition without channels',
    patch: { compression: 0.05 },
    field: 'compression',
    message: 'Compression θ = 0.05 leaves transition 1 with ⌊0.05 × 16⌋ = 0 channels; θ must be at least 0.0625 for its 16 input channels.',
  },
];

describe('validateConfig', () => {
  it('accepts a valid config', () => {
    expect(validateConfig(valid)).toEqual([]);
    expect(assertValidConfig(valid)).toBe(valid);
  });

  it('accepts the smallest input the downsamplings allow', () => {
    expect(validateConfig({ ...valid, stem: 'imagenet', blocks: [6, 12, 24, 16], inputShape: [29, 29, 3] })).toEqual([]);
    expect(validateConfig({ ...valid, inputShape: [2, 2, 1] })).toEqual([]);
  });

  it.each(cases)('reports $name', ({ patch, field, message }) => {
    const problems = validateConfig({ ...valid, ...patch });
    expect(problems.map((p) => ({ field: p.field, message: p.message }))).toEqual([{ field, message }]);
    // The value is the one found at that field.
    const path = field.replace(/\[(\d+)\]/g, '.$1').split('.');
    const expected = path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], { ...valid, ...patch });
    expect(problems[0].value).toEqual(expected);
  });

  it('reports every problem at once', () => {
    const problems = validateConfig({ ...valid, growthRate: 0, compression: 1.5, classes: 1, blocks: [] });
    expect(problems.map((p) => p.field).sort()).toEqual(['blocks', 'classes', 'compression', 'growthRate']);
  });

  it('still checks the input size when an unrelated field is wrong', () => {
    const problems = validateConfig({ ...valid, growthRate: 0, inputShape: [1, 8, 1] });
    expect(problems.map((p) => p.field)).toEqual(['growthRate', 'inputShape[0]']);
  });

  it('reports a non-object', () => {
    const problems = validateConfig(null);
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/^A DenseNet config must be an object with variant, blocks, .*; got null\.$/);
  });

  it('throws one user error listing every problem in one line', () => {
    let error: unknown;
    try {
      assertValidConfig({ ...valid, growthRate: 0, compression: 1.5 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).user).toBe(true);
    expect((error as WorkbenchError).message).toBe(
      'Invalid DenseNet config (2 problems): Growth rate k must be a whole number ≥ 1; got 0. Compression θ must be in (0, 1]; got 1.5.',
    );
  });
});
