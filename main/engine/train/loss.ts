import * as tf from '@tensorflow/tfjs';

/**
 * Softmax cross-entropy on logits, mean over the batch, with label smoothing ε: the target is
 * (1 − ε)·onehot + ε/K (Szegedy et al. 2016, §7), as PyTorch's CrossEntropyLoss(label_smoothing=ε).
 * tf.losses.softmaxCrossEntropy implements exactly that smoothing and is computed through
 * logSoftmax, so large logits do not overflow.
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D, classes: number, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(labels, classes);
    return tf.losses.softmaxCrossEntropy(onehot, logits as tf.Tensor2D, undefined, labelSmoothing, tf.Reduction.MEAN) as tf.Scalar;
  });
}

/** Number of samples whose arg-max logit is the label, as a float scalar. */
export function correctCount(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32')) as tf.Scalar);
}
