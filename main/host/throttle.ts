/**
 * Throttles and coalesces trainer events on their way to a UI (docs/architecture.md, "Processes and
 * data flow").
 *
 * A trainer may emit hundreds of step events a second on a fast backend; a chart needs ~20 updates a
 * second at most. The throttle groups events into batches and hands at most one batch per window to
 * `deliver` (one IPC or WebSocket message per batch), so the bound holds however fast events arrive:
 *   - droppable events (step, intermediate layer stats, gradients) are coalesced by key: within a
 *     window only the latest event of each key survives;
 *   - events that must never be lost (epoch-level ones, errors, lifecycle; see `mustDeliver`) are
 *     always delivered, in arrival order, in the next batch.
 *
 * The run store appends every event to metrics.jsonl without throttling; this only shapes the live
 * view. The clock and the timer are injected, as tfjs-layers' base_callbacks injects `nowFunc`, so
 * tests control time. Written by hand: no library coalesces by key with a must-deliver class.
 */

import { NEVER_DROPPED, TrainerEventSchema } from '../../shared/protocol';

/** The shape the throttle needs from an event; every TrainerEvent fits. */
export interface ThrottleEvent {
  type: string;
  /** layerStats computed at an epoch end carry `epochEnd: true` and are never dropped either. */
  epochEnd?: boolean;
}

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface ThrottleOptions<E extends ThrottleEvent> {
  /** Receives one batch per window, never empty. */
  deliver: (batch: E[]) => void;
  /** Batches per second at most. Default 20: smooth for a chart, and cheap over IPC or a WebSocket. */
  maxPerSecond?: number;
  /** True for events that must never be dropped. Default: `mustDeliver`. */
  keep?: (event: E) => boolean;
  /** Coalescing key of a droppable event: the latest event per key wins. Default: its `type`. */
  keyOf?: (event: E) => string;
  /** Default: Date.now and setTimeout. */
  clock?: Clock;
}

/**
 * The trainer event types the throttle may coalesce: every type of the protocol that is not in
 * NEVER_DROPPED (step, layerStats, gradients). Derived, so a new event type is kept by default.
 */
export const COALESCED_TYPES: ReadonlySet<string> = new Set(
  TrainerEventSchema.options.map((o) => o.shape.type.value as string).filter((t) => !NEVER_DROPPED.has(t as never)),
);

/**
 * Whether an event must reach the UI: anything but a coalescable type, and epoch-end layer stats.
 * Host-level events (trainerExit, runsChanged, ...) are not trainer types, so they are always kept.
 */
export function mustDeliver(event: ThrottleEvent): boolean {
  return !COALESCED_TYPES.has(event.type) || event.epochEnd === true;
}

interface Pending<E> {
  event: E;
  /** Coalescing key, or null for an event that is never dropped. */
  key: string | null;
}

export class EventThrottle<E extends ThrottleEvent> {
  private readonly deliver: (batch: E[]) => void;
  private readonly intervalMs: number;
  private readonly keep: (event: E) => boolean;
  private readonly keyOf: (event: E) => string;
  private readonly clock: Clock;
  private pending: Pending<E>[] = [];
  private lastDelivery = Number.NEGATIVE_INFINITY;
  private timer: unknown = null;
  private closed = false;
  /** Droppable events replaced by a later one of the same key; for tests and diagnostics. */
  dropped = 0;

  constructor(options: ThrottleOptions<E>) {
    const rate = options.maxPerSecond ?? 20;
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new RangeError(`maxPerSecond must be a finite number > 0; got ${rate}.`);
    }
    this.deliver = options.deliver;
    this.intervalMs = 1000 / rate;
    this.keep = options.keep ?? mustDeliver;
    this.keyOf = options.keyOf ?? ((e) => e.type);
    this.clock = options.clock ?? systemClock;
  }

  push(event: E): void {
    if (this.closed) throw new Error(`The event throttle is closed; cannot push a '${event.type}' event.`);
    if (this.keep(event)) {
      this.pending.push({ event, key: null });
    } else {
      const key = this.keyOf(event);
      const at = this.pending.findIndex((p) => p.key === key);
      // The replacement goes to the end, so it stays after any kept event that arrived before it.
      if (at >= 0) {
        this.pending.splice(at, 1);
        this.dropped++;
      }
      this.pending.push({ event, key });
    }
    this.schedule();
  }

  /** Delivers whatever is pending now, ignoring the rate (for a host that is shutting down). */
  flush(): void {
    if (this.timer !== null) {
      this.clock.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending.map((p) => p.event);
    this.pending = [];
    this.lastDelivery = this.clock.now();
    this.deliver(batch);
  }

  /** Flushes and refuses further events. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = this.lastDelivery + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }
}
