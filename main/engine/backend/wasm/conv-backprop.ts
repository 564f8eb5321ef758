import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, ptr, releaseAlias, type WasmBackendInternals } from './heap';
import type { SimdKernels } from './simd';

/**
 * The two convolution gradients, expressed as forward convolutions on rearranged tensors so that
 * XNNPACK's threaded convolution does the arithmetic (stock wasm has no Conv2DBackpropFilter, and its
 * Conv2DBackpropInput is a scalar loop at ~2 GFLOPS).
 *
 * dW[kh,kw,ci,co] = sum_{n,h,w} xpad[n, h*s+kh, w*s+kw, ci] * dy[n,h,w,co]
 *   is a convolution whose batch is ci, whose channels are n, and whose filter is dy laid out
 *   [Ho,Wo,N,Co], dilated by the stride: out[ci,kh,kw,co] (the batch<->channel swap).
 *   For a 1x1, stride-1, unpadded filter it is a plain GEMM, done as
 *   dW^T = conv(dy^T as [Co,1,1,P], x as a [1,1,P,Ci] filter): only the thin dy is transposed.
 * dx = conv(dy dilated by the stride, W rotated 180 degrees with ci and co swapped), padded by
 *   K-1-pad on the leading side (the transposed convolution).
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

/**
 * Images per chunk of a weight-gradient GEMM. Its reduction runs over every pixel of the batch
 * (65,536 rows for 64 images of 32x32) and XNNPACK does not block that dimension, so a whole batch
 * streams its panels from L3 at ~5 GFLOPS; chunks of ~4k rows keep them in L2. Each chunk is one
 * convolution and the partial gradients are summed.
 */
function chunkImages(images: number, rowsPerImage: number): number {
  return Math.max(1, Math.min(images, Math.floor(4096 / rowsPerImage)));
}

