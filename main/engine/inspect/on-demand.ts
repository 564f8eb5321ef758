import { toErrorData } from '../../../shared/errors';
import type { InspectWhat, TrainerEvent } from '../../../shared/protocol';
import { InspectionCancelled } from './ablation-overview';
import type { Inspector } from './inspector';

/**
 * Inspection on request (the `inspect` and `inspectRun` commands): runs one request on an
 * Inspector and reports it as events, so a host and the UI see every request end:
 *   - `inspectProgress` while a long one (ablation, evaluation) runs, at most ~10 a second;
 *   - the result event (`layerStats`, `gradients`, `contributions`, `activations`, `ablation`,
 *     `evaluation`);
 *   - exactly one `inspectDone`: ok, or the error as data (`{name, message}`), or cancelled.
 * Never throws. Requests with an id can be cancelled; cancellation takes effect at the next chunk.
 */
export interface InspectRequest {
  what: InspectWhat;
  sample?: number;
  requestId?: string;
}

export interface OnDemandOptions {
  runId: string;
  emit(event: TrainerEvent): void;
  now?: () => number;
  /** Least milliseconds between two progress events of one request. Default 100. */
  progressEveryMs?: number;
}

export class OnDemandInspection {
  private readonly running = new Map<string, AbortController>();
  private readonly now: () => number;

  constructor(private readonly inspector: Inspector, private readonly options: OnDemandOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /** Stops the request `requestId` if it is running; false when it is not (already done, or unknown). */
  cancel(requestId: string): boolean {
    const c = this.running.get(requestId);
    c?.abort();
    return c !== undefined;
  }

  /** Cancels every request in progress (the run is going away). */
  cancelAll(): void {
    for (const c of this.running.values()) c.abort();
  }

  async run(request: InspectRequest): Promise<void> {
    const { runId, emit } = this.options;
    const { what, requestId } = request;
    const ids = requestId !== undefined ? { requestId } : {};
    const started = this.now();
    const abort = new AbortController();
    if (requestId !== undefined) this.running.set(requestId, abort);
    let last = -Infinity;
    const onProgress = (done: number, total: number, message: string) => {
      const t = this.now();
      if (t - last < (this.options.progressEveryMs ?? 100) && done < total) return;
      last = t;
      emit({ type: 'inspectProgress', runId, ...ids, what, done, total, message, time: t });
    };
    const work = { signal: abort.signal, onProgress };
    const done = (extra: { ok: boolean; cancelled?: boolean; error?: { name: string; message: string; user?: boolean } }) =>
      emit({ type: 'inspectDone', runId, ...ids, what, ...extra, seconds: (this.now() - started) / 1000, time: this.now() });
    try {
      let event: TrainerEvent | null;
      switch (what) {
        case 'stats': event = await this.inspector.stats(false); break;
        case 'gradients': event = await this.inspector.gradients(); break;
        case 'contributions': event = await this.inspector.contributions(); break;
        case 'activations': event = await this.inspector.activations(request.sample ?? 0); break;
        case 'ablation': event = await this.inspector.ablation(work); break;
        case 'evaluation': event = await this.inspector.evaluation(16, work); break;
      }
      if (!event) {
        const why = `This run has no validation split to compute ${what} on.`;
        done({ ok: false, error: { name: 'WorkbenchError', message: why, user: true } });
        return;
      }
      emit(event);
      done({ ok: true });
    } catch (err) {
      if (err instanceof InspectionCancelled || abort.signal.aborted) {
        done({ ok: false, cancelled: true, error: { name: 'InspectionCancelled', message: `The ${what} request was cancelled.`, user: true } });
      } else {
        // Range checks of the inspectors (a sample past the split, no validation split) are the user's to fix.
        const data = toErrorData(err, false);
        done({ ok: false, error: { name: data.name, message: data.message, user: data.user ?? err instanceof RangeError } });
      }
    } finally {
      if (requestId !== undefined) this.running.delete(requestId);
    }
  }
}
