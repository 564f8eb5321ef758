import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';

/**
 * MaxPoolGrad vectorised over channels, half the images on each thread. The stock kernel is a
 * scalar loop: the gradient of an ImageNet stem's 3x3/2 max pool (112x112x64 a DenseNet-121 image)
 * took about as long as a dense block's convolutions. Dilated pools go to the stock kernel.
 */
export const maxPoolGrad: KernelFactory = (simd, stock) => {
  const fallback = stock('MaxPoolGrad');
  return {
    kernelName: 'MaxPoolGrad',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      if (input.shape.length !== 4 || dy.dtype !== 'float32') return fallback(args);
      const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return fallback(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const [N, H, W, C] = input.shape;
      const dx = alloc(backend, input.shape);
      simd.f32(ptr(backend, dx), N * H * W * C).fill(0);
      const a = (n0: number, n1: number) =>
        [ptr(backend, input), ptr(backend, dy), H, W, C, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, n0, n1, ptr(backend, dx)] as const;
      if (N > 1 && simd.pool.threads > 1) simd.pool.split('max_pool_grad', [...a(N >> 1, N)], [...a(0, N >> 1)]);
      else simd.k.max_pool_grad(...a(0, N));
      return dx;
    },
  };
};
