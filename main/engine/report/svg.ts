import { inkOn, viridis } from '../../../shared/colors';
/**
 * Inline SVG for the HTML report: line charts and heat maps as plain markup, so the report needs no
 * script or network to show them (a chart library would need either).
 */
export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

/**
 * About `count` evenly spaced "nice" tick values (1, 2 or 5 × 10ⁿ apart) covering [min, max], as
 * chart libraries choose them; `integer` keeps the spacing whole (steps and epochs are never 45.75).
 * Written here because the report is plain SVG with no chart library.
 */
export function niceTicks(min: number, max: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  const span = max - min || Math.abs(min) || 1;
  const raw = span / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  // The 1-2-5 step nearest the raw one (in ratio), so there are about `count` ticks, never one or two.
  let step = [1, 2, 5, 10].map((f) => f * power).reduce((best, v) => (Math.abs(Math.log(v / raw)) < Math.abs(Math.log(best / raw)) ? v : best));
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** `integerX`: the x axis counts (steps, epochs): whole-number ticks only. */
export function lineChart(title: string, xLabel: string, series: Series[], options: { width?: number; height?: number; integerX?: boolean } = {}): string {
  const width = options.width ?? 520;
  const height = options.height ?? 260;
  const m = { left: 52, right: 12, top: 44, bottom: 40 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<svg class="chart" role="img" width="${width}" height="${height}"><text x="10" y="20">${escapeXml(title)}: no data</text></svg>`;
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) {
    const pad = Math.abs(y0) * 0.1 || 1; // a constant series (e.g. the learning rate) sits mid-chart
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((y - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const yTicks = niceTicks(y0, y1, 5);
  const xTicks = niceTicks(x0, x1, 6, options.integerX ?? false);
  // One number of decimals per axis, from its tick spacing: 1.8, 2.0, 2.2 rather than 1.80, 2, 2.20.
  const decimals = (ticks: number[]) => (ticks.length > 1 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(ticks[1] - ticks[0]) + 1e-9))) : 2);
  const [yd, xd] = [decimals(yTicks), decimals(xTicks)];
  const grid = yTicks
    .map((y) => `<line x1="${m.left}" x2="${width - m.right}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" class="grid"/>` +
      `<text x="${m.left - 4}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${y.toFixed(yd)}</text>`)
    .join('') + xTicks
    .map((x) => `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${height - m.bottom}" y2="${height - m.bottom + 4}" class="grid"/>` +
      `<text x="${sx(x).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${x.toFixed(xd)}</text>`)
    .join('');
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const d = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      const dots = s.points.length <= 60 ? s.points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${s.color}"/>`).join('') : '';
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeXml(s.label)}</title></path>${dots}`;
    })
    .join('');
  const legend = series
    .map((s, i) => `<rect x="${m.left + i * 130}" y="24" width="10" height="10" fill="${s.color}"/><text x="${m.left + 14 + i * 130}" y="33">${escapeXml(s.label)}</text>`)
    .join('');
  return `<svg class="chart" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `<title>${escapeXml(title)}</title><text class="chart-title" x="${m.left}" y="14">${escapeXml(title)}</text>${grid}${lines}${legend}` +
    `<text x="${(width + m.left) / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(xLabel)}</text></svg>`;
}

/** Width of a label in the report's 10 px font (about 0.62 em a character). */
const textWidth = (text: string) => text.length * 6.2;

/**
 * A matrix as coloured cells (shared/colors.ts's viridis by |value| / max, the colours of the
 * app and the CLI's PNGs); null cells are left grey. Cells are
 * sized so the whole map is about `size` px across (at least 10 px, at most 40), column labels
 * stand upright and every label gets the room it needs, so none is clipped; optional axis titles
 * name the rows and columns.
 */
export function heatMap(
  title: string,
  rows: string[],
  cols: string[],
  values: (number | null)[][],
  options: { cell?: number; size?: number; showValues?: boolean; rowAxis?: string; colAxis?: string } = {},
): string {
  const cell = options.cell ?? Math.max(10, Math.min(40, Math.floor((options.size ?? 300) / Math.max(1, rows.length, cols.length))));
  const axisPad = 16;
  const labelW = 8 + Math.max(0, ...rows.map((r) => textWidth(r))) + (options.rowAxis ? axisPad : 0);
  const labelH = 8 + Math.max(0, ...cols.map((c) => textWidth(c))) + (options.colAxis ? axisPad : 0);
  const width = Math.ceil(labelW + cols.length * cell + 8);
  const height = Math.ceil(labelH + rows.length * cell + 8);
  const finite = values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const max = finite.length ? Math.max(...finite.map(Math.abs)) || 1 : 1;
  const cells = values
    .map((row, r) =>
      row
        .map((v, c) => {
          const x = labelW + c * cell;
          const y = labelH + r * cell;
          if (v === null || !Number.isFinite(v)) return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#eee"/>`;
          const rgb = viridis(Math.abs(v) / max);
          const fill = `rgb(${rgb.join(',')})`;
          const text = options.showValues && cell >= 18 ? `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" style="fill:${inkOn(rgb)}">${fmt(v)}</text>` : '';
          return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff" stroke-width="${cell >= 14 ? 1 : 0}"><title>${escapeXml(`${rows[r]} → ${cols[c]}: ${v}`)}</title></rect>${text}`;
        })
        .join(''),
    )
    .join('');
  const rowLabels = rows.map((r, i) => `<text x="${labelW - 4}" y="${labelH + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(r)}</text>`).join('');
  const colLabels = cols
    .map((c, i) => `<text transform="translate(${labelW + i * cell + cell / 2 + 4},${labelH - 4}) rotate(-90)">${escapeXml(c)}</text>`)
    .join('');
  const axes =
    (options.rowAxis ? `<text class="axis" transform="translate(12,${labelH + (rows.length * cell) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.rowAxis)}</text>` : '') +
    (options.colAxis ? `<text class="axis" x="${labelW + (cols.length * cell) / 2}" y="12" text-anchor="middle">${escapeXml(options.colAxis)}</text>` : '');
  return `<svg class="heat" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title>${escapeXml(title)}</title>${axes}${cells}${rowLabels}${colLabels}</svg>`;
}
