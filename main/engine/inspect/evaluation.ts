import * as tf from '@tensorflow/tfjs';

/**
 * Evaluation: predictions over a labelled split, then the confusion matrix,
 * per-class precision/recall/accuracy and the most confidently misclassified samples.
 * The same predictions drive layer ablation's accuracy, so there is one prediction loop.
 */

/**
 * One batch of a labelled split, already preprocessed as in training (normalized, resized): the
 * shape both the data module's batch iterator and the training loop use.
 */
export interface EvalBatch {
  /** n×H×W×C float32. */
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** A split that can be walked more than once (ablation evaluates it once per layer), in a fixed order. */
export type EvalBatches = () => AsyncIterable<EvalBatch>;

export interface Predictions {
  /** True class per sample, in split order. */
  labels: Int32Array;
  /** Argmax class per sample. */
  predicted: Int32Array;
  /** Softmax probability of the predicted class. */
  confidence: Float32Array;
}

export interface PredictOptions {
  /** Checked before each batch; aborting throws. */
  signal?: AbortSignal;
  /** After each batch: samples predicted so far. */
  onBatch?: (done: number) => void;
}

export async function predictAll(model: tf.LayersModel, batches: AsyncIterable<EvalBatch>, options: PredictOptions = {}): Promise<Predictions> {
  const shape = model.inputs[0].shape.slice(1) as number[];
  const labels: number[] = [];
  const predicted: number[] = [];
  const confidence: number[] = [];
  for await (const batch of batches) {
    options.signal?.throwIfAborted();
    // Index and probability packed side by side: one download per batch.
    const packed = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.n, shape[0], shape[1], shape[2]]);
      const probs = tf.softmax(model.predict(x, { batchSize: batch.n }) as tf.Tensor2D);
      return tf.stack([probs.argMax(1).toFloat(), probs.max(1)], 1);
    });
    const data = await packed.data();
    packed.dispose();
    for (let i = 0; i < batch.n; i++) {
      labels.push(batch.y[i]);
      predicted.push(data[2 * i]);
      confidence.push(data[2 * i + 1]);
    }
    options.onBatch?.(labels.length);
  }
  if (labels.length === 0) throw new RangeError('Cannot evaluate on an empty split: it has 0 samples.');
  return { labels: Int32Array.from(labels), predicted: Int32Array.from(predicted), confidence: Float32Array.from(confidence) };
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
export function evaluate(p: Predictions, classCount: number, topMisclassified = 16): EvaluationResult {
  const labels = p.labels;
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

/** Batches over preprocessed samples held in memory (probe batches, tests, small splits). */
export function memoryBatches(images: Float32Array, labels: Int32Array, batchSize = 64): EvalBatches {
  if (labels.length === 0 || images.length % labels.length !== 0) {
    throw new RangeError(`Expected one image per label; got ${images.length} values for ${labels.length} labels.`);
  }
  const per = images.length / labels.length;
  return async function* () {
    for (let start = 0; start < labels.length; start += batchSize) {
      const end = Math.min(labels.length, start + batchSize);
      yield { x: images.subarray(start * per, end * per), y: labels.subarray(start, end), n: end - start };
    }
  };
}
