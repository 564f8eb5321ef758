// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { ContributionMatrix } from '../../shared/protocol';
import HeatMap from '../../renderer/src/components/HeatMap.vue';
import { colorScale } from '../../renderer/src/components/colors';
import { cellAt, heatCells } from '../../renderer/src/components/heatmap';
import { installFakeCanvas } from '../support/fake-canvas';

// Fig. 5 layout: values[target][source]; a target reads only the sources before it.
const matrix: ContributionMatrix = {
  block: 2,
  sources: ['pool2', 'conv3_block1', 'conv3_block2'],
  targets: ['conv3_block1', 'conv3_block2', 'pool3'],
  values: [
    [0.2, null, null],
    [0.1, 0.4, null],
    [0.05, 0.3, 0.8],
  ],
};

describe('heat map data', () => {
  it('keeps one cell per connection, scaled to the block maximum', () => {
    const { cells, max, rows, cols } = heatCells(matrix);
    expect(cells).toHaveLength(6); // ℓ(ℓ+1)/2 with ℓ = 3
    expect(max).toBe(0.8);
    expect([rows, cols]).toEqual([3, 3]);
    expect(cells.find((c) => c.col === 2 && c.row === 2)?.t).toBe(1);
    expect(cells.find((c) => c.col === 0 && c.row === 0)?.t).toBeCloseTo(0.25);
    expect(cells.some((c) => c.col === 0 && c.row === 1)).toBe(false); // a layer does not feed itself
  });
  it('maps a point to its cell, and knows the blank cells', () => {
    expect(cellAt(matrix, 10, 25, 5)).toEqual({ col: 2, row: 0, value: 0.05 });
    expect(cellAt(matrix, 10, 5, 25)).toEqual({ col: 0, row: 2, value: null });
    expect(cellAt(matrix, 10, 35, 5)).toBeNull();
  });
  it('colours from dark (low) to bright (high) and clamps', () => {
    expect(colorScale(0)).toBe('rgb(68, 1, 84)');
    expect(colorScale(1)).toBe('rgb(253, 231, 37)');
    expect(colorScale(7)).toBe(colorScale(1));
    expect(colorScale(Number.NaN)).toBe(colorScale(0));
  });
});

describe('HeatMap component', () => {
  it('fills one rectangle per connection and reads out the hovered cell', async () => {
    const ctx = installFakeCanvas();
    const wrapper = mount(HeatMap, { props: { matrix, maxSize: 60 } });
    expect(ctx.count('fillRect')).toBe(6);
    const canvas = wrapper.find('canvas');
    expect(canvas.attributes('data-cells')).toBe('6');
    expect(canvas.attributes('aria-label')).toMatch(/dense block 2: 3 sources by 3 targets/);
    const cell = (wrapper.vm as unknown as { cell: number }).cell;
    await canvas.trigger('mousemove', { clientX: cell * 1.5, clientY: cell * 1.5 });
    expect(wrapper.find('.heatmap-readout').text()).toBe('conv3_block1 → conv3_block2: 0.4000');
    await canvas.trigger('mousemove', { clientX: cell * 0.5, clientY: cell * 2.5 });
    expect(wrapper.find('.heatmap-readout').text()).toMatch(/no connection/);
    wrapper.unmount();
  });
});
