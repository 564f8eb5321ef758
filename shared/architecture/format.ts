/** Human formats for architecture figures, shared by the CLI and the renderer. */

/** 7978856 → `7.98 M`, 2834161664 → `2.83 G`, 19978 → `20.0 k`, 512 → `512`: three significant digits. */
export function formatCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) {
    // Compare after rounding, so 999,999 reads `1.00 M` rather than `1000 k`.
    if (Math.abs(n) >= scale * 0.9995) return `${(n / scale).toPrecision(3)} ${unit}`;
  }
  return String(n);
}

/** 7978856 → `7,978,856` (locale-independent, so CLI output and tests are stable). */
export function formatInteger(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** [56, 56, 64] → `56×56×64`; [1024] → `1024`. */
export function formatVolume(shape: readonly number[]): string {
  return shape.join('×');
}
