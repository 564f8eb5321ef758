// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { connectivityGraph } from '../../shared/architecture/graph';
import type { DenseNetConfig } from '../../shared/config';
import { getPreset } from '../../shared/presets';
import ConnectivityGraph from '../../renderer/src/components/ConnectivityGraph.vue';
import { drawGraph, type Ctx } from '../../renderer/src/components/graph/draw';
import { edgeStrengths, hitTest, layoutGraph } from '../../renderer/src/components/graph/layout';
import { installFakeCanvas, nextFrame, recordingContext } from '../support/fake-canvas';

const tiny: DenseNetConfig = { variant: 'custom', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 3 };
/** ℓ(ℓ+1)/2 per block, with ℓ = n + 1 consumers (n layers and the transition or classifier). */
const expectedEdges = (blocks: number[]) => blocks.reduce((s, n) => s + ((n + 1) * (n + 2)) / 2, 0);
const theme = { bg: '#fff', fg: '#000', muted: '#777', node: '#eee', nodeStroke: '#999', transition: '#dfd', accent: '#36c', edge: '#89a' };

describe('graph layout', () => {
  it('places every node and every concatenation edge', () => {
    const layout = layoutGraph(connectivityGraph(tiny));
    // stem + 2 layers + transition + 3 layers + classifier
    expect(layout.nodes.map((n) => n.id)).toEqual(['conv1', 'conv2_block1', 'conv2_block2', 'pool2', 'conv3_block1', 'conv3_block2', 'conv3_block3', 'predictions']);
    expect(layout.edges).toHaveLength(expectedEdges(tiny.blocks)); // 6 + 10
    expect(layout.nodes.find((n) => n.id === 'conv2_block1')?.volume).toBe('8×8×4');
  });
  it('has 2,145 edges in DenseNet-264’s third block and stays within a dozen stroke calls to draw them', () => {
    const config = getPreset('densenet264');
    const layout = layoutGraph(connectivityGraph(config));
    expect(layout.edges.filter((e) => e.block === 3)).toHaveLength(2145);
    expect(layout.edges).toHaveLength(expectedEdges(config.blocks));
    const ctx = recordingContext();
    const drawn = drawGraph(ctx as unknown as Ctx, layout, { scale: 0.02, tx: 10, ty: 300 }, { width: 1200, height: 600, dpr: 1 }, theme, edgeStrengths(layout, null), null);
    expect(drawn).toBe(layout.edges.length); // all visible when fitted
    expect(ctx.count('quadraticCurveTo')).toBe(layout.edges.length);
    expect(ctx.count('stroke')).toBeLessThanOrEqual(14); // colour bins + chain, not one per edge
  });
  it('culls arcs that lie off screen', () => {
    const layout = layoutGraph(connectivityGraph(getPreset('densenet121')));
    const ctx = recordingContext();
    const drawn = drawGraph(ctx as unknown as Ctx, layout, { scale: 2, tx: 0, ty: 300 }, { width: 400, height: 600, dpr: 1 }, theme, edgeStrengths(layout, null), null);
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(layout.edges.length);
  });
  it('collapses a block into one box without its edges', () => {
    const layout = layoutGraph(connectivityGraph(tiny), new Set([2]));
    expect(layout.edges).toHaveLength(6);
    expect(layout.nodes.some((n) => n.id === 'block2' && n.kind === 'collapsed')).toBe(true);
    expect(layout.nodes.some((n) => n.id.startsWith('conv3_block'))).toBe(false);
  });
  it('hit-tests a point to the node under it and nothing between nodes', () => {
    const layout = layoutGraph(connectivityGraph(tiny));
    for (const n of layout.nodes) expect(hitTest(layout, n.x, 0)?.id).toBe(n.id);
    const a = layout.nodes[1];
    const b = layout.nodes[2];
    expect(hitTest(layout, (a.x + a.w / 2 + b.x - b.w / 2) / 2, 0)).toBeNull();
    expect(hitTest(layout, a.x, 200)).toBeNull();
  });
  it('colours edges by the contribution matrix, normalized per block', () => {
    const layout = layoutGraph(connectivityGraph({ ...tiny, blocks: [2] }));
    // targets: layer1, layer2, classifier; sources: input, layer1, layer2
    const values = [[2, null, null], [1, 4, null], [0.5, 1, 2]];
    const s = edgeStrengths(layout, [{ block: 1, sources: ['conv1', 'conv2_block1', 'conv2_block2'], targets: ['conv2_block1', 'conv2_block2', 'predictions'], values }]);
    const of = (source: string, target: string) => s[layout.edges.findIndex((e) => e.source === source && e.target === target)];
    expect(of('conv2_block1', 'conv2_block2')).toBe(1);
    expect(of('conv1', 'conv2_block1')).toBe(0.5);
    expect(of('conv1', 'predictions')).toBe(0.125);
  });
});

describe('ConnectivityGraph component', () => {
  it('draws every edge on its canvas and selects the node that was clicked', async () => {
    const ctx = installFakeCanvas();
    const wrapper = mount(ConnectivityGraph, { props: { config: tiny, contributions: null, selected: null }, attachTo: document.body });
    await nextFrame();
    const canvas = wrapper.find('canvas');
    expect(canvas.attributes('data-edge-count')).toBe(String(expectedEdges(tiny.blocks)));
    expect(ctx.count('quadraticCurveTo')).toBeGreaterThanOrEqual(expectedEdges(tiny.blocks));
    // Click where the node conv3_block2 is drawn (screen positions are published on the canvas).
    const nodes = JSON.parse(canvas.attributes('data-nodes') ?? '[]') as { id: string; x: number; y: number }[];
    const target = nodes.find((n) => n.id === 'conv3_block2')!;
    (wrapper.vm as unknown as { click(x: number, y: number): void }).click(target.x, target.y);
    expect(wrapper.emitted('select')?.[0]).toEqual(['conv3_block2']);
    // A click in empty space selects nothing.
    (wrapper.vm as unknown as { click(x: number, y: number): void }).click(target.x, target.y + 150);
    expect(wrapper.emitted('select')).toHaveLength(1);
    wrapper.unmount();
  });
  it('collapses and expands a block from its toolbar button', async () => {
    installFakeCanvas();
    const wrapper = mount(ConnectivityGraph, { props: { config: tiny, contributions: null, selected: null } });
    const button = wrapper.findAll('button').find((b) => b.text().includes('Block 2'))!;
    await button.trigger('click');
    expect(wrapper.find('canvas').attributes('data-edge-count')).toBe('6');
    await button.trigger('click');
    expect(wrapper.find('canvas').attributes('data-edge-count')).toBe('16');
    wrapper.unmount();
  });
});
