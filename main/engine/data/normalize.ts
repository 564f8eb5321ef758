import type { DataSplit } from './types';

/**
 * Per-channel mean/std normalization (the paper normalizes CIFAR and SVHN by channel means and
 * standard deviations, §4.1). Statistics come from the training split only, are stored with the
 * run, and are applied to every batch of every split.
 */

export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * Below this std a channel is treated as constant: dividing by ~0 would turn it into noise or
 * infinities, so such a channel is only centred.
 */
export const MIN_STD = 1e-6;

export interface ComputeNormalizationOptions {
  /** Channel count; defaults to the split's sampleShape[2]. */
  channels?: number;
  /** Samples read at a time; bounds memory for streamed datasets. Default 256. */
  chunk?: number;
  signal?: AbortSignal;
}

/** Mean and population standard deviation per channel over every pixel of every sample. */
export async function computeNormalization(split: DataSplit, opts: ComputeNormalizationOptions = {}): Promise<Normalization> {
  const c = opts.channels ?? split.sampleShape?.[2];
  if (!c || !Number.isInteger(c) || c < 1) {
    throw new RangeError(`computeNormalization needs the channel count: give opts.channels or a split with sampleShape; got ${c}.`);
  }
  if (split.size === 0) throw new RangeError('Cannot compute normalization statistics on an empty split.');
  const chunk = opts.chunk ?? 256;
  // Float64 sums per channel; with values in [0, 1] and < 2^40 pixels the rounding error is far
  // below float32 resolution, so the one-pass E[x²] − E[x]² formula is safe here.
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  let pixels = 0;
  for (let start = 0; start < split.size; start += chunk) {
    opts.signal?.throwIfAborted();
    const idx = Array.from({ length: Math.min(chunk, split.size - start) }, (_, k) => start + k);
    const x = await split.read(idx);
    if (x.length % c !== 0) throw new RangeError(`A batch of ${x.length} values does not divide into ${c} channels.`);
    for (let i = 0; i < x.length; i += c) {
      for (let k = 0; k < c; k++) {
        const v = x[i + k];
        sum[k] += v;
        sumSq[k] += v * v;
      }
    }
    pixels += x.length / c;
  }
  const mean = Array.from(sum, (s) => s / pixels);
  const std = Array.from(sumSq, (s, k) => Math.sqrt(Math.max(0, s / pixels - mean[k] * mean[k])));
  return { mean, std };
}

export function checkNormalization(norm: Normalization, channels: number): void {
  const ok = (a: unknown) => Array.isArray(a) && a.length === channels && a.every((v) => Number.isFinite(v));
  if (!ok(norm.mean) || !ok(norm.std) || norm.std.some((s) => s < 0)) {
    throw new RangeError(`Normalization must have ${channels} finite means and ${channels} non-negative stds; got ${JSON.stringify(norm)}.`);
  }
}

/** (x − mean[c]) / std[c], in place on an N×H×W×C batch; returns `x`. */
export function applyNormalization(x: Float32Array, norm: Normalization): Float32Array {
  const c = norm.mean.length;
  checkNormalization(norm, c);
  const mean = Float32Array.from(norm.mean);
  const inv = Float32Array.from(norm.std, (s) => (s < MIN_STD ? 1 : 1 / s));
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) x[i + k] = (x[i + k] - mean[k]) * inv[k];
  }
  return x;
}
