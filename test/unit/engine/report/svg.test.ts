import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../../main/engine/report/html';
import { heatMap, lineChart, niceTicks } from '../../../../main/engine/report/svg';
import type { RunConfigFile } from '../../../../main/engine/runs/run-store';
import { getPreset } from '../../../../shared/presets';

describe('report charts', () => {
  it('put ticks at nice values, whole numbers on a step axis', () => {
    expect(niceTicks(0, 183, 6, true)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(1, 7, 6, true)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(niceTicks(1, 3, 6, true)).toEqual([1, 2, 3]); // never 1.5 or 2.25
    expect(niceTicks(0.0591, 0.97, 5)).toEqual([0.2, 0.4, 0.6, 0.8]);
    const svg = lineChart('Loss', 'step', [{ label: 'train', color: '#000', points: [[1, 0.5], [2, 0.4], [3, 0.3], [183, 0.1]] }], { integerX: true });
    const xLabels = [...svg.matchAll(/<text x="[\d.]+" y="\d+" text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1]).filter((t) => t !== 'step');
    expect(xLabels.length).toBeGreaterThanOrEqual(3);
    for (const t of xLabels) expect(t, `tick ${t}`).toMatch(/^\d+$/);
  });

  it('size heat maps to be read and give every label its room', () => {
    const sources = ['conv1', 'conv2_block1', 'conv2_block2'];
    const targets = ['conv2_block1', 'conv2_block2', 'pool2'];
    const svg = heatMap('Dense block 1', sources, targets, [[1, 0.5, 0.2], [null, 1, 0.4], [null, null, 1]], { size: 280, rowAxis: 'source layer (s)', colAxis: 'target layer (ℓ)' });
    const [, w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!.map(Number);
    const cell = Number(/<rect x="[\d.]+" y="[\d.]+" width="(\d+)"/.exec(svg)![1]);
    expect(cell).toBeGreaterThanOrEqual(40); // 3 rows of a 280 px map, capped at 40: not 18 px specks
    // The longest label (12 characters at ~6.2 px) fits left of the cells and above them, upright.
    const cellsLeft = Number(/<rect x="([\d.]+)"/.exec(svg)![1]);
    expect(cellsLeft).toBeGreaterThanOrEqual(12 * 6.2);
    expect(svg).toContain('rotate(-90)');
    expect(w).toBeGreaterThanOrEqual(cellsLeft + 3 * cell);
    expect(h).toBeGreaterThanOrEqual(12 * 6.2 + 3 * cell);
    expect(svg).toContain('source layer (s)');
    expect(svg).toContain('target layer (ℓ)');
  });

  it('write cell values in the colour that reads on the cell', () => {
    const svg = heatMap('Confusion', ['a', 'b'], ['a', 'b'], [[9, 1], [0, 10]], { showValues: true });
    const inks = [...svg.matchAll(/style="fill:(#[0-9a-f]+)">(\d+)</g)].map((m) => [m[2], m[1]]);
    // The one scale (viridis) is dark at 0 and light at the top: white ink low, near-black high.
    expect(inks).toEqual([['9', '#111111'], ['1', '#ffffff'], ['0', '#ffffff'], ['10', '#111111']]);
  });

  it('carry the architecture table’s derivations, as `summary` prints them', () => {
    const config = { id: 'r', name: 'r', created: '2024-01-01', model: getPreset('densenet121'), settings: {}, dataset: { name: 'x' } } as unknown as RunConfigFile;
    const page = renderReport({ config, status: null, summary: null, events: [], skippedLines: 0, generated: new Date(0) });
    expect(page).toContain('<td>Dense block 1</td><td>conv2_block6_concat</td><td>56×56×256</td><td>64 + 32·6 = 256</td><td></td>');
    expect(page).toContain('<td>Transition 1</td><td>pool2_pool</td><td>28×28×128</td><td>⌊0.5·256⌋ = 128</td><td>⌊56/2⌋ = 28</td>');
  });
});
