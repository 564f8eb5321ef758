import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from './kernels/DnwReluGrad';

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