/** Runs `part` over [n0, n0+n) image chunks and sums the results into one tensor of `shape`. */
function accumulate(backend: WasmBackendInternals, simd: SimdKernels, shape: number[], images: number, chunk: number, part: (n0: number, n: number) => TensorInfo): TensorInfo {
  let total: TensorInfo | null = null;
  const size = shape.reduce((a, b) => a * b, 1);
  for (let n0 = 0; n0 < images; n0 += chunk) {
    const p = part(n0, Math.min(chunk, images - n0));
    if (total == null) total = p;
    else {
      simd.k.add_into(ptr(backend, total), ptr(backend, p), size);
      free(backend, p);
    }
  }
  return total!;
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
      const { top, left, bottom, right } = info.padInfo;


      if (SH === SW && process.env['DNW_DW'] !== 'xnn') {
        // Direct SIMD kernel: outer products of x and dy rows into dW^T, then one small transpose.
        const dwT = alloc(backend, [KH, KW, CO, CI]);
        simd.f32(ptr(backend, dwT), KH * KW * CO * CI).fill(0);
        const args = (n0: number, n1: number, out: TensorInfo) =>
          [ptr(backend, x), ptr(backend, dy), H, W, CI, HO, WO, CO, KH, KW, SH, top, left, n0, n1, ptr(backend, out)] as const;
        if (N > 1 && simd.pool.threads > 1) {
          // Half the images on each thread, each into its own accumulator.
          const other = alloc(backend, [KH, KW, CO, CI]);
          simd.f32(ptr(backend, other), KH * KW * CO * CI).fill(0);
          const half = N >> 1;
          simd.pool.split('conv_dw', [...args(0, half, other)], [...args(half, N, dwT)]);
          simd.k.add_into(ptr(backend, dwT), ptr(backend, other), KH * KW * CO * CI);
          free(backend, other);
        } else {
          simd.k.conv_dw(...args(0, N, dwT));
        }
        const dw = alloc(backend, [KH, KW, CI, CO]);
        for (let k = 0; k < KH * KW; k++) simd.k.permute_210(ptr(backend, dwT) + 4 * k * CO * CI, CO, 1, CI, ptr(backend, dw) + 4 * k * CI * CO);
        free(backend, dwT);
        return dw;
      }
      const chunk = chunkImages(N, HO * WO);
      if (KH === 1 && KW === 1 && SH === 1 && SW === 1 && top + left + bottom + right === 0) {
        // One GEMM per chunk of images, summed: see chunkImages.
        const dwT = accumulate(backend, simd, [CO, 1, 1, CI], N, chunk, (n0, n) => {
          const rows = n * H * W;
          const dyT = alloc(backend, [CO, 1, 1, rows]);
          simd.k.permute_210(ptr(backend, dy) + 4 * n0 * H * W * CO, rows, 1, CO, ptr(backend, dyT));
          const xf = backend.makeOutput([1, 1, rows, CI], 'float32', ptr(backend, x) + 4 * n0 * H * W * CI);
          const part = conv(backend, dyT, xf, [[0, 0], [0, 0], [0, 0], [0, 0]], 1);
          releaseAlias(backend, xf);
          free(backend, dyT);
          return part;
        });
        const dw = alloc(backend, [1, 1, CI, CO]);
        simd.k.permute_210(ptr(backend, dwT), CO, 1, CI, ptr(backend, dw));
        free(backend, dwT);
        return dw;
      }
      if (SH !== SW) throw new Error(`Conv2DBackpropFilter on wasm needs equal strides; got [${SH}, ${SW}].`);
      // Bottom/right padding that makes the output exactly KH x KW; when negative the extra rows of
      // x are never read by the forward conv either, so the output is cropped instead.
      const padB = KH + (HO - 1) * SH - H - top;
      const padR = KW + (WO - 1) * SW - W - left;
      const OHc = H + top + Math.max(0, padB) - (HO - 1) * SH;
      const OWc = W + left + Math.max(0, padR) - (WO - 1) * SW;
      const out = accumulate(backend, simd, [CI, OHc, OWc, CO], N, chunk, (n0, n) => {
        // x as [CI, H, W, n]: batch <-> channel swap; dy as the filter [HO, WO, n, CO].
        const xs = alloc(backend, [CI, H, W, n]);
        simd.k.permute_210(ptr(backend, x) + 4 * n0 * H * W * CI, n, H * W, CI, ptr(backend, xs));
        const f = alloc(backend, [HO, WO, n, CO]);
        simd.k.permute_102(ptr(backend, dy) + 4 * n0 * HO * WO * CO, n, HO * WO, CO, ptr(backend, f));
        const part = conv(backend, xs, f, [[0, 0], [top, Math.max(0, padB)], [left, Math.max(0, padR)], [0, 0]], SH);
        free(backend, xs, f);
        return part;
      });
      const [, OH, OW] = out.shape;
      let cropped = out;
      if (OH !== KH || OW !== KW) {
        cropped = alloc(backend, [CI, KH, KW, CO]);
        const src = simd.f32(ptr(backend, out), CI * OH * OW * CO);
        const dst = simd.f32(ptr(backend, cropped), CI * KH * KW * CO);
        for (let c = 0; c < CI; ++c)
          for (let i = 0; i < KH; ++i)
            dst.set(src.subarray(((c * OH + i) * OW) * CO, ((c * OH + i) * OW + KW) * CO), ((c * KH + i) * KW) * CO);
        free(backend, out);
      }
      const dw = alloc(backend, [KH, KW, CI, CO]);
      simd.k.permute_102(ptr(backend, cropped), CI, KH * KW, CO, ptr(backend, dw));
      free(backend, cropped);
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
        simd.k.dilate(ptr(backend, dy), N, HO, WO, CO, SH, HD, WD, ptr(backend, src));
        if (SH !== SW) {
          // dilate() spaces rows and columns alike; redo the columns for unequal strides.
          const d = simd.f32(ptr(backend, src), N * HD * WD * CO);
          const s = simd.f32(ptr(backend, dy), N * HO * WO * CO);
          d.fill(0);
          for (let n = 0; n < N; ++n)
            for (let h = 0; h < HO; ++h)
              for (let w = 0; w < WO; ++w)
                d.set(s.subarray(((n * HO + h) * WO + w) * CO, ((n * HO + h) * WO + w + 1) * CO), ((n * HD + h * SH) * WD + w * SW) * CO);
        }
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
