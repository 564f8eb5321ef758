import type { LiveStatus } from '../../../shared/run/lifecycle';

/**
 * Pause / resume / stop / snapshot for a running loop, acted on between steps (a step itself is one
 * synchronous tfjs computation and cannot be cut). Like an AbortController, but with a pause state:
 * the host side calls the commands, the loop awaits `gate()` before every step.
 */
export type ControlState = Extract<LiveStatus, 'running' | 'paused' | 'stopping'>;
/** Why a run is being stopped: the user asked, or the process must go (host gone, SIGTERM). */
export type StopCause = 'user' | 'host-lost' | 'terminated';
export type GateAction = 'go' | 'stop' | 'snapshot';

export class TrainControl {
  private state: ControlState = 'running';
  private cause: StopCause = 'user';
  private snapshotPending = false;
  private pauseAnnounced = false;
  private holds = 0;
  private wake: (() => void) | null = null;
  private readonly listeners: ((state: ControlState) => void)[] = [];

  get current(): ControlState {
    return this.state;
  }

  get stopRequested(): boolean {
    return this.state === 'stopping';
  }

  /** Why stop() was called (meaningful once stopRequested). */
  get stopCause(): StopCause {
    return this.cause;
  }

  /** Called with 'paused' once the loop has actually stopped between steps, and on every change after. */
  onChange(listener: (state: ControlState) => void): void {
    this.listeners.push(listener);
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    if (this.pauseAnnounced) {
      this.pauseAnnounced = false;
      this.emit('running');
    }
    this.poke();
  }

  stop(cause: StopCause = 'user'): void {
    if (this.state === 'stopping') return;
    this.cause = cause;
    this.state = 'stopping';
    this.poke();
  }

  /** Asks for a checkpoint at the next step boundary; honoured while paused too. */
  requestSnapshot(): void {
    this.snapshotPending = true;
    this.poke();
  }

  /**
   * Runs `fn` with the loop held between steps (without a pause state or event): for work that
   * must not interleave with training steps, such as an ablation that zeroes a layer's weights.
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      return await fn();
    } finally {
      this.holds--;
      this.poke();
    }
  }

  /** Awaited by the loop before each step: returns when the loop may go on, must stop, or must snapshot. */
  async gate(): Promise<GateAction> {
    for (;;) {
      if (this.snapshotPending) {
        this.snapshotPending = false;
        return 'snapshot';
      }
      if (this.state === 'stopping') return 'stop';
      if (this.state === 'running' && this.holds === 0) return 'go';
      if (this.state === 'paused' && !this.pauseAnnounced) {
        this.pauseAnnounced = true;
        this.emit('paused');
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private emit(state: ControlState): void {
    for (const l of this.listeners) l(state);
  }
}
