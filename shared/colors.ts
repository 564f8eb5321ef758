/**
 * The one colour scale of the workbench: viridis (matplotlib's, sampled at t = 0, 1/8, …, 1 and
 * interpolated linearly), perceptually uniform and readable in gray and by colour-blind readers.
 * The heat map PNGs of the CLI, the HTML report's SVG heat maps and the renderer's canvases all
 * colour values through here, so a value has the same colour everywhere. Written here because the
 * table is nine colours and no library we ship has one.
 */
export type Rgb = [number, number, number];

export const VIRIDIS_STOPS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#fde725'] as const;

const STOPS: Rgb[] = VIRIDIS_STOPS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb);

/** The colour of t in [0, 1] (clamped; NaN reads as 0). */
export function viridis(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as Rgb;
}

/** `viridis(t)` as a CSS colour, `rgb(r, g, b)`. */
export function viridisCss(t: number): string {
  const [r, g, b] = viridis(t);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Relative luminance (WCAG 2) of a colour, in [0, 1]. */
export function luminanceOf([r, g, b]: Rgb): number {
  const lin = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Text colour readable on a cell of colour `rgb`: white or near-black, whichever contrasts more. */
export function inkOn(rgb: Rgb): '#ffffff' | '#111111' {
  const l = luminanceOf(rgb);
  // Contrast ratios against white (L = 1) and near-black #111 (L ≈ 0.0056).
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.0556 ? '#ffffff' : '#111111';
}
