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
