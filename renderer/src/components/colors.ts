import { inkOn, luminanceOf, viridis, viridisCss, type Rgb } from '../../../shared/colors';

/**
 * The canvases' colours: the workbench's one scale (shared/colors.ts, viridis), for heat maps,
 * the confusion matrix and edge strengths, as the CLI's PNGs and the HTML report colour them.
 */

/** Colour of t ∈ [0, 1] (clamped), as `rgb(r, g, b)`. */
export function colorScale(t: number): string {
  return viridisCss(t);
}

function parse(color: string): Rgb | null {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  return h ? [parseInt(h[1], 16), parseInt(h[2], 16), parseInt(h[3], 16)] : null;
}

/** Relative luminance (WCAG 2) of an `rgb(r, g, b)` or `#rrggbb` colour, in [0, 1]. */
export function luminance(color: string): number {
  const rgb = parse(color);
  return rgb ? luminanceOf(rgb) : 0.5;
}

/** Text colour readable on `background`: near-black on light cells, white on dark ones (whichever contrasts more). */
export function textOn(background: string): string {
  return inkOn(parse(background) ?? viridis(0.5));
}
