import * as tf from '@tensorflow/tfjs';

/**
 * Evaluation (issue 5, item 6): predictions over a labelled split, then the confusion matrix,
 * per-class precision/recall/accuracy and the most confidently misclassified samples.
 * The same predictions drive layer ablation's accuracy, so there is one prediction loop.
 */

/** A labelled split, already preprocessed the way the model was trained (normalized, resized). */
export interface EvalSource {
  readonly size: number;
  /** Class index of each sample. */
  readonly labels: Int32Array;
  /** Samples [start, end) as one [n, H, W, C] batch; the caller disposes it. */
  read(start: number, end: number): Promise<tf.Tensor4D>;
}

export interface Predictions {
  /** Argmax class per sample. */
  predicted: Int32Array;
  /** Softmax probability of the predicted class. */
  confidence: Float32Array;
}

export async function predictAll(model: tf.LayersModel, source: EvalSource, batchSize = 64): Promise<Predictions> {
  if (source.size === 0) throw new RangeError('Cannot evaluate on an empty split: it has 0 samples.');
  const predicted = new Int32Array(source.size);
  const confidence = new Float32Array(source.size);
  for (let start = 0; start < source.size; start += batchSize) {
    const end = Math.min(source.size, start + batchSize);
    const x = await source.read(start, end);
    // Index and probability packed side by side: one download per batch.
    const packed = tf.tidy(() => {
      const probs = tf.softmax(model.predict(x, { batchSize: end - start }) as tf.Tensor2D);
      return tf.stack([probs.argMax(1).toFloat(), probs.max(1)], 1);
    });
    x.dispose();
    const data = await packed.data();
    packed.dispose();
    for (let i = 0; i < end - start; i++) {
      predicted[start + i] = data[2 * i];
      confidence[start + i] = data[2 * i + 1];
    }
  }
  return { predicted, confidence };
}

export function accuracyOf(labels: Int32Array, predicted: Int32Array): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) right++;
  return labels.length ? right / labels.length : 0;
}

export interface EvaluationResult {
  accuracy: number;
  /** confusion[actual][predicted]. */
  confusion: number[][];
  perClass: { precision: number; recall: number; accuracy: number; support: number }[];
  misclassified: { index: number; actual: number; predicted: number; confidence: number }[];
}

/**
 * Per-class `accuracy` is one-vs-rest: (TP + TN) / N. Precision and recall are 0 where undefined
 * (no sample predicted, or none present), as scikit-learn's zero_division=0.
 */
export function evaluate(labels: Int32Array, p: Predictions, classCount: number, topMisclassified = 16): EvaluationResult {
  if (labels.length !== p.predicted.length) {
    throw new RangeError(`Got ${p.predicted.length} predictions for ${labels.length} labels.`);
  }
  const confusion = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i];
    const q = p.predicted[i];
    if (a < 0 || a >= classCount || q < 0 || q >= classCount) {
      throw new RangeError(`Sample ${i} has class ${a < 0 || a >= classCount ? a : q}, outside 0..${classCount - 1}.`);
    }
    confusion[a][q]++;
  }
  const n = labels.length;
  const perClass = confusion.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((s, v) => s + v, 0);
    const predictedAs = confusion.reduce((s, r) => s + r[c], 0);
    return {
      precision: predictedAs ? tp / predictedAs : 0,
      recall: support ? tp / support : 0,
      accuracy: n ? (n - support - predictedAs + 2 * tp) / n : 0,
      support,
    };
  });
  const wrong: EvaluationResult['misclassified'] = [];
  for (let i = 0; i < n; i++) {
    if (labels[i] !== p.predicted[i]) wrong.push({ index: i, actual: labels[i], predicted: p.predicted[i], confidence: p.confidence[i] });
  }
  wrong.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  return { accuracy: accuracyOf(labels, p.predicted), confusion, perClass, misclassified: wrong.slice(0, topMisclassified) };
}

/** An EvalSource over preprocessed samples held in memory (probe batches, tests, small splits). */
export function memorySource(images: Float32Array, shape: [number, number, number], labels: Int32Array): EvalSource {
  const per = shape[0] * shape[1] * shape[2];
  if (images.length !== labels.length * per) {
    throw new RangeError(`Expected ${labels.length} images of ${shape.join('×')} (${labels.length * per} values); got ${images.length}.`);
  }
  return {
    size: labels.length,
    labels,
    read: async (start, end) => tf.tensor4d(images.subarray(start * per, end * per), [end - start, ...shape]),
  };
}
