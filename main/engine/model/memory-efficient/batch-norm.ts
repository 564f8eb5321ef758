import * as tf from '@tensorflow/tfjs';
import { BN_GRAD, BN_RELU, BN_TRAIN } from '../../backend/wasm/kernels/batch_norm_util';
import type { BatchNormParams } from './types';

/**
 * Training-mode batch normalization (Ioffe & Szegedy 2015, Algorithm 1) as explicit forward and
 * backward functions over channels-last data, for the memory-efficient dense block, which runs its
 * own backward pass, each fused with the ReLU that follows it in a pre-activation dense layer. On
 * wasm they are this project's fused kernels (one pass each); elsewhere tf ops, computing what
 * tfjs-layers' BatchNormalization and ReLU compute (tf.moments, tf.batchNorm, tf.relu).
 */
function fused(): boolean {
  return tf.getKernel(BN_TRAIN, tf.getBackend()) != null;
}

export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** r = relu(BN(x)) with the batch's mean and biased variance (which the moving averages are updated with). */
export function bnReluTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { r: tf.Tensor } & BatchStats {
  if (fused()) {
    const [r, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { epsilon, relu: true }) as tf.Tensor[];
    return { r, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return { r: tf.relu(tf.batchNorm(x, mean, variance, beta, gamma, epsilon)), mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  });
}

/**
 * The same BN-ReLU with given statistics: recomputing a forward output in the backward pass gives
 * exactly the values the forward pass had (on wasm both go through the same per-channel scale and
 * shift, computed the same way).
 */
export function bnReluApply(x: tf.Tensor, stats: BatchStats, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  if (fused()) return tf.engine().runKernel(BN_RELU, { x, mean: stats.mean, variance: stats.variance, gamma, beta }, { epsilon }) as tf.Tensor;
  return tf.tidy(() => tf.relu(tf.batchNorm(x, stats.mean, stats.variance, beta, gamma, epsilon)));
}

/**
 * Gradients of bnReluTrain, given dr (the gradient of its output r): dy = dr where r > 0, and with
 * m rows, s = 1/sqrt(var + eps), xhat = (x - mean) * s:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * s / m * (m * dy - dbeta - xhat * dgamma).
 */
export function bnReluGrad(dr: tf.Tensor, r: tf.Tensor, x: tf.Tensor, stats: BatchStats, gamma: tf.Tensor, epsilon: number): { dx: tf.Tensor; dgamma: tf.Tensor; dbeta: tf.Tensor } {
  if (fused()) {
    const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, { dy: dr, x, mean: stats.mean, variance: stats.variance, gamma, y: r }, { epsilon, relu: true }) as tf.Tensor[];
    return { dx, dgamma, dbeta };
  }
  return tf.tidy(() => {
    const dy = tf.mul(dr, tf.step(r));
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const m = x.size / x.shape[x.shape.length - 1];
    const s = tf.rsqrt(tf.add(stats.variance, epsilon));
    const xhat = tf.mul(tf.sub(x, stats.mean), s);
    const dbeta = tf.sum(dy, axes);
    const dgamma = tf.sum(tf.mul(dy, xhat), axes);
    const scale = tf.div(tf.mul(gamma, s), m);
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

/** BN-ReLU of x in training mode with the layer's parameters, updating its moving statistics. */
export function trainBnRelu(x: tf.Tensor, p: BatchNormParams): { r: tf.Tensor; stats: BatchStats } {
  const { r, mean, variance } = bnReluTrain(x, p.gamma, p.beta, p.epsilon);
  updateMovingAverage(p.movingMean, mean, p.momentum);
  updateMovingAverage(p.movingVariance, variance, p.momentum);
  return { r, stats: { mean, variance } };
}
