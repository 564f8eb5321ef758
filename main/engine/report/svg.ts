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

export function lineChart(title: string, xLabel: string, series: Series[], options: { width?: number; height?: number } = {}): string {
  const width = options.width ?? 520;
  const height = options.height ?? 260;
  const m = { left: 52, right: 12, top: 28, bottom: 40 };
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
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map((t) => {
      const y = y0 + t * (y1 - y0);
      const x = x0 + t * (x1 - x0);
      return `<line x1="${m.left}" x2="${width - m.right}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" class="grid"/>` +
        `<text x="${m.left - 4}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${fmt(y)}</text>` +
        `<text x="${sx(x).toFixed(1)}" y="${height - m.bottom + 14}" text-anchor="middle">${fmt(x)}</text>`;
    })
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
    .map((s, i) => `<rect x="${m.left + i * 130}" y="8" width="10" height="10" fill="${s.color}"/><text x="${m.left + 14 + i * 130}" y="17">${escapeXml(s.label)}</text>`)
    .join('');
  return `<svg class="chart" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `<title>${escapeXml(title)}</title>${grid}${lines}${legend}` +
    `<text x="${(width + m.left) / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(xLabel)}</text></svg>`;
}

/** A matrix as coloured cells (white → blue by value / max); null cells are left grey. */
export function heatMap(
  title: string,
  rows: string[],
  cols: string[],
  values: (number | null)[][],
  options: { cell?: number; showValues?: boolean; rowAxis?: string; colAxis?: string } = {},
): string {
  const cell = options.cell ?? 22;
  const labelW = Math.min(140, 8 + 7 * Math.max(0, ...rows.map((r) => r.length)));
  const labelH = Math.min(140, 8 + 7 * Math.max(0, ...cols.map((c) => c.length)));
  const width = labelW + cols.length * cell + 8;
  const height = labelH + rows.length * cell + 8;
  const finite = values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const max = finite.length ? Math.max(...finite.map(Math.abs)) || 1 : 1;
  const cells = values
    .map((row, r) =>
      row
        .map((v, c) => {
          const x = labelW + c * cell;
          const y = labelH + r * cell;
          if (v === null || !Number.isFinite(v)) return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#eee"/>`;
          const t = Math.abs(v) / max;
          const fill = `rgb(${Math.round(255 - 222 * t)},${Math.round(255 - 153 * t)},${Math.round(255 - 75 * t)})`;
          const text = options.showValues ? `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${t > 0.6 ? '#fff' : '#222'}">${fmt(v)}</text>` : '';
          return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeXml(`${rows[r]} → ${cols[c]}: ${v}`)}</title></rect>${text}`;
        })
        .join(''),
    )
    .join('');
  const rowLabels = rows.map((r, i) => `<text x="${labelW - 4}" y="${labelH + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(r)}</text>`).join('');
  const colLabels = cols
    .map((c, i) => `<text transform="translate(${labelW + i * cell + cell / 2 + 4},${labelH - 4}) rotate(-60)">${escapeXml(c)}</text>`)
    .join('');
  return `<svg class="heat" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title>${escapeXml(title)}</title>${cells}${rowLabels}${colLabels}</svg>`;
}
