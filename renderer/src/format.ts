/** Human number formats for the UI: 7.98 M params, 2.83 G MACs, 1.2 k img/s, 3 min 20 s. */
export function human(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) {
    if (abs >= scale) return `${trim((n / scale).toPrecision(digits))} ${unit}`;
  }
  return abs >= 100 || Number.isInteger(n) ? String(Math.round(n)) : trim(n.toPrecision(digits));
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function fixed(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const abs = Math.abs(x);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? x.toExponential(2) : x.toFixed(digits);
}

export function volume(shape: readonly number[]): string {
  return shape.join('×');
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
