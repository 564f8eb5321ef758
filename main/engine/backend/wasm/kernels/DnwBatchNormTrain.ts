import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';
import { BN_TRAIN, bnGeometry, reduceRows, type BnAttrs } from './batch_norm_util';

/**
 * Training-mode batch normalisation forward (Ioffe & Szegedy 2015, Algorithm 1) over channels-last
 * data: y = gamma * (x - mean) / sqrt(var + eps) + beta with the batch mean and biased variance,
 * which it also returns for the moving averages.
 *
 * tf.layers' BatchNormalization trains through tf.moments (mean, sub, square, mean) and the generic
 * FusedBatchNorm gradient, which broadcasts with Tile: about twenty full-tensor passes per layer
 * and step, the largest cost after convolutions in a DenseNet (in a profiled prototype, Tile alone
 * took 1.9 s of a 6.7 s step). This reads x three times and writes y once. With `relu`, y is the
 * ReLU of the normalised maps (the pre-activation DenseNet's BN-ReLU in one pass), and with
 * `channels` as well, the statistics and y are those of x's first `channels` channels.
 */
export const dnwBatchNormTrain: KernelFactory = (simd) => ({
  kernelName: BN_TRAIN,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
    const a = attrs as unknown as BnAttrs;
    const { epsilon: eps, relu } = a;
    const { P, C, S } = bnGeometry(x.shape, a, BN_TRAIN);
    const y = alloc(backend, [...x.shape.slice(0, -1), C]);
    const mean = alloc(backend, [C]);
    const variance = alloc(backend, [C]);
    // Scale and shift (C floats each) after the mean and variance.
    const coef = alloc(backend, [2 * C]);
    try {
      const xp = ptr(backend, x);
      const sums = reduceRows(simd, backend, 'col_sum', P, C, 1, (r0, r1, tmp, acc) => [xp + 4 * r0 * S, r1 - r0, C, S, tmp, acc]);
      const m = simd.f32(ptr(backend, mean), C);
      for (let c = 0; c < C; ++c) m[c] = sums[c] / P;
      const mp = ptr(backend, mean);
      const sq = reduceRows(simd, backend, 'col_sqdev', P, C, 1, (r0, r1, tmp, acc) => [xp + 4 * r0 * S, r1 - r0, C, S, mp, tmp, acc]);
      const v = simd.f32(ptr(backend, variance), C);
      const g = simd.f32(ptr(backend, gamma), C);
      const bt = simd.f32(ptr(backend, beta), C);
      const cf = simd.f32(ptr(backend, coef), 2 * C);
      for (let c = 0; c < C; ++c) {
        v[c] = sq[c] / P;
        cf[c] = g[c] / Math.sqrt(v[c] + eps);
        cf[C + c] = bt[c] - m[c] * cf[c];
      }
      const cp = ptr(backend, coef);
      const yp = ptr(backend, y);
      if (relu) splitRows(simd, 'channel_affine_relu', P, (r0, r1) => [xp + 4 * r0 * S, r1 - r0, C, S, cp, cp + 4 * C, yp + 4 * r0 * C]);
      else splitRows(simd, 'channel_affine', P, (r0, r1) => [xp + 4 * r0 * C, r1 - r0, C, cp, cp + 4 * C, yp + 4 * r0 * C]);
    } catch (err) {
      free(backend, y, mean, variance);
      throw err;
    } finally {
      free(backend, coef);
    }
    return [y, mean, variance];
  },
});
