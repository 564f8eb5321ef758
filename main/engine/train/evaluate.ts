import * as tf from '@tensorflow/tfjs';
import { evaluate as evaluateMetrics, type EvaluationResult } from '../inspect/evaluation';
import { foldedInferenceFor, type FoldedInference } from '../model/folded-inference';
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

/** `evaluate` plus the inspection metrics (confusion matrix, per-class precision/recall/accuracy, most confident mistakes). */
export interface DetailedEvalResult extends EvalResult, EvaluationResult {
  classes: string[];
}

/**
 * Inference logits of a batch: through the folded-BN pass (../model/folded-inference) for the
 * workbench's DenseNets, which computes model.apply's logits in fewer passes.
 */
function forward(model: tf.LayersModel, folded: FoldedInference | null, batch: Batch, inputShape: readonly number[]): tf.Tensor {
  const x = tf.tensor4d(batch.x, [batch.n, inputShape[0], inputShape[1], inputShape[2]]);
  return folded ? folded.logits(x) : (model.apply(x, { training: false }) as tf.Tensor);
}

/** Loss and accuracy over every batch, in inference mode (batch-norm moving statistics, no dropout). */
export async function evaluate(model: tf.LayersModel, batches: AsyncIterable<Batch>, classes: number): Promise<EvalResult> {
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  let samples = 0;
  let lossSum = 0;
  let correct = 0;
  const folded = foldedInferenceFor(model);
  try {
    for await (const batch of batches) {
      const [l, c] = tf.tidy(() => {
        const logits = forward(model, folded, batch, inputShape);
        const y = tf.tensor1d(batch.y, 'int32');
        return [crossEntropy(logits, y, classes).dataSync()[0], correctCount(logits, y).dataSync()[0]];
      });
      lossSum += l * batch.n;
      correct += c;
      samples += batch.n;
    }
  } finally {
    folded?.dispose();
  }
  return { samples, loss: samples ? lossSum / samples : NaN, accuracy: samples ? correct / samples : NaN };
}

/**
 * `evaluate` plus the confusion matrix, per-class metrics and the most confidently misclassified
 * samples. One pass over the batches; the metrics come from the inspection module's `evaluate`, so
 * the CLI, the UI and the run report agree on one definition.
 */
export async function evaluateDetailed(model: tf.LayersModel, batches: AsyncIterable<Batch>, classNames: string[]): Promise<DetailedEvalResult> {
  const k = classNames.length;
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const labels: number[] = [];
  const predicted: number[] = [];
  const confidence: number[] = [];
  let lossSum = 0;
  const folded = foldedInferenceFor(model);
  try {
    for await (const batch of batches) {
      const [l, packed] = tf.tidy(() => {
        const logits = forward(model, folded, batch, inputShape);
        const y = tf.tensor1d(batch.y, 'int32');
        const probs = tf.softmax(logits);
        // Class index and its probability side by side: one download per batch.
        return [crossEntropy(logits, y, k).dataSync()[0], tf.stack([probs.argMax(-1).toFloat(), probs.max(-1)], 1).dataSync()] as const;
      });
      for (let i = 0; i < batch.n; i++) {
        labels.push(batch.y[i]);
        predicted.push(packed[2 * i]);
        confidence.push(packed[2 * i + 1]);
      }
      lossSum += l * batch.n;
    }
  } finally {
    folded?.dispose();
  }
  const samples = labels.length;
  if (samples === 0) throw new RangeError('Cannot evaluate on an empty split: it has 0 samples.');
  const metrics = evaluateMetrics(
    { labels: Int32Array.from(labels), predicted: Int32Array.from(predicted), confidence: Float32Array.from(confidence) },
    k,
  );
  return { samples, loss: lossSum / samples, classes: classNames, ...metrics };
}
