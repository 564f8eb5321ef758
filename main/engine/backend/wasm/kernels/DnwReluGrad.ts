import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';

/**
 * ReLU's gradient in one pass: dx = dy where x > 0. The stock gradient, dy * cast(step(x)), costs
 * three full-tensor passes; a DenseNet has two ReLUs a layer. (../relu-gradient.ts routes to it.)
 */
export const RELU_GRAD = 'DnwReluGrad';

export const dnwReluGrad: KernelFactory = (simd) => ({
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: b }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const dx = alloc(backend, x.shape);
    const n = tf.util.sizeFromShape(x.shape);
    const [dyp, xp, dxp] = [ptr(backend, dy), ptr(backend, x), ptr(backend, dx)];
    // Blocks of 256 elements, so each thread's half starts 16-byte aligned.
    const blocks = Math.ceil(n / 256);
    splitRows(simd, 'relu_grad', blocks, (b0, b1) => [dyp + 1024 * b0, xp + 1024 * b0, Math.min(n, 256 * b1) - 256 * b0, dxp + 1024 * b0]);
    return dx;
  },
});
