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
