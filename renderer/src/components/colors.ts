/**
 * A perceptually ordered colour scale (viridis, sampled at 9 stops and interpolated) for heat maps
 * and edge strengths: readable on dark and light backgrounds and for common colour blindness.
 */
const STOPS: [number, number, number][] = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
];

/** Colour of t ∈ [0, 1] (clamped), as `rgb(r, g, b)`. */
export function colorScale(t: number): string {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(c));
  const f = c - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  const mix = (k: number) => Math.round(a[k] + (b[k] - a[k]) * f);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** Relative luminance (WCAG 2) of an `rgb(r, g, b)` or `#rrggbb` colour, in [0, 1]. */
export function luminance(color: string): number {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color) ?? /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return 0.5;
  const channel = (s: string) => {
    const v = (color.startsWith('#') ? parseInt(s, 16) : Number(s)) / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(m[1]) + 0.7152 * channel(m[2]) + 0.0722 * channel(m[3]);
}

/** Text colour readable on `background`: near-black on light cells, white on dark ones (whichever contrasts more). */
export function textOn(background: string): string {
  const l = luminance(background);
  // Contrast ratios against white (L = 1) and near-black #111 (L ≈ 0.0056).
  return (1.05) / (l + 0.05) >= (l + 0.05) / 0.0556 ? '#ffffff' : '#111111';
}
