/**
 * The one set of number formats, shared by the CLI, the HTML report and the renderer, so a value
 * reads the same wherever it is shown.
 */

/** What a missing or non-finite value shows as. */
export const MISSING = '–';

/** 7978856 → `7.98 M`, 2834161664 → `2.83 G`, 19978 → `20.0 k`, 512 → `512`, 12.345 → `12.3`: three significant digits. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return MISSING;
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) {
    // Compare after rounding, so 999,999 reads `1.00 M` rather than `1000 k`.
    if (Math.abs(n) >= scale * 0.9995) return `${(n / scale).toPrecision(3)} ${unit}`;
  }
  if (Number.isInteger(n) || Math.abs(n) >= 100) return String(Math.round(n));
  return String(Number(n.toPrecision(3)));
}

/** 7978856 → `7,978,856` (locale-independent, so CLI output and tests are stable). */
export function formatInteger(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** [56, 56, 64] → `56×56×64`; [1024] → `1024`. */
export function formatVolume(shape: readonly number[]): string {
  return shape.join('×');
}

/** 0.9071 → `90.7%` (`digits` after the point). */
export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? MISSING : `${(x * 100).toFixed(digits)}%`;
}

/** A loss or a statistic: `digits` after the point, in exponent form when very small or large. */
export function fixed(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  const abs = Math.abs(x);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? x.toExponential(2) : x.toFixed(digits);
}

/**
 * A time span: `words` (`45 s`, `3 min 20 s`, `1 h 5 min`) for screens and reports, `compact`
 * (`3m20s`, `1h05m`) for a progress bar's fixed-width fields.
 */
export function duration(seconds: number, style: 'words' | 'compact' = 'words'): string {
  if (!Number.isFinite(seconds) || seconds < 0) return MISSING;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (style === 'compact') return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 60) return `${s} s`;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/**
 * A measured value to `digits` significant digits, without binary floating-point noise:
 * 0.010000000000000002 → "0.01", 1e-4 → "0.0001", 2.5e-7 → "2.5e-7". Stored values keep full
 * precision; only what is printed is rounded.
 */
export function formatSignificant(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

/**
 * A learning rate as people write it, so the multistep schedule's 0.1 ÷ 10 prints as 0.01. The
 * CLI, the UI and the report all print learning rates through here.
 */
export function formatLr(lr: number): string {
  return formatSignificant(lr, 4);
}
