import * as tf from '@tensorflow/tfjs';
import { correctCount, crossEntropy } from './loss';

/** One batch as the data layer delivers it: N×H×W×C float32 (normalized), labels as class indices. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export interface EvalResult {
  samples: number;
  /** Plain cross-entropy (no label smoothing), mean over samples. */
  loss: number;
  accuracy: number;
}

export interface DetailedEvalResult extends EvalResult {
  classes: string[];
  /** confusion[true][predicted]. */
  confusion: number[][];
  /** Per class; null where undefined (no predictions of, or no samples of, that class). */
  precision: (number | null)[];
  recall: (number | null)[];
}

function forward(model: tf.LayersModel, batch: Batch, inputShape: readonly number[]): tf.Tensor {
  const x = tf.tensor4d(batch.x, [batch.n, inputShape[0], inputShape[1], inputShape[2]]);
  return model.apply(x, { training: false }) as tf.Tensor;
}

/** Loss and accuracy over every batch, in inference mode (batch-norm moving statistics, no dropout). */
export async function evaluate(model: tf.LayersModel, batches: AsyncIterable<Batch>, classes: number): Promise<EvalResult> {
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  let samples = 0;
  let lossSum = 0;
  let correct = 0;
  for await (const batch of batches) {
    const [l, c] = tf.tidy(() => {
      const logits = forward(model, batch, inputShape);
      const y = tf.tensor1d(batch.y, 'int32');
      return [crossEntropy(logits, y, classes).dataSync()[0], correctCount(logits, y).dataSync()[0]];
    });
    lossSum += l * batch.n;
    correct += c;
    samples += batch.n;
  }
  return { samples, loss: samples ? lossSum / samples : NaN, accuracy: samples ? correct / samples : NaN };
}

/** `evaluate` plus the confusion matrix and per-class precision and recall. */
export async function evaluateDetailed(model: tf.LayersModel, batches: AsyncIterable<Batch>, classNames: string[]): Promise<DetailedEvalResult> {
  const k = classNames.length;
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let samples = 0;
  let lossSum = 0;
  for await (const batch of batches) {
    const [l, predicted] = tf.tidy(() => {
      const logits = forward(model, batch, inputShape);
      const y = tf.tensor1d(batch.y, 'int32');
      return [crossEntropy(logits, y, k).dataSync()[0], tf.argMax(logits, -1).dataSync() as Int32Array] as const;
    });
    for (let i = 0; i < batch.n; i++) confusion[batch.y[i]][predicted[i]]++;
    lossSum += l * batch.n;
    samples += batch.n;
  }
  let correct = 0;
  for (let c = 0; c < k; c++) correct += confusion[c][c];
  const precision = classNames.map((_, c) => {
    const predictedC = confusion.reduce((s, row) => s + row[c], 0);
    return predictedC ? confusion[c][c] / predictedC : null;
  });
  const recall = classNames.map((_, c) => {
    const actual = confusion[c].reduce((s, v) => s + v, 0);
    return actual ? confusion[c][c] / actual : null;
  });
  return {
    samples,
    loss: samples ? lossSum / samples : NaN,
    accuracy: samples ? correct / samples : NaN,
    classes: classNames,
    confusion,
    precision,
    recall,
  };
}
