import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batches';
import { foldedInferenceFor } from '../model/folded-inference';
import { crossEntropy } from './loss';

/**
 * The one prediction loop: every labelled batch through the model in inference mode (batch-norm
 * moving statistics, no dropout), one download per batch. Validation during training, the
 * inspection probes (evaluation, ablation) and `eval` all go through it, so they agree on what the
 * model predicts. The workbench's DenseNets run through the folded-BN inference pass
 * (../model/folded-inference), which computes model.apply's logits in fewer passes.
 */
export interface Predictions {
  /** True class per sample, in split order. */
  labels: Int32Array;
  /** Argmax class per sample. */
  predicted: Int32Array;
  /** Softmax probability of the predicted class. */
  confidence: Float32Array;
  /** Plain cross-entropy (no label smoothing), mean over the samples. */
  loss: number;
}

export interface PredictOptions {
  /** Checked before each batch; aborting throws. */
  signal?: AbortSignal;
  /** After each batch: samples predicted so far. */
  onBatch?: (done: number) => void;
}

/** Predictions over every batch; throws a RangeError for a split without samples. */
export async function predictAll(model: tf.LayersModel, batches: AsyncIterable<Batch>, options: PredictOptions = {}): Promise<Predictions> {
  const p = await predictBatches(model, batches, options);
  if (p.labels.length === 0) throw new RangeError('Cannot evaluate on an empty split: it has 0 samples.');
  return p;
}

async function predictBatches(model: tf.LayersModel, batches: AsyncIterable<Batch>, options: PredictOptions = {}): Promise<Predictions> {
  const [h, w, c] = model.inputs[0].shape.slice(1) as number[];
  const classes = model.outputs[0].shape[1] as number;
  const labels: number[] = [];
  const predicted: number[] = [];
  const confidence: number[] = [];
  let lossSum = 0;
  const folded = foldedInferenceFor(model);
  try {
    for await (const batch of batches) {
      options.signal?.throwIfAborted();
      // Class index and probability side by side, then the batch's mean loss: one download per batch.
      const packed = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [batch.n, h, w, c]);
        const logits = folded ? folded.logits(x) : (model.apply(x, { training: false }) as tf.Tensor2D);
        const probs = tf.softmax(logits);
        const loss = crossEntropy(logits, tf.tensor1d(batch.y, 'int32'), classes).reshape([1]);
        return tf.concat([tf.stack([probs.argMax(1).toFloat(), probs.max(1)], 1).flatten(), loss]);
      });
      const data = await packed.data();
      packed.dispose();
      for (let i = 0; i < batch.n; i++) {
        labels.push(batch.y[i]);
        predicted.push(data[2 * i]);
        confidence.push(data[2 * i + 1]);
      }
      lossSum += data[2 * batch.n] * batch.n;
      options.onBatch?.(labels.length);
    }
  } finally {
    folded?.dispose();
  }
  return {
    labels: Int32Array.from(labels), predicted: Int32Array.from(predicted), confidence: Float32Array.from(confidence),
    loss: labels.length ? lossSum / labels.length : NaN,
  };
}

export function accuracyOf(labels: Int32Array, predicted: Int32Array): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) right++;
  return labels.length ? right / labels.length : 0;
}

export interface EvalResult {
  samples: number;
  /** Plain cross-entropy (no label smoothing), mean over samples. */
  loss: number;
  accuracy: number;
}

/** Loss and accuracy over every batch; NaN for both when there are none. */
export async function evaluate(model: tf.LayersModel, batches: AsyncIterable<Batch>): Promise<EvalResult> {
  const p = await predictBatches(model, batches);
  const samples = p.labels.length;
  return { samples, loss: p.loss, accuracy: samples ? accuracyOf(p.labels, p.predicted) : NaN };
}
