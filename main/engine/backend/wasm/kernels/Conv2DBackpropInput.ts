import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { checkFormat, conv, type ConvAttrs } from './conv_util';

/**
 * The input gradient of a convolution (stock wasm's is a scalar loop at ~2 GFLOPS):
 * dx = conv(dy dilated by the stride, W rotated 180 degrees with ci and co swapped), padded by
 * K-1-pad on the leading side (the transposed convolution), run by XNNPACK's threaded conv.
 */
export const conv2DBackpropInput: KernelFactory = (simd) => ({
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
    const temps = [wr];
    try {
      simd.k.rot180_swap(ptr(backend, filter), KH, KW, CI, CO, ptr(backend, wr));
      let src = dy;
      const HD = (HO - 1) * SH + 1;
      const WD = (WO - 1) * SW + 1;
      if (SH > 1 || SW > 1) {
        src = alloc(backend, [N, HD, WD, CO]);
        temps.push(src);
        simd.k.dilate(ptr(backend, dy), N, HO, WO, CO, SH, SW, HD, WD, ptr(backend, src));
      }
      const padT = KH - 1 - top;
      const padL = KW - 1 - left;
      const padB = H - HD - padT + KH - 1;
      const padR = W - WD - padL + KW - 1;
      return conv(backend, src, wr, [[0, 0], [padT, padB], [padL, padR], [0, 0]], 1);
    } finally {
      free(backend, ...temps);
    }
  },
});
