import type { TrainerEvent } from '../../shared/protocol';

/**
 * Events that are valid one by one but cannot follow what came before: a second `ready`, a step
 * that does not move forward, an epoch that comes back, an event of another run than the one the
 * host started, a step or epoch after the run finished. A trainer in another language (the
 * PyTorch engine) or a buggy one could send them; the host refuses each with this reason, keeps
 * the rest, and stays up. `track` starts a new run (a start or a resume: its steps may begin
 * below those of the session before); the run's steps and epochs are checked only once one is.
 */
export class EventOrder {
  private ready = false;
  private runId: string | null = null;
  private lastStep = -1;
  private lastEpoch = -1;
  private finished = false;

  track(runId: string): void {
    this.runId = runId;
    this.lastStep = -1;
    this.lastEpoch = -1;
    this.finished = false;
  }

  /** Null when `e` may follow the events before it; else why not. Accepted events are recorded. */
  check(e: TrainerEvent): string | null {
    if (e.type === 'ready') {
      if (this.ready) return 'out of order: a second ready event from the same trainer';
      this.ready = true;
      return null;
    }
    const runId = 'runId' in e ? e.runId : undefined;
    const ofRun = e.type === 'step' || e.type === 'epoch' || e.type === 'finished' || e.type === 'state';
    if (this.runId !== null && ofRun && runId !== undefined && runId !== this.runId) {
      return `out of order: a ${e.type} event of run ${runId} while run ${this.runId} trains`;
    }
    // Until a run is started or resumed there is no sequence to check (an inspection worker, a test).
    if (this.runId !== null && (e.type === 'step' || e.type === 'epoch')) {
      if (this.finished) return `out of order: a ${e.type} event after run ${this.runId} finished`;
      if (e.type === 'step') {
        if (e.step <= this.lastStep) return `out of order: step ${e.step} after step ${this.lastStep}`;
        this.lastStep = e.step;
      } else {
        if (e.epoch <= this.lastEpoch) return `out of order: epoch ${e.epoch + 1} reported after epoch ${this.lastEpoch + 1}`;
        if (e.step < this.lastStep) return `out of order: epoch ${e.epoch + 1} ends at step ${e.step}, before step ${this.lastStep}`;
        this.lastEpoch = e.epoch;
      }
    }
    if (e.type === 'finished' && (this.runId === null || runId === this.runId)) this.finished = true;
    return null;
  }
}
