import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from './heap';
import type { SimdKernels } from './simd';
import { splitRows } from './split';

/**
 * ReLU's gradient in one pass. The stock gradient, dy * cast(step(x)), costs three full-tensor
 * passes; a DenseNet has two ReLUs a layer.
 */
export const RELU_GRAD = 'DnwReluGrad';

export function reluGradKernel(simd: SimdKernels): KernelConfig {
  return {
    kernelName: RELU_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b }) => {
      const backend = b as unknown as WasmBackendInternals;
      const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
      const dx = alloc(backend, x.shape);
      const n = tf.util.sizeFromShape(x.shape);
      const [dyp, xp, dxp] = [ptr(backend, dy), ptr(backend, x), ptr(backend, dx)];
      const blocks = Math.ceil(n / 256);
      splitRows(simd, 'relu_grad', blocks, (b0, b1) => [dyp + 1024 * b0, xp + 1024 * b0, Math.min(n, 256 * b1) - 256 * b0, dxp + 1024 * b0]);
      return dx;
    },
  };
}

/**
 * Gradients are registered globally (tf.registerGradient has no backend argument), so this one
 * must be right everywhere: it uses the fused kernel where the active backend has one and the
 * stock formula otherwise; both give dy where the input was > 0 and 0 elsewhere.
 *
 * Porting note: the stock gradient saves ReLU's input; this one saves its output, y = max(x, 0),
 * which is > 0 exactly where x > 0 (and NaN where x is NaN). In a pre-activation network the input
 * is a BN output nobody else keeps, while the output is kept anyway by the conv that follows, so
 * the BN output can be freed after the forward pass: what PyTorch's in-place ReLU achieves, about a
 * third of a DenseNet's activation memory.
 */
export function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: 'Relu',
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const d = dy as tf.Tensor;
      return {
        x: () =>
          tf.getKernel(RELU_GRAD, tf.getBackend()) != null && x.dtype === 'float32' && d.dtype === 'float32'
            ? (tf.engine().runKernel(RELU_GRAD, { dy: d, x }) as tf.Tensor)
            : tf.mul(d, tf.cast(tf.step(x), 'float32')),
      };
    },
  });
}
