import { describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../shared/config';
import {
  blockSchematic, connectivityGraph, denseLayerSchematic, layerTable, schematicFor, stageDerivations, stageNodeId, summarize, transitionSchematic,
} from '../../../shared/architecture';
import { getPreset } from '../../../shared/presets';

const custom = (over: Partial<DenseNetConfig>): DenseNetConfig => ({
  variant: 'custom', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 3, ...over,
});

const configs: [string, DenseNetConfig][] = [
  ['densenet121', getPreset('densenet121')],
  ['densenet-bc-40-12', getPreset('densenet-bc-40-12')],
  ['no bottleneck, dropout, θ = 1', custom({ bottleneck: false, dropRate: 0.2, compression: 1 })],
  ['non-square ImageNet stem, odd sizes, θ = 0.7', custom({ stem: 'imagenet', inputShape: [57, 41, 3], compression: 0.7, blocks: [3, 2, 2] })],
];

describe('volume derivations', () => {
  it('walks DenseNet-121 as the classic figures do: 64 → 64 + 32·6 = 256 → ⌊0.5·256⌋ = 128', () => {
    const d = stageDerivations(getPreset('densenet121'));
    expect(d.map((x) => x.channels)).toEqual([
      'k0 = 64', '64 + 32·6 = 256', '⌊0.5·256⌋ = 128', '128 + 32·12 = 512', '⌊0.5·512⌋ = 256', '256 + 32·24 = 1024', '⌊0.5·1024⌋ = 512', '512 + 32·16 = 1024', '1024',
    ]);
    expect(d.map((x) => x.spatial ?? '')).toEqual(['⌈⌈224/2⌉/2⌉ = 56', '', '⌊56/2⌋ = 28', '', '⌊28/2⌋ = 14', '', '⌊14/2⌋ = 7', '', '7×7 → 1×1']);
  });

  it('draws a dense layer two levels deep: BN-ReLU-1×1 conv to 4k, BN-ReLU-3×3 conv to k, concatenated', () => {
    const s = denseLayerSchematic(getPreset('densenet121'), 1, 3);
    expect(s.title).toBe('Dense block 1 · layer 3');
    expect(s.steps.map((x) => [x.layer, x.shape.join('×'), x.formula, x.value])).toEqual([
      ['conv2_block2_concat', '56×56×128', '64 + 32·(l − 1)', '64 + 32·2 = 128'],
      ['conv2_block3_1_conv', '56×56×128', '4·k', '4·32 = 128'],
      ['conv2_block3_2_conv', '56×56×32', 'k', 'k = 32'],
      ['conv2_block3_concat', '56×56×160', '64 + 32·l', '64 + 32·3 = 160'],
    ]);
    // Without B there is no 1×1 conv; with dropout the op says so.
    const plain = denseLayerSchematic(custom({ bottleneck: false, dropRate: 0.2 }), 2, 1);
    expect(plain.steps.map((x) => x.op)).toEqual(['input: all earlier maps', 'BN, ReLU, 3×3 conv (dropout 0.2 after it)', 'concatenate onto the input']);
    expect(plain.steps[0]).toMatchObject({ layer: 'pool2_pool', value: '8 + 4·0 = 8' });
  });

  it('draws a block and a transition with θ·m', () => {
    const b = blockSchematic(getPreset('densenet121'), 1);
    expect(b.steps[0]).toMatchObject({ op: 'input', layer: 'pool1', shape: [56, 56, 64], value: 'k0 = 64' });
    expect(b.steps.at(-1)).toMatchObject({ layer: 'conv2_block6_concat', shape: [56, 56, 256], formula: '64 + 32·l', value: '64 + 32·6 = 256' });
    expect(b.steps).toHaveLength(7);
    expect(blockSchematic(getPreset('densenet121'), 2).steps[0]).toMatchObject({ layer: 'pool2_pool', formula: '⌊θ·m⌋', value: '⌊0.5·256⌋ = 128' });
    const t = transitionSchematic(getPreset('densenet121'), 1);
    expect(t.steps.map((x) => [x.op, x.shape.join('×'), x.value, x.spatial ?? ''])).toEqual([
      ['input: dense block output', '56×56×256', 'm = 64 + 32·6 = 256', ''],
      ['BN, ReLU, 1×1 conv', '56×56×128', '⌊0.5·256⌋ = 128', ''],
      ['2×2 average pool, stride 2', '28×28×128', '128', '⌊56/2⌋ = 28'],
    ]);
    // Compression floors: 0.7·(8 + 4·3 = 20) = 14, and odd sides floor too.
    const odd = transitionSchematic(custom({ compression: 0.7, blocks: [3, 2], inputShape: [9, 9, 1] }), 1);
    expect(odd.steps.at(-1)).toMatchObject({ shape: [4, 4, 14], spatial: '⌊9/2⌋ = 4' });
    expect(odd.steps[1].value).toBe('⌊0.7·20⌋ = 14');
  });

  it.each(configs)('matches the layer table at every step: %s', (_, config) => {
    const table = new Map(layerTable(config).map((l) => [l.name, l.outputShape]));
    const graph = connectivityGraph(config);
    const ids = [...graph.nodes.map((n) => n.id), ...graph.blocks.map((b) => `block${b.index}`)];
    for (const id of ids) {
      const s = schematicFor(config, id);
      expect(s, id).not.toBeNull();
      for (const step of s!.steps) expect(step.shape, `${id}: ${step.layer}`).toEqual(table.get(step.layer));
      // Each value ends in the number it derives: the volume's channel count.
      for (const step of s!.steps.slice(1)) expect(step.value, `${id}: ${step.layer}`).toMatch(new RegExp(`(^|= |\\()${step.shape.at(-1)}\\b`));
    }
    // One derivation per summary stage, ending in that stage's channels.
    const summary = summarize(config);
    const derived = stageDerivations(config);
    expect(derived).toHaveLength(summary.stages.length);
    summary.stages.forEach((st, i) => {
      expect(derived[i].channels.endsWith(String(st.shape.at(-1))), st.label).toBe(true);
      expect(schematicFor(config, stageNodeId(st))?.steps.at(-1)?.shape.at(-1), st.label).toBe(st.kind === 'pool' ? config.classes : st.shape.at(-1));
    });
  });

  it('answers null for ids the config does not have, and range errors name what exists', () => {
    const c = custom({});
    expect(schematicFor(c, 'conv2_block3')).toBeNull();
    expect(schematicFor(c, 'pool3')).toBeNull();
    expect(schematicFor(c, 'block3')).toBeNull();
    expect(schematicFor(c, 'nonsense')).toBeNull();
    expect(() => denseLayerSchematic(c, 1, 3)).toThrow('Dense block 1 has layers 1 to 2; got layer 3.');
    expect(() => blockSchematic(c, 0)).toThrow('This DenseNet has dense blocks 1 to 2; got block 0.');
    expect(() => transitionSchematic(c, 2)).toThrow('The last dense block (2) is followed by the classifier, not a transition.');
  });
});
