import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { configFromFlags, formatSummary } from '../../main/cli/commands/summary';
import { formatCount, formatInteger, summarize } from '../../shared/architecture';

/** Runs the real bin, as a user would. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/densenet-workbench.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

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

describe('densenet-workbench variants / summary (real bin)', () => {
  it('lists the variants as a table and as JSON', () => {
    const table = cli('variants');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^densenet121\s+DenseNet-121\s+6-12-24-16\s+32\s+224×224×3\s+7\.98 M\s+2\.83 G$/m);
    expect(table.stdout).toMatch(/^densenet-bc-100-12\s+DenseNet-BC \(L=100, k=12\)\s+16-16-16\s+12\s+32×32×3\s+769 k\s+288 M$/m);
  });

  it('prints JSON with the summary and the graph', () => {
    const json = cli('summary', '--variant', 'demo-bc-tiny', '--input', '32x32x3', '--classes', '4', '--json');
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout);
    expect(data.config).toMatchObject({ variant: 'demo-bc-tiny', inputShape: [32, 32, 3], classes: 4 });
    expect(data.stages.at(-1).shape).toEqual([32]);
    expect(data.totals.trainableParams).toBe(summarize(configFromFlags({ variant: 'demo-bc-tiny', input: '32x32x3', classes: '4' })).totals.trainableParams);
    expect(data.graph.edges).toHaveLength(3 * 6); // three blocks of 2 layers: ℓ = 3 consumers, 3·4/2 edges each
  });

  it.each([
    [['summary', '--variant', 'densenet122'], /^densenet-workbench: Unknown variant "densenet122"; valid variants are densenet121, .*demo-bc-small\.\n$/],
    [['summary', '--variant', 'densenet121', '--input', '16x16x3', '--growth-rate', '0'], /^densenet-workbench: Invalid DenseNet config \(3 problems\): Growth rate k must be a whole number ≥ 1; got 0\. Input height 16 is too small .* it must be at least 29\.\n$/],
  ])('exits 2 with one line and no stack trace: %j', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
