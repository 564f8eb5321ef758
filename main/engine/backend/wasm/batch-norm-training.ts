import * as tf from '@tensorflow/tfjs';
import { BN_GRAD, BN_TRAIN } from './kernels/batch_norm_util';

/**
 * y = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta over all axes but the last, plus the batch
 * mean and (biased) variance for the moving averages, through the fused kernels
 * (kernels/DnwBatchNormTrain.ts and kernels/DnwBatchNormGrad.ts). Differentiable in x, gamma and
 * beta; mean and variance are returned kept (outside any tidy) and the caller disposes them.
 * Needs the fused kernels on the active backend (wasm with this project's training kernels).
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  let mean: tf.Tensor | undefined;
  let variance: tf.Tensor | undefined;
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, m, v] = tf.engine().runKernel(BN_TRAIN, { x: xi, gamma: g, beta: bt }, { epsilon }) as tf.Tensor[];
    save([xi, g, m, v]);
    mean = tf.keep(m);
    variance = tf.keep(v);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv] = saved;
        const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, { dy, x: sx, mean: sm, variance: sv, gamma: sg }, { epsilon }) as tf.Tensor[];
        return [dx, dgamma, dbeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

export function fusedBatchNormAvailable(): boolean {
  return tf.getKernel(BN_TRAIN, tf.getBackend()) != null;
}
