import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';

/**
 * AvgPoolGrad for non-overlapping windows (filter = stride, 'valid'), the 2x2/2 pool of every
 * DenseNet transition; the stock wasm kernel took ~80 ms a call at batch 64. Other configurations go
 * to the stock kernel.
 */
export const avgPoolGrad: KernelFactory = (simd, stock) => {
  const fallback = stock('AvgPoolGrad');
  return {
    kernelName: 'AvgPoolGrad',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
      const { filterSize, strides, pad } = args.attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: unknown };
      const [fh, fw] = typeof filterSize === 'number' ? [filterSize, filterSize] : filterSize;
      const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
      if (input.shape.length !== 4 || dy.dtype !== 'float32' || fh !== fw || sh !== sw || fh !== sh || pad !== 'valid') return fallback(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const [N, H, W, C] = input.shape;
      const [, HO, WO] = dy.shape;
      const dx = alloc(backend, input.shape);
      simd.k.avg_pool_grad(ptr(backend, dy), N, H, W, C, fh, HO, WO, ptr(backend, dx));
      return dx;
    },
  };
};
