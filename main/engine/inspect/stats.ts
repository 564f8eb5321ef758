import * as tf from '@tensorflow/tfjs';
import type { LayerStat } from '../../../shared/protocol/inspect';

/**
 * Feature-map statistics: mean, std, mean |x|, min, max, the fraction of values a
 * ReLU zeroes (x ≤ 0) and a 32-bin histogram over [min, max].
 *
 * Everything is computed on the backend and packed into one small vector per layer, so a probe over
 * dozens of layers downloads a few kilobytes in one `data()` call instead of whole activation maps.
 */
export const HISTOGRAM_BINS = 32;

/** mean, std, meanAbs, min, max, zeroFraction, then the histogram counts. */
const SCALARS = 6;
export const STATS_VECTOR_LENGTH = SCALARS + HISTOGRAM_BINS;

/**
 * The statistics of `x` as one float32 vector of STATS_VECTOR_LENGTH. Call inside tf.tidy().
 *
 * Histogram bin i covers [min + i·w, min + (i+1)·w) with w = (max − min)/32; the last bin also takes
 * max. A constant tensor puts everything in bin 0. std is the population std (÷ n), as BN uses.
 */
export function statsVector(x: tf.Tensor): tf.Tensor1D {
  if (x.size === 0) throw new RangeError(`Cannot compute statistics of an empty tensor of shape [${x.shape.join(', ')}].`);
  const flat = x.reshape([-1]).toFloat();
  const { mean, variance } = tf.moments(flat);
  const min = flat.min();
  const max = flat.max();
  const meanAbs = flat.abs().mean();
  const zeroFraction = flat.lessEqual(0).toFloat().mean();
  const width = tf.maximum(max.sub(min), 1e-30);
  const bins = flat
    .sub(min)
    .div(width)
    .mul(HISTOGRAM_BINS)
    .floor()
    .clipByValue(0, HISTOGRAM_BINS - 1)
    .toInt() as tf.Tensor1D;
  const counts = tf.bincount(bins, tf.tensor1d([], 'float32'), HISTOGRAM_BINS);
  return tf.concat([tf.stack([mean, variance.sqrt(), meanAbs, min, max, zeroFraction]) as tf.Tensor1D, counts]);
}

/** Unpacks the vectors of `layers`, laid end to end in `data`, into LayerStat records. */
export function decodeStats(layers: readonly string[], data: ArrayLike<number>): LayerStat[] {
  if (data.length !== layers.length * STATS_VECTOR_LENGTH) {
    throw new RangeError(`Expected ${layers.length * STATS_VECTOR_LENGTH} statistics for ${layers.length} layers; got ${data.length}.`);
  }
  return layers.map((layer, i) => {
    const o = i * STATS_VECTOR_LENGTH;
    const histogram: number[] = [];
    for (let b = 0; b < HISTOGRAM_BINS; b++) histogram.push(Math.round(data[o + SCALARS + b]));
    return {
      layer,
      mean: data[o],
      std: data[o + 1],
      meanAbs: data[o + 2],
      min: data[o + 3],
      max: data[o + 4],
      zeroFraction: data[o + 5],
      histMin: data[o + 3],
      histMax: data[o + 4],
      histogram,
    };
  });
}

/**
 * Statistics of several named tensors with one download. The tensors are not disposed (the caller
 * owns them); everything made here is.
 */
export async function computeStats(named: readonly { layer: string; tensor: tf.Tensor }[]): Promise<LayerStat[]> {
  if (named.length === 0) return [];
  const packed = tf.tidy(() => tf.concat(named.map((n) => statsVector(n.tensor))));
  try {
    return decodeStats(named.map((n) => n.layer), await packed.data());
  } finally {
    packed.dispose();
  }
}
