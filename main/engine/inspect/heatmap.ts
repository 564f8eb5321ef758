import sharp from 'sharp';

/**
 * Heat maps as PNG for the CLI: contribution matrices (the paper's Fig. 5) and gradient norms over
 * time. Cells are drawn as squares, coloured with viridis (perceptually uniform, readable in gray
 * and by colour-blind readers); cells without a value (null) are drawn in a neutral gray.
 * Written here because no installed library maps values to colours; sharp encodes the PNG.
 */

/** Viridis (matplotlib) at t = 0, 1/8, …, 1: #440154 #482878 #3e4989 #31688e #26828e #1f9e89 #35b779 #6ece58 #fde725. */
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
];
const EMPTY: [number, number, number] = [200, 200, 200];

/** The colour of t in [0, 1] (clamped), linearly interpolated between the stops. */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as [number, number, number];
}

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
