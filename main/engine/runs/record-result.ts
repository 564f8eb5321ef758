import * as path from 'node:path';
import type { TrainerEvent } from '../../../shared/protocol';
import { METRICS_FILE, MetricsWriter } from './metrics-log';

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
