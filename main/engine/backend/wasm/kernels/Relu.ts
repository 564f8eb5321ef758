import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';

/** Relu over float32 split over the two threads (stock: one thread); other dtypes go to the stock kernel. */
export const relu: KernelFactory = (simd, stock) => {
  const fallback = stock('Relu');
  return {
    kernelName: 'Relu',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return fallback(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const y = alloc(backend, x.shape);
      const n = tf.util.sizeFromShape(x.shape);
      const xp = ptr(backend, x);
      const yp = ptr(backend, y);
      // Blocks of 256 elements, so each thread's half starts 16-byte aligned.
      const blocks = Math.ceil(n / 256);
      splitRows(simd, 'relu', blocks, (b0, b1) => [xp + 1024 * b0, Math.min(n, 256 * b1) - 256 * b0, yp + 1024 * b0]);
      return y;
    },
  };
};
