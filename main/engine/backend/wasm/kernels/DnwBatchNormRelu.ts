import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';
import { BN_RELU, bnGeometry, type BnAttrs } from './batch_norm_util';

/**
 * relu(gamma * (x - mean) / sqrt(var + eps) + beta) with given statistics, in one pass over two
 * threads: the memory-efficient dense layers recompute their BN-ReLUs with it in the backward pass
 * (the per-channel scale and shift are worked out exactly as DnwBatchNormTrain does, so the
 * recomputed maps equal the forward pass's bit for bit). `channels`: of x's first channels only.
 */
export const dnwBatchNormRelu: KernelFactory = (simd) => ({
  kernelName: BN_RELU,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { x, mean, variance, gamma, beta } = inputs as Record<'x' | 'mean' | 'variance' | 'gamma' | 'beta', TensorInfo>;
    const a = attrs as unknown as BnAttrs;
    const { P, C, S } = bnGeometry(x.shape, { ...a, relu: true }, BN_RELU);
    const eps = a.epsilon;
    const y = alloc(backend, [...x.shape.slice(0, -1), C]);
    const coef = alloc(backend, [2 * C]);
    try {
      const m = simd.f32(ptr(backend, mean), C);
      const v = simd.f32(ptr(backend, variance), C);
      const g = simd.f32(ptr(backend, gamma), C);
      const bt = simd.f32(ptr(backend, beta), C);
      const cf = simd.f32(ptr(backend, coef), 2 * C);
      for (let c = 0; c < C; ++c) {
        cf[c] = g[c] / Math.sqrt(v[c] + eps);
        cf[C + c] = bt[c] - m[c] * cf[c];
      }
      const xp = ptr(backend, x);
      const cp = ptr(backend, coef);
      const yp = ptr(backend, y);
      splitRows(simd, 'channel_affine_relu', P, (r0, r1) => [xp + 4 * r0 * S, r1 - r0, C, S, cp, cp + 4 * C, yp + 4 * r0 * C]);
    } catch (err) {
      free(backend, y);
      throw err;
    } finally {
      free(backend, coef);
    }
    return y;
  },
});
