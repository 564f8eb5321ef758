import { describe, expect, it } from 'vitest';
import { VIRIDIS_STOPS, inkOn, viridis, viridisCss } from '../../../shared/colors';
import { duration, fixed, formatCount, percent } from '../../../shared/format';
import { heatMap } from '../../../main/engine/report/svg';

describe('one set of formats', () => {
  it('counts with three significant digits, small values included', () => {
    expect([7_978_856, 19_978, 999_999, 512, 12.345, 0.5, Number.NaN].map(formatCount)).toEqual(['7.98 M', '20.0 k', '1.00 M', '512', '12.3', '0.5', '–']);
  });

  it('percentages, statistics and times, with one mark for a missing value', () => {
    expect([percent(0.90712), percent(0.90712, 2), percent(null)]).toEqual(['90.7%', '90.71%', '–']);
    expect([fixed(0.05912), fixed(2e-5), fixed(undefined)]).toEqual(['0.0591', '2.00e-5', '–']);
    expect([duration(45), duration(200), duration(3900), duration(200, 'compact'), duration(3900, 'compact'), duration(-1)]).toEqual(['45 s', '3 min 20 s', '1 h 5 min', '3m20s', '1h05m', '–']);
  });
});

describe('one colour scale', () => {
  it('is viridis at its documented stops, interpolated between them', () => {
    expect(VIRIDIS_STOPS.map((_, i) => viridis(i / 8))).toEqual(VIRIDIS_STOPS.map((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16))));
    expect(viridis(-1)).toEqual(viridis(0));
    expect(viridisCss(0.25)).toBe('rgb(62, 73, 137)');
    expect([inkOn(viridis(0)), inkOn(viridis(1))]).toEqual(['#ffffff', '#111111']);
  });

  it('colours the HTML report\'s heat maps as everything else', () => {
    const svg = heatMap('m', ['a'], ['x', 'y'], [[0, 2]]);
    expect(svg).toContain(`fill="rgb(${viridis(0).join(',')})"`);
    expect(svg).toContain(`fill="rgb(${viridis(1).join(',')})"`);
  });
});
