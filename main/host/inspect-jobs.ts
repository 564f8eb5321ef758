import type { HostEvent } from '../../shared/api';
import { WorkbenchError } from '../../shared/errors';
import type { InspectWhat } from '../../shared/protocol';
import type { TrainerPort } from './ports';

/**
 * Inspection of runs that are not training, each request in its own short-lived trainer process
 * (main/engine/run/inspect-worker.ts): the host starts it, sends one `inspectRun`, passes its events on,
 * and closes it once `inspectDone` arrives. The host never loads a model or a dataset itself, so
 * an ablation of minutes leaves the UI and the live run untouched. Whatever happens (a worker that
 * crashes, is killed, or is cancelled) the request ends with exactly one `inspectDone`.
 */
export interface InspectJobRequest {
  runId: string;
  runDir: string;
  what: InspectWhat;
  checkpoint: string;
  sample?: number;
}

interface Job {
  request: InspectJobRequest;
  port: TrainerPort;
  done: boolean;
  cancelTimer: ReturnType<typeof setTimeout> | null;
}

export interface InspectJobsOptions {
  spawn(): TrainerPort;
  emit(event: HostEvent): void;
  /** Workers at once; more requests are refused with a sentence. Default 2 (one per core here). */
  maxWorkers?: number;
  /** How long a cancelled worker may take to say so before it is killed. Default 3 s. */
  cancelGraceMs?: number;
  now?: () => number;
}

let counter = 0;
/** Request ids: unique within a host, safe in file names and logs. */
export function newRequestId(): string {
  counter = (counter + 1) % 1e6;
  return `i${Date.now().toString(36)}-${counter.toString(36)}`;
}

export class InspectJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly now: () => number;

  constructor(private readonly options: InspectJobsOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  get running(): number {
    return this.jobs.size;
  }

  start(request: InspectJobRequest, requestId = newRequestId()): string {
    const max = this.options.maxWorkers ?? 2;
    if (this.jobs.size >= max) {
      const busy = [...this.jobs.values()].map((j) => `${j.request.what} of ${j.request.runId}`).join(', ');
      throw new WorkbenchError(`${this.jobs.size} inspections are already running (${busy}); wait for one to finish or cancel it.`);
    }
    const port = this.options.spawn();
    const job: Job = { request, port, done: false, cancelTimer: null };
    this.jobs.set(requestId, job);
    port.onEvent((event) => {
      if (event.type === 'ready' || event.type === 'state') return;
      // Worker logs carry no run id; on screen they would join the live run's log. Results and
      // progress name their run.
      if (event.type === 'log') return;
      if (event.type === 'inspectDone' && event.requestId === requestId) this.finish(requestId);
      this.options.emit(event);
    });
    port.onExit(({ code, signal }) => {
      if (job.done) return;
      const cancelled = job.cancelTimer !== null;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.finish(requestId);
      this.options.emit({
        type: 'inspectDone', runId: request.runId, requestId, what: request.what, ok: false,
        ...(cancelled ? { cancelled: true } : {}),
        error: cancelled
          ? { name: 'InspectionCancelled', message: `The ${request.what} request was cancelled.`, user: true }
          : { name: 'WorkerExit', message: `The inspection worker ${how} before answering the ${request.what} request for run ${request.runId}.`, user: false },
        time: this.now(),
      });
    });
    try {
      port.send({
        type: 'inspectRun', runDir: request.runDir, checkpoint: request.checkpoint, what: request.what, requestId,
        ...(request.sample !== undefined ? { sample: request.sample } : {}),
      });
    } catch (err) {
      this.jobs.delete(requestId);
      port.kill();
      throw err;
    }
    return requestId;
  }

  /** Asks the worker to stop; kills it if it has not answered within the grace period. False when no such request runs. */
  cancel(requestId: string): boolean {
    const job = this.jobs.get(requestId);
    if (!job || job.done) return false;
    if (job.cancelTimer) return true;
    job.cancelTimer = setTimeout(() => job.port.kill(), this.options.cancelGraceMs ?? 3000);
    try {
      job.port.send({ type: 'cancelInspect', requestId });
    } catch {
      job.port.kill();
    }
    return true;
  }

  /** Ends every worker (the host is closing). */
  dispose(): void {
    for (const [id, job] of this.jobs) {
      this.finish(id);
      job.port.kill();
    }
  }

  private finish(requestId: string): void {
    const job = this.jobs.get(requestId);
    if (!job || job.done) return;
    job.done = true;
    if (job.cancelTimer) clearTimeout(job.cancelTimer);
    this.jobs.delete(requestId);
    // The worker has answered: let it exit (it has nothing to save).
    if (job.port.close) void job.port.close(2000).catch(() => job.port.kill());
    else job.port.kill();
  }
}
