import { describe, expect, it } from 'vitest';
import { configFromFlags, formatSummary } from '../../../main/cli/commands/summary';
import { summarize } from '../../../shared/architecture';
import { formatCount, formatInteger } from '../../../shared/format';

describe('formatCount', () => {
  it('uses three significant digits and SI prefixes', () => {
    expect(formatCount(7_978_856)).toBe('7.98 M');
    expect(formatCount(2_834_161_664)).toBe('2.83 G');
    expect(formatCount(19_978)).toBe('20.0 k');
    expect(formatCount(999_999)).toBe('1.00 M');
    expect(formatCount(512)).toBe('512');
    expect(formatInteger(7_978_856)).toBe('7,978,856');
  });
});

describe('configFromFlags', () => {
  it('keeps the preset without overrides and makes architecture overrides custom', () => {
    expect(configFromFlags({ variant: 'densenet121' }).variant).toBe('densenet121');
    expect(configFromFlags({ variant: 'densenet121', input: '64x64x1', classes: '5' })).toMatchObject({ variant: 'densenet121', inputShape: [64, 64, 1], classes: 5 });
    expect(
      configFromFlags({ variant: 'demo-bc-tiny', blocks: '3,3', growthRate: '6', bottleneck: false, compression: '1', initFeatures: '12', stem: 'imagenet', dropRate: '0.2' }),
    ).toEqual({ variant: 'custom', blocks: [3, 3], growthRate: 6, bottleneck: false, compression: 1, initFeatures: 12, stem: 'imagenet', dropRate: 0.2, inputShape: [28, 28, 1], classes: 10 });
  });

  it('rejects malformed numbers and lists with a sentence naming the flag', () => {
    expect(() => configFromFlags({ variant: 'densenet121', growthRate: 'twelve' })).toThrow('--growth-rate must be a number, e.g. --growth-rate 12; got "twelve".');
    expect(() => configFromFlags({ variant: 'densenet121', blocks: '6;12' })).toThrow(/^--blocks must be layer counts separated by commas/);
    expect(() => configFromFlags({ variant: 'densenet121', classes: '' })).toThrow(/^--classes must be a number/);
    expect(() => configFromFlags({ variant: 'densenet121', input: '8x8' })).toThrow(/^An input shape must be HxWxC .*; got "8x8"\.$/);
  });
});

describe('formatSummary', () => {
  it('prints the DenseNet-121 volumes, stage by stage, and human totals', () => {
    const text = formatSummary(summarize(configFromFlags({ variant: 'densenet121' })));
    const volumes = [...text.matchAll(/^(?:Stem|Dense block \d \(\d+ layers\)|Transition \d|Global average pool|Classifier)\s+\S+\s+(\S+)/gm)].map((m) => m[1]);
    expect(volumes).toEqual(['56×56×64', '56×56×256', '28×28×128', '28×28×512', '14×14×256', '14×14×1024', '7×7×512', '7×7×1024', '1024', '1000']);
    expect(text).toContain('Parameters: 7.98 M trainable (7,978,856), plus 83,648 non-trainable BN statistics');
    expect(text).toContain('Multiply-adds: 2.83 G per image');
  });
});
