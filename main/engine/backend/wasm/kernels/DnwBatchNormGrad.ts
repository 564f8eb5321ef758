import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';
import { BN_GRAD, bnGeometry, reduceRows, type BnAttrs } from './batch_norm_util';

/**
 * Training-mode batch normalisation backward (Ioffe & Szegedy 2015, §3) over channels-last data.
 * With m rows, xhat = (x - mean) * r, r = 1/sqrt(var + eps):
 *   dbeta  = sum(dy)                  dgamma = sum(dy * xhat) = r * sum(dy * (x - mean))
 *   dx     = gamma * r / m * (m * dy - dbeta - xhat * dgamma)
 * folded into dx = a*dy + b*x + k per channel: it reads dy and x twice and writes dx once. With
 * `relu` and the ReLU's output `y` as an input, dy is the gradient of that ReLU's output, masked
 * on the fly (the ReLU's own gradient pass and its tensor are saved). With `channels` as well, x is
 * a wider feature buffer of which the BN read the first channels, and the input gradient is added
 * in place into the first channels of the input `into` (the buffer's gradient, x's shape): the
 * kernel then returns only dgamma and dbeta. That in-place write is for the memory-efficient dense
 * block, which owns `into` and hands it to nobody before its backward pass ends.
 */
export const dnwBatchNormGrad: KernelFactory = (simd) => ({
  kernelName: BN_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { dy, x, mean, variance, gamma, y, into } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', TensorInfo> & { y?: TensorInfo; into?: TensorInfo };
    const a = attrs as unknown as BnAttrs;
    const { epsilon: eps, relu } = a;
    if (relu && !y) throw new Error(`${BN_GRAD} with relu needs the ReLU's output y.`);
    const { P, C, S } = bnGeometry(x.shape, a, BN_GRAD);
    if (a.channels !== undefined && (!into || into.shape.join() !== x.shape.join())) throw new Error(`${BN_GRAD} with channels adds into an input 'into' of x's shape.`);
    const dx = into ?? alloc(backend, x.shape);
    const dgamma = alloc(backend, [C]);
    const dbeta = alloc(backend, [C]);
    const coef = alloc(backend, [3 * C]);
    try {
      const dyp = ptr(backend, dy);
      const xp = ptr(backend, x);
      const mp = ptr(backend, mean);
      const yp = relu ? ptr(backend, y!) : 0;
      const sums = relu
        ? reduceRows(simd, backend, 'col_grad_sums_relu', P, C, 2, (r0, r1, tmp, acc) => [dyp + 4 * r0 * C, yp + 4 * r0 * C, xp + 4 * r0 * S, r1 - r0, C, S, mp, tmp, acc])
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
      if (relu) splitRows(simd, 'bn_grad_dx_relu', P, (r0, r1) => [dyp + 4 * r0 * C, yp + 4 * r0 * C, xp + 4 * r0 * S, r1 - r0, C, S, cp, cp + 4 * C, cp + 8 * C, dxp + 4 * r0 * S, into ? 1 : 0]);
      else splitRows(simd, 'bn_grad_dx', P, (r0, r1) => [dyp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, cp, cp + 4 * C, cp + 8 * C, dxp + 4 * r0 * C]);
    } catch (err) {
      free(backend, dgamma, dbeta, ...(into ? [] : [dx]));
      throw err;
    } finally {
      free(backend, coef);
    }
    return into ? [dgamma, dbeta] : [dx, dgamma, dbeta];
  },
});
