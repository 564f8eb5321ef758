import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from './heap';
import type { SimdKernels } from './simd';

/**
 * The two convolution gradients (stock wasm has no Conv2DBackpropFilter, and its
 * Conv2DBackpropInput is a scalar loop at ~2 GFLOPS).
 *
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co] is a GEMM whose
 *   reduction runs over every output pixel of the batch (65,536 for 64 images of 32x32) while its
 *   result is tiny (Ci x Co per tap). XNNPACK is built for the opposite shape: composed from its
 *   convolutions (batch<->channel swap) it ran at 4-11 GFLOPS and did not block the reduction.
 *   csrc/kernels.c's conv_dw accumulates outer products of x and dy rows in registers instead
 *   (17-24 GFLOPS a thread), with half the images on each of the two threads.
 * dx = conv(dy dilated by the stride, W rotated 180 degrees with ci and co swapped), padded by
 *   K-1-pad on the leading side (the transposed convolution), run by XNNPACK's threaded conv.
 */
type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
};

function forwardConv(): KernelFunc {
  const k = tf.getKernel('Conv2D', 'wasm');
  if (!k) throw new Error('The wasm backend has no Conv2D kernel; the training kernels build on it.');
  return k.kernelFunc;
}

function conv(backend: WasmBackendInternals, x: TensorInfo, filter: TensorInfo, pad: tf.backend_util.ExplicitPadding, dilation: number): TensorInfo {
  return forwardConv()({
    inputs: { x, filter },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { strides: [1, 1], pad, dilations: [dilation, dilation], dataFormat: 'NHWC' },
  }) as TensorInfo;
}

function checkFormat(name: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${name} on wasm supports dataFormat 'NHWC' only; got '${attrs.dataFormat}'.`);
  }
}

export function conv2dBackpropFilter(simd: SimdKernels): KernelConfig {
  return {
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
        simd.f32(ptr(backend, other), size).fill(0);
        const half = N >> 1;
        simd.pool.split('conv_dw', [...args(0, half, other)], [...args(half, N, dwT)]);
        simd.k.add_into(ptr(backend, dwT), ptr(backend, other), size);
        free(backend, other);
      } else {
        simd.k.conv_dw(...args(0, N, dwT));
      }
      const dw = alloc(backend, [KH, KW, CI, CO]);
      for (let k = 0; k < KH * KW; k++) simd.k.permute_210(ptr(backend, dwT) + 4 * k * CO * CI, CO, 1, CI, ptr(backend, dw) + 4 * k * CI * CO);
      free(backend, dwT);
      return dw;
    },
  };
}

export function conv2dBackpropInput(simd: SimdKernels): KernelConfig {
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as unknown as WasmBackendInternals;
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
      checkFormat('Conv2DBackpropInput', a);
      const [KH, KW, CI, CO] = filter.shape;
      const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
      const { strideHeight: SH, strideWidth: SW } = info;
      const { top, left } = info.padInfo;
      const [N, H, W] = a.inputShape;
      const [, HO, WO] = dy.shape;

      const wr = alloc(backend, [KH, KW, CO, CI]);
      simd.k.rot180_swap(ptr(backend, filter), KH, KW, CI, CO, ptr(backend, wr));
      let src = dy;
      const HD = (HO - 1) * SH + 1;
      const WD = (WO - 1) * SW + 1;
      if (SH > 1 || SW > 1) {
        src = alloc(backend, [N, HD, WD, CO]);
        simd.k.dilate(ptr(backend, dy), N, HO, WO, CO, SH, SW, HD, WD, ptr(backend, src));
      }
      const padT = KH - 1 - top;
      const padL = KW - 1 - left;
      const padB = H - HD - padT + KH - 1;
      const padR = W - WD - padL + KW - 1;
      const dx = conv(backend, src, wr, [[0, 0], [padT, padB], [padL, padR], [0, 0]], 1);
      free(backend, wr);
      if (src !== dy) free(backend, src);
      return dx;
    },
  };
}
