import type { z } from 'zod';
import type { API_METHODS } from '../../shared/api';
import { WorkbenchError } from '../../shared/errors';
import type { TrainerEvent } from '../../shared/protocol';
import { statusLabel, type FinishReason, type RunStatus } from '../../shared/run/lifecycle';
import { InspectJobs, newRequestId } from './inspect-jobs';
import type { TrainerPort } from './ports';

/**
 * Where an inspection request goes. The live run (running or paused) is inspected by its own
 * trainer, between steps, on its current weights; any other run by a short-lived worker from a
 * checkpoint (./inspect-jobs). Either way the answer is a request id that its progress and end
 * events carry, and that `cancel` takes.
 */
type InspectRequest = z.output<typeof API_METHODS.inspect.request>;

/** What the router needs to know of the host's live run, when there is one. */
export interface LiveRun {
  runId: string;
  status: RunStatus;
  reason: FinishReason | null;
  trainer: Pick<TrainerPort, 'send'>;
}

export interface InspectRouterOptions {
  spawn(): TrainerPort;
  emit(event: TrainerEvent): void;
  /** The folder of a stored run; throws a user error when there is no such run. */
  runDir(runId: string): Promise<string>;
}

export class InspectRouter {
  private readonly jobs: InspectJobs;
  /** Requests the live trainer is answering, until their inspectDone. */
  private readonly live = new Set<string>();

  constructor(private readonly options: InspectRouterOptions) {
    this.jobs = new InspectJobs({ spawn: options.spawn, emit: options.emit });
  }

  async inspect(r: InspectRequest, live: LiveRun | null): Promise<{ requestId: string }> {
    const runId = r.runId ?? live?.runId ?? null;
    if (!runId) throw new WorkbenchError('Say which run to inspect: no run is training.');
    const sample = r.sample !== undefined ? { sample: r.sample } : {};
    if (live && live.runId === runId) {
      if (live.status !== 'running' && live.status !== 'paused') {
        throw new WorkbenchError(`Run ${runId} is ${statusLabel(live.status, live.reason)}; ask again once it is running or paused.`);
      }
      const requestId = newRequestId();
      this.live.add(requestId);
      live.trainer.send({ type: 'inspect', what: r.what, ...sample, requestId });
      return { requestId };
    }
    const runDir = await this.options.runDir(runId);
    return { requestId: this.jobs.start({ runId, runDir, what: r.what, checkpoint: r.checkpoint ?? 'best', ...sample }) };
  }

  cancel(requestId: string, live: LiveRun | null): void {
    if (this.jobs.cancel(requestId)) return;
    if (live && this.live.has(requestId)) {
      live.trainer.send({ type: 'cancelInspect', requestId });
      return;
    }
    throw new WorkbenchError(`No inspection ${requestId} is in progress; it may have finished already.`);
  }

  /** Every event of the live trainer: a request it answered is over. */
  observe(event: TrainerEvent): void {
    if (event.type === 'inspectDone' && event.requestId) this.live.delete(event.requestId);
  }

  dispose(): void {
    this.jobs.dispose();
  }
}
