// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { FolderListing, WorkbenchApi } from '../../shared/api';
import { summarize } from '../../shared/architecture';
import { getPreset } from '../../shared/presets';
import { setApi } from '../../renderer/src/api/current';
import ArchitectureFigure from '../../renderer/src/components/ArchitectureFigure.vue';
import ConfusionMatrix from '../../renderer/src/components/ConfusionMatrix.vue';
import ConnectivityGraph from '../../renderer/src/components/ConnectivityGraph.vue';
import FolderBrowser from '../../renderer/src/components/FolderBrowser.vue';
import { colorScale, luminance, textOn } from '../../renderer/src/components/colors';
import { installFakeCanvas, nextFrame } from '../support/fake-canvas';

const contrast = (a: string, b: string) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};

describe('volume figure', () => {
  it('gives every DenseNet-121 stage a slot as wide as its labels, so none run together, and selects on click', async () => {
    const wrapper = mount(ArchitectureFigure, { props: { summary: summarize(getPreset('densenet121')) } });
    const boxes = (wrapper.vm as unknown as { boxes: { cx: number; text: string; name: string }[] }).boxes;
    // 10 px labels at ~6 px a character (DejaVu Sans digits are 0.64 em: 6.4 px; allow for it).
    const half = (b: { text: string; name: string }) => (Math.max(b.text.length, b.name.length) * 6.4) / 2;
    for (let i = 1; i < boxes.length; i++) {
      expect(boxes[i].cx - half(boxes[i]) - (boxes[i - 1].cx + half(boxes[i - 1])), `${boxes[i - 1].text} | ${boxes[i].text}`).toBeGreaterThan(0);
    }
    expect(wrapper.findAll('.stage-volume').map((t) => t.text())).toContain('14×14×1024');
    await wrapper.find('[data-stage="pool3"]').trigger('click');
    expect(wrapper.emitted('select')?.[0]).toEqual(['pool3']);
    await wrapper.find('[data-stage="block2"]').trigger('keydown', { key: 'Enter' });
    expect(wrapper.emitted('select')?.[1]).toEqual(['block2']);
  });
});

describe('connectivity graph', () => {
  it('selects a whole block from its label or its collapsed box, and explains its edge colours', async () => {
    installFakeCanvas();
    const config = getPreset('demo-bc-tiny');
    const wrapper = mount(ConnectivityGraph, { props: { config, contributions: null, selected: null }, attachTo: document.body });
    await nextFrame();
    const canvas = wrapper.find('canvas');
    const blocks = JSON.parse(canvas.attributes('data-blocks') ?? '[]') as { id: string; x: number; y: number }[];
    expect(blocks.map((b) => b.id)).toEqual(['block1', 'block2', 'block3']);
    const vm = wrapper.vm as unknown as { click(x: number, y: number): void; toggleBlock(b: number): void };
    vm.click(blocks[1].x, blocks[1].y);
    expect(wrapper.emitted('select')?.[0]).toEqual(['block2']);
    expect(wrapper.find('[data-test=graph-legend]').text()).toContain('Concatenation edge');

    vm.toggleBlock(3);
    await nextFrame();
    const nodes = JSON.parse(canvas.attributes('data-nodes') ?? '[]') as { id: string; x: number; y: number }[];
    const collapsed = nodes.find((n) => n.id === 'block3')!;
    vm.click(collapsed.x, collapsed.y);
    expect(wrapper.emitted('select')?.[1]).toEqual(['block3']);

    const matrix = { block: 1, sources: ['conv1', 'conv2_block1', 'conv2_block2'], targets: ['conv2_block1', 'conv2_block2', 'pool2'], values: [[1, null, null], [1, 1, null], [1, 1, 1]] };
    await wrapper.setProps({ contributions: [matrix], selected: 'conv2_block1' });
    const legend = wrapper.find('[data-test=graph-legend]').text();
    expect(legend).toContain('Edge colour and width: contribution');
    expect(legend).toMatch(/weak.*strong/);
    expect(legend).toContain('edges of the selected layer');
    wrapper.unmount();
  });
});

describe('confusion matrix', () => {
  it('writes white on dark cells and near-black on light ones, readable at every shade', () => {
    for (let t = 0; t <= 1.0001; t += 0.05) {
      const bg = colorScale(t);
      expect(contrast(bg, textOn(bg)), `t = ${t.toFixed(2)}`).toBeGreaterThanOrEqual(4.5);
    }
    const classes = ['T-shirt/top', 'Trouser', 'Pullover'];
    const wrapper = mount(ConfusionMatrix, { props: { classes, confusion: [[9, 1, 0], [0, 10, 0], [5, 0, 5]] } });
    const cells = wrapper.findAll('td');
    const diag = cells[0].element as HTMLElement; // 90% of its row: light yellow-green
    const low = cells[1].element as HTMLElement; // 10%: dark purple
    expect(diag.style.color).toMatch(/#111111|rgb\(17, 17, 17\)/);
    expect(low.style.color).toMatch(/#ffffff|rgb\(255, 255, 255\)/);
    // Long names stand upright instead of being cut; the corner header is two short lines.
    expect(wrapper.find('table').classes()).toContain('upright');
    expect(wrapper.findAll('th.col-head').map((h) => h.attributes('title'))).toEqual(classes);
    expect(wrapper.find('th.corner').findAll('span').map((s) => s.text())).toEqual(['actual ↓', 'predicted →']);
  });
});

describe('folder browser', () => {
  it('draws folder icons as inline SVG, with no emoji to fall back to boxes', async () => {
    setActivePinia(createPinia());
    const listing: FolderListing = { path: '/data', parent: '/', truncated: false, entries: [{ name: 'cats', path: '/data/cats', kind: 'dir' }, { name: 'a.png', path: '/data/a.png', kind: 'file' }] };
    setApi({ listFolder: async () => listing } as unknown as WorkbenchApi);
    const wrapper = mount(FolderBrowser);
    await flushPromises();
    expect(wrapper.find('.fb-entry svg[data-icon=folder]').exists()).toBe(true);
    expect(wrapper.find('.fb-up svg[data-icon=folder-up]').exists()).toBe(true);
    expect(wrapper.text()).not.toMatch(/\p{Extended_Pictographic}/u);
    wrapper.unmount();
  });
});
