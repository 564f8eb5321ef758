import * as fs from 'node:fs';
import type { TrainerEvent } from '../../../shared/protocol';
import { decodeMetricsLine } from './metrics-log';

/**
 * Follows a run's metrics.jsonl as another process appends to it: a trainer on another machine
 * writing to a shared run folder (torchrun across machines, or `python3 -m densenet_torch --run`),
 * or on this one but not started by this host. It polls the file's size rather than watching it:
 * change notifications do not cross network file systems (NFS, SMB), where shared run folders live.
 * Only complete lines are decoded; a line being written stays in the buffer until its newline comes.
 */
export class MetricsFollower {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly file: string,
    private readonly onEvents: (events: TrainerEvent[]) => void,
    /** Start after what the file holds now, from its beginning, or at a byte offset (readMetricsFile's `end`). */
    from: 'end' | 'start' | number = 'end',
  ) {
    this.offset = from === 'end' ? this.size() : from === 'start' ? 0 : from;
  }

  private size(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  /** Reads what was appended since the last call; returns the new events (also given to onEvents). */
  poll(): TrainerEvent[] {
    const size = this.size();
    if (size < this.offset) {
      // Replaced or truncated (a run folder copied over): start again from the top.
      this.offset = 0;
      this.partial = '';
    }
    if (size === this.offset) return [];
    const fd = fs.openSync(this.file, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      text = this.partial + buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const events = lines.flatMap((line) => {
      const e = line ? decodeMetricsLine(line) : null;
      return e ? [e] : [];
    });
    if (events.length > 0) this.onEvents(events);
    return events;
  }

  start(intervalMs = 500): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.poll();
      } catch { /* the folder went away for a moment (a network share): try again next time */ }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
