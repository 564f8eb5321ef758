import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { checkFormat, type ConvAttrs } from './conv_util';

/**
 * The weight gradient of a convolution (stock wasm has none).
 *
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co] is a GEMM whose
 * reduction runs over every output pixel of the batch (65,536 for 64 images of 32x32) while its
 * result is tiny (Ci x Co per tap). XNNPACK is built for the opposite shape: composed from its
 * convolutions (batch<->channel swap) it ran at 4-11 GFLOPS and did not block the reduction.
 * csrc/conv_dw.c accumulates outer products of x and dy rows in registers instead (17-24 GFLOPS a
 * thread), with half the images on each of the two threads.
 */
export const conv2DBackpropFilter: KernelFactory = (simd) => ({
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
    checkFormat('Conv2DBackpropFilter', a);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
    const [N, H, W, CI] = x.shape;
    const [, HO, WO, CO] = dy.shape;
    const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = info;
    const { top, left } = info.padInfo;
    // Outer products of x and dy rows into dW^T [KH, KW, CO, CI], then one small transpose.
    const size = KH * KW * CO * CI;
    const dwT = alloc(backend, [KH, KW, CO, CI]);
    simd.f32(ptr(backend, dwT), size).fill(0);
    const args = (n0: number, n1: number, out: TensorInfo) =>
      [ptr(backend, x), ptr(backend, dy), H, W, CI, HO, WO, CO, KH, KW, SH, SW, top, left, n0, n1, ptr(backend, out)] as const;
    if (N > 1 && simd.pool.threads > 1) {
      // Half the images on each thread, each into its own accumulator.
      const other = alloc(backend, [KH, KW, CO, CI]);
      try {
        simd.f32(ptr(backend, other), size).fill(0);
        const half = N >> 1;
        simd.pool.split('conv_dw', [...args(0, half, other)], [...args(half, N, dwT)]);
        simd.k.add_into(ptr(backend, dwT), ptr(backend, other), size);
      } catch (err) {
        free(backend, dwT);
        throw err;
      } finally {
        free(backend, other);
      }
    } else {
      simd.k.conv_dw(...args(0, N, dwT));
    }
    const dw = alloc(backend, [KH, KW, CI, CO]);
    for (let k = 0; k < KH * KW; k++) simd.k.permute_210(ptr(backend, dwT) + 4 * k * CO * CI, CO, 1, CI, ptr(backend, dw) + 4 * k * CI * CO);
    free(backend, dwT);
    return dw;
  },
});
