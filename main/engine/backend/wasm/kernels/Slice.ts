import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';

/**
 * Slice of a float32 tensor of rank <= 4 as row copies, half the images on each thread. Stock wasm
 * slices at ~0.3 GB/s; the gradient of every zero padding (the ImageNet stem has two) is a slice of
 * the padded maps. Other ranks and dtypes go to the stock kernel.
 */
export const slice: KernelFactory = (simd, stock) => {
  const fallback = stock('Slice');
  return {
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const attrs = args.attrs as { begin: number | number[]; size: number | number[] };
      if (x.dtype !== 'float32' || x.shape.length > 4 || x.shape.length === 0) return fallback(args);
      const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
      const pad = 4 - x.shape.length;
      const shape4 = [...Array(pad).fill(1), ...x.shape];
      const b = [...Array(pad).fill(0), ...begin];
      const s = [...Array(pad).fill(1), ...size];
      const backend = args.backend as unknown as WasmBackendInternals;
      const out = alloc(backend, size);
      if (s.some((d) => d === 0)) return out;
      const [, H, W, C] = shape4;
      const a = (i0: number, i1: number) => [ptr(backend, x), H, W, C, b[0], b[1], b[2], b[3], s[1], s[2], s[3], i0, i1, ptr(backend, out)] as const;
      const N = s[0];
      if (N > 1 && simd.pool.threads > 1 && tf.util.sizeFromShape(size) >= 65536) simd.pool.split('slice4d', [...a(N >> 1, N)], [...a(0, N >> 1)]);
      else simd.k.slice4d(...a(0, N));
      return out;
    },
  };
};
