import * as tf from '@tensorflow/tfjs';
import { BN_GRAD, BN_TRAIN } from '../../backend/wasm/kernels/batch_norm_util';

/**
 * Training-mode batch normalization (Ioffe & Szegedy 2015, Algorithm 1) as explicit forward and
 * backward functions over channels-last data, for the memory-efficient dense block, which runs its
 * own backward pass. On wasm they are this project's fused kernels; elsewhere tf ops, computing what
 * tfjs-layers' BatchNormalization computes (tf.moments, then tf.batchNorm).
 */
function fused(): boolean {
  return tf.getKernel(BN_TRAIN, tf.getBackend()) != null;
}

export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** y with the batch's mean and biased variance (which the moving averages are updated with). */
export function bnTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor } & BatchStats {
  if (fused()) {
    const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return { y: tf.batchNorm(x, mean, variance, beta, gamma, epsilon), mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * The same normalization with given statistics: recomputing a forward output in the backward pass
 * gives exactly the values the forward pass had (on wasm both go through the same per-channel
 * scale and shift, computed the same way).
 */
export function bnApply(x: tf.Tensor, stats: BatchStats, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.batchNorm(x, stats.mean, stats.variance, beta, gamma, epsilon);
}

/**
 * Gradients of bnTrain with m rows, r = 1/sqrt(var + eps), xhat = (x - mean) * r:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * r / m * (m * dy - dbeta - xhat * dgamma).
 */
export function bnGrad(dy: tf.Tensor, x: tf.Tensor, stats: BatchStats, gamma: tf.Tensor, epsilon: number): { dx: tf.Tensor; dgamma: tf.Tensor; dbeta: tf.Tensor } {
  if (fused()) {
    const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, { dy, x, mean: stats.mean, variance: stats.variance, gamma }, { epsilon }) as tf.Tensor[];
    return { dx, dgamma, dbeta };
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const m = x.size / x.shape[x.shape.length - 1];
    const r = tf.rsqrt(tf.add(stats.variance, epsilon));
    const xhat = tf.mul(tf.sub(x, stats.mean), r);
    const dbeta = tf.sum(dy, axes);
    const dgamma = tf.sum(tf.mul(dy, xhat), axes);
    const scale = tf.div(tf.mul(gamma, r), m);
    const dx = tf.mul(scale, tf.sub(tf.sub(tf.mul(dy, m), dbeta), tf.mul(xhat, dgamma)));
    return { dx, dgamma, dbeta };
  });
}

/** tfjs-layers' moving-average update: v <- v - (v - batch) * (1 - momentum). */
export function updateMovingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - momentum)));
  });
}
