import { describe, expect, it } from 'vitest';
import { configFromFlags, formatSummary } from '../../../main/cli/commands/summary';
import { summarize } from '../../../shared/architecture';

describe('summary table derivations', () => {
  it('carries how each stage’s channels and size follow from the config', () => {
    const text = formatSummary(summarize(configFromFlags({ variant: 'densenet121' })));
    expect(text).toMatch(/^Stage\s+Layer\s+Output\s+Params\s+Mult-adds\s+Channels\s+H×W$/m);
    expect(text).toMatch(/^Stem\s+pool1\s+56×56×64\s+\S+ k\s+\S+ M\s+k0 = 64\s+⌈⌈224\/2⌉\/2⌉ = 56$/m);
    expect(text).toMatch(/^Dense block 1 \(6 layers\)\s+conv2_block6_concat\s+56×56×256\s+.*\s64 \+ 32·6 = 256$/m);
    expect(text).toMatch(/^Transition 1\s+pool2_pool\s+28×28×128\s+.*\s⌊0\.5·256⌋ = 128\s+⌊56\/2⌋ = 28$/m);
    expect(text).toMatch(/^Classifier\s+predictions\s+1000\s+.*\sclasses = 1000$/m);
    expect(text).toContain('dense layer l of a block adds k = 32 (k0 + k·l); a transition keeps ⌊θ·m⌋ of m, θ = 0.5');
  });
});
