import * as path from 'node:path';
import type { TrainerEvent, TrainerEventOf } from '../../../shared/protocol';
import type { DataSplit } from '../data/types';
import { METRICS_FILE, MetricsWriter } from '../runs/metrics-log';
import type { DetailedEvalResult } from '../train/evaluate';
import { mistakeDetails } from './mistakes';

/**
 * Results worth keeping with a run that is not training: evaluations and ablations computed later
 * (`eval`, `inspect --evaluation`, the UI's Evaluate on a finished run). They are appended to the
 * run's metrics.jsonl like every event of a live run, so the run reopens with them and its report
 * shows them. Each carries the checkpoint it was computed from. Activation maps and stats of a
 * checkpoint are views, not history, and are not recorded.
 */
export const RECORDED_TYPES: ReadonlySet<TrainerEvent['type']> = new Set(['evaluation', 'ablation']);

export function recordResult(runDir: string, event: TrainerEvent): void {
  if (!RECORDED_TYPES.has(event.type)) return;
  const writer = new MetricsWriter(path.join(runDir, METRICS_FILE));
  try {
    writer.append(event);
  } finally {
    writer.close();
  }
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
