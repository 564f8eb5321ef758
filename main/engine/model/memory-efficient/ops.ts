import * as tf from '@tensorflow/tfjs';

/**
 * The pieces of a backward pass the memory-efficient dense block writes out by hand. They call the
 * same kernels tfjs' own gradients do (Conv2DBackpropFilter / Conv2DBackpropInput exist on every
 * backend), so the gradients match the plain path's.
 */
const SAME = { strides: [1, 1] as [number, number], pad: 'same' as const, dataFormat: 'NHWC' as const };

/** A stride-1 'same' convolution without bias, as the dense layers' conv2d layers compute it. */
export function convSame(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
  return tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same');
}

export function convFilterGrad(x: tf.Tensor, dy: tf.Tensor, filterShape: number[]): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...SAME, filterShape }) as tf.Tensor;
}

export function convInputGrad(dy: tf.Tensor, filter: tf.Tensor, inputShape: number[]): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...SAME, inputShape }) as tf.Tensor;
}

/**
 * The multiplier tf.dropout(x, rate, undefined, seed) applies: floor(u + keep) / keep with
 * u ~ U[0, 1) drawn from `seed`, computed with the same ops, so the backward pass regenerates the
 * forward pass's mask instead of storing it.
 */
export function dropoutMultiplier(shape: number[], rate: number, seed: number): tf.Tensor {
  return tf.tidy(() => {
    const keep = 1 - rate;
    return tf.div(tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', seed), keep)), keep);
  });
}

/**
 * tf.dropout with its seed drawn here, from Math.random, exactly when tfjs-layers' Dropout layer
 * would draw it (tf.randomUniform without a seed draws one number from Math.random), so that under
 * the run's seeded Math.random the masks are the plain path's.
 */
export function seededDropout(x: tf.Tensor, rate: number): { y: tf.Tensor; seed: number } {
  const seed = Math.random();
  return { y: tf.dropout(x, rate, undefined, seed), seed };
}

/** seededDropout that takes ownership of x (disposes it); a rate of 0 passes x through, seedless. */
export function dropoutInPlaceOf(x: tf.Tensor, rate: number): { y: tf.Tensor; seed?: number } {
  if (rate <= 0) return { y: x };
  const { y, seed } = seededDropout(x, rate);
  x.dispose();
  return { y, seed };
}
