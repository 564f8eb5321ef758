import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';
import { BN_GRAD, reduceRows, rows, type BnAttrs } from './batch_norm_util';

/**
 * Training-mode batch normalisation backward (Ioffe & Szegedy 2015, §3) over channels-last data.
 * With m rows, xhat = (x - mean) * r, r = 1/sqrt(var + eps):
 *   dbeta  = sum(dy)                  dgamma = sum(dy * xhat) = r * sum(dy * (x - mean))
 *   dx     = gamma * r / m * (m * dy - dbeta - xhat * dgamma)
 * folded into dx = a*dy + b*x + k per channel: it reads dy and x twice and writes dx once. With
 * `relu` and the ReLU's output `y` as an input, dy is the gradient of that ReLU's output, masked
 * on the fly (the ReLU's own gradient pass and its tensor are saved).
 */
export const dnwBatchNormGrad: KernelFactory = (simd) => ({
  kernelName: BN_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { dy, x, mean, variance, gamma, y } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', TensorInfo> & { y?: TensorInfo };
    const { epsilon: eps, relu } = attrs as unknown as BnAttrs;
    if (relu && !y) throw new Error(`${BN_GRAD} with relu needs the ReLU's output y.`);
    const { P, C } = rows(x.shape);
    const dx = alloc(backend, x.shape);
    const dgamma = alloc(backend, [C]);
    const dbeta = alloc(backend, [C]);
    const coef = alloc(backend, [3 * C]);
    try {
      const dyp = ptr(backend, dy);
      const xp = ptr(backend, x);
      const mp = ptr(backend, mean);
      const yp = relu ? ptr(backend, y!) : 0;
      const sums = relu
        ? reduceRows(simd, backend, 'col_grad_sums_relu', P, C, 2, (r0, r1, tmp, acc) => [dyp + 4 * r0 * C, yp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, mp, tmp, acc])
        : reduceRows(simd, backend, 'col_grad_sums', P, C, 2, (r0, r1, tmp, acc) => [dyp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, mp, tmp, acc]);
      const m = simd.f32(mp, C);
      const v = simd.f32(ptr(backend, variance), C);
      const g = simd.f32(ptr(backend, gamma), C);
      const dg = simd.f32(ptr(backend, dgamma), C);
      const db = simd.f32(ptr(backend, dbeta), C);
      const cf = simd.f32(ptr(backend, coef), 3 * C);
      for (let c = 0; c < C; ++c) {
        const r = 1 / Math.sqrt(v[c] + eps);
        db[c] = sums[c];
        dg[c] = r * sums[C + c];
        const gr = g[c] * r;
        const B = (-gr * r * dg[c]) / P;
        cf[c] = gr;
        cf[C + c] = B;
        cf[2 * C + c] = (-gr * db[c]) / P - B * m[c];
      }
      const cp = ptr(backend, coef);
      const dxp = ptr(backend, dx);
      if (relu) splitRows(simd, 'bn_grad_dx_relu', P, (r0, r1) => [dyp + 4 * r0 * C, yp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, cp, cp + 4 * C, cp + 8 * C, dxp + 4 * r0 * C]);
      else splitRows(simd, 'bn_grad_dx', P, (r0, r1) => [dyp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, cp, cp + 4 * C, cp + 8 * C, dxp + 4 * r0 * C]);
    } catch (err) {
      free(backend, dx, dgamma, dbeta);
      throw err;
    } finally {
      free(backend, coef);
    }
    return [dx, dgamma, dbeta];
  },
});
