import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';

/**
 * Inference-mode FusedBatchNorm over the last axis as one affine pass (y = x*scale + shift with
 * scale = gamma/sqrt(var+eps), shift = beta - mean*scale). The stock kernel works per element with
 * index arithmetic; this is what forward-only (evaluation, prediction) runs through.
 */
export const fusedBatchNorm: KernelFactory = (simd, stock) => {
  const fallback = stock('FusedBatchNorm');
  return {
    kernelName: 'FusedBatchNorm',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, mean, variance, offset, scale } = args.inputs as Record<'x' | 'mean' | 'variance' | 'offset' | 'scale', TensorInfo | undefined>;
      const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
      const C = x!.shape[x!.shape.length - 1];
      const perChannel = (t: TensorInfo | undefined) => t == null || (t.shape.length === 1 && t.shape[0] === C && t.dtype === 'float32');
      if (x!.dtype !== 'float32' || ![mean, variance, offset, scale].every(perChannel) || C === 0) return fallback(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const P = tf.util.sizeFromShape(x!.shape) / C;
      const m = simd.f32(ptr(backend, mean!), C).slice();
      const v = simd.f32(ptr(backend, variance!), C).slice();
      const g = scale ? simd.f32(ptr(backend, scale), C).slice() : null;
      const b = offset ? simd.f32(ptr(backend, offset), C).slice() : null;
      const coef = alloc(backend, [2 * C]);
      try {
        const cv = simd.f32(ptr(backend, coef), 2 * C);
        for (let c = 0; c < C; c++) {
          cv[c] = (g ? g[c] : 1) / Math.sqrt(v[c] + eps);
          cv[C + c] = (b ? b[c] : 0) - m[c] * cv[c];
        }
        const y = alloc(backend, x!.shape);
        simd.k.channel_affine(ptr(backend, x!), P, C, ptr(backend, coef), ptr(backend, coef) + 4 * C, ptr(backend, y));
        return y;
      } finally {
        free(backend, coef);
      }
    },
  };
};
