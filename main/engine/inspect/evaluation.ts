import type * as tf from '@tensorflow/tfjs';
import type { TrainerEventOf } from '../../../shared/protocol';
import type { DataSplit } from '../data/types';
import type { Batch } from '../data/batches';
import { accuracyOf, predictAll, type Predictions } from '../train/evaluate';
import { mistakeDetails } from './mistakes';

/**
 * Evaluation: predictions over a labelled split (main/engine/train/evaluate.ts, the one prediction
 * loop), then the confusion matrix, per-class precision/recall/accuracy and the most confidently
 * misclassified samples. The CLI's `eval`, the UI's Evaluation view and the run report use it, so
 * they agree on one definition.
 */

/** A split that can be walked more than once (ablation evaluates it once per layer), in a fixed order. */
export type EvalBatches = () => AsyncIterable<Batch>;

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
export function evaluationMetrics(p: Omit<Predictions, 'loss'>, classCount: number, topMisclassified = 16): EvaluationResult {
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
    for (let start = 0, batch = 0; start < labels.length; start += batchSize, batch++) {
      const end = Math.min(labels.length, start + batchSize);
      const indices = Array.from({ length: end - start }, (_, k) => start + k);
      yield { x: images.subarray(start * per, end * per), y: labels.subarray(start, end), indices, n: end - start, batch };
    }
  };
}

/** `evaluationMetrics` of a model over a split, with its loss and the class names. */
export interface DetailedEvalResult extends EvaluationResult {
  samples: number;
  /** Plain cross-entropy (no label smoothing), mean over samples. */
  loss: number;
  classes: string[];
}

export async function evaluateDetailed(model: tf.LayersModel, batches: AsyncIterable<Batch>, classNames: string[]): Promise<DetailedEvalResult> {
  const p = await predictAll(model, batches);
  return { samples: p.labels.length, loss: p.loss, classes: classNames, ...evaluationMetrics(p, classNames.length) };
}

/**
 * `eval`'s result as the evaluation event it records: named by its checkpoint and what it
 * evaluated, with file names and thumbnails of the mistakes. `splits` are the splits evaluated, in
 * the order their samples were walked, so a mistake's index finds its image.
 */
export async function evaluationEvent(
  result: DetailedEvalResult,
  at: { runId: string; step: number; checkpoint: string; split: string; splits: readonly DataSplit[] },
): Promise<TrainerEventOf<'evaluation'>> {
  const locate = (index: number): { split: DataSplit; local: number } | null => {
    let offset = 0;
    for (const split of at.splits) {
      if (index < offset + split.size) return { split, local: index - offset };
      offset += split.size;
    }
    return null;
  };
  const misclassified = await Promise.all(result.misclassified.map(async (m) => {
    const where = locate(m.index);
    const [details] = where ? await mistakeDetails(where.split, [where.local]) : [{}];
    return { ...m, ...details };
  }));
  return {
    type: 'evaluation', runId: at.runId, step: at.step, classes: [...result.classes], accuracy: result.accuracy,
    confusion: result.confusion, perClass: result.perClass, misclassified, checkpoint: at.checkpoint, split: at.split,
    loss: result.loss, time: Date.now(),
  };
}
