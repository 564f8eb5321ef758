import sharp from 'sharp';
import { viridis } from '../../../shared/colors';

/**
 * Heat maps as PNG for the CLI: contribution matrices (the paper's Fig. 5) and gradient norms over
 * time. Cells are drawn as squares, coloured with the workbench's one scale (shared/colors.ts,
 * viridis), as the app and the HTML report colour them; cells without a value (null) are drawn in
 * a neutral gray. sharp encodes the PNG.
 */

const EMPTY: [number, number, number] = [200, 200, 200];

export interface HeatmapOptions {
  /** Pixels per cell side. Default 24. */
  cell?: number;
  /** Gap between cells in pixels. Default 1. */
  gap?: number;
}

/**
 * Renders `rows` (row-major, nulls allowed) with the colour scale spanning the finite values'
 * min..max. Row 0 is drawn at the top.
 */
export function renderHeatmap(rows: readonly (readonly (number | null)[])[], options: HeatmapOptions = {}): Promise<Buffer> {
  const cell = options.cell ?? 24;
  const gap = options.gap ?? 1;
  const height = rows.length;
  const width = Math.max(0, ...rows.map((r) => r.length));
  if (height === 0 || width === 0) throw new RangeError(`A heat map needs at least one cell; got ${height} rows and ${width} columns.`);
  const values = rows.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const W = width * (cell + gap) + gap;
  const H = height * (cell + gap) + gap;
  const px = Buffer.alloc(W * H * 3, 255);
  rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) {
      const v = row[c] ?? null;
      const rgb = v === null || !Number.isFinite(v) ? EMPTY : viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5);
      for (let y = 0; y < cell; y++) {
        let o = ((gap + r * (cell + gap) + y) * W + gap + c * (cell + gap)) * 3;
        for (let x = 0; x < cell; x++, o += 3) {
          px[o] = rgb[0];
          px[o + 1] = rgb[1];
          px[o + 2] = rgb[2];
        }
      }
    }
  });
  return sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}
