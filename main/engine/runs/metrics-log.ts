import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { TrainerEventSchema, type TrainerEvent } from '../../../shared/protocol';

/**
 * `metrics.jsonl`: one event a line, append-only. Each line is self-validating,
 *   {"crc":"1a2b3c4d","len":123,"event":{...}}
 * where `crc` (CRC-32) and `len` are over the UTF-8 of JSON.stringify(event). A line torn by a
 * killed process (or a crash between write and flush) fails the check and is skipped on read, so a
 * partial line is never taken for a metric.
 */
export const METRICS_FILE = 'metrics.jsonl';

export function encodeMetricsLine(event: TrainerEvent): string {
  const body = JSON.stringify(event);
  const bytes = Buffer.from(body, 'utf8');
  const crc = crc32(bytes).toString(16).padStart(8, '0');
  return `{"crc":"${crc}","len":${bytes.length},"event":${body}}\n`;
}

/** What a line of an older run says in today's words; `undefined` for a line that no longer means anything. */
function upgradeLegacyEvent(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || (raw as { type?: unknown }).type !== 'state') return raw;
  // Before the run lifecycle (shared/run/lifecycle.ts) a starting run said `loading`, and the end of a
  // run was announced twice, by `finished` and by a `state` of finished or failed.
  const state = (raw as { state?: unknown }).state;
  if (state === 'loading') return { ...raw, state: 'created' };
  return state === 'finished' || state === 'failed' || state === 'idle' ? undefined : raw;
}

/**
 * The event of one line; null when the line is torn, corrupt or not a valid event, and `obsolete`
 * for a valid line of an older run that no longer carries information.
 */
function decodeLine(line: string): TrainerEvent | null | 'obsolete' {
  const m = /^\{"crc":"([0-9a-f]{8})","len":(\d+),"event":(.*)\}$/.exec(line);
  if (!m) return null;
  const body = m[3];
  const bytes = Buffer.from(body, 'utf8');
  if (bytes.length !== Number(m[2])) return null;
  if (crc32(bytes).toString(16).padStart(8, '0') !== m[1]) return null;
  let parsed: unknown;
  try {
    parsed = upgradeLegacyEvent(JSON.parse(body));
  } catch {
    return null;
  }
  if (parsed === undefined) return 'obsolete';
  const result = TrainerEventSchema.safeParse(parsed);
  return result.success ? result.data : null;
}

/** Returns the event of one line, or null when the line is torn, corrupt, obsolete or not a valid event. */
export function decodeMetricsLine(line: string): TrainerEvent | null {
  const event = decodeLine(line);
  return event === 'obsolete' ? null : event;
}

export interface MetricsReadResult {
  events: TrainerEvent[];
  /** Lines that failed their check (normally at most one: the line in flight when a writer died). */
  skipped: number;
  /**
   * Bytes of the file up to the end of its last complete line: where a reader following the file
   * (./metrics-follower) goes on from, so it neither misses nor repeats a line a writer is appending.
   */
  end: number;
}

export function readMetricsFile(file: string): MetricsReadResult {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], skipped: 0, end: 0 };
    throw err;
  }
  const end = buf.lastIndexOf(0x0a) + 1;
  const events: TrainerEvent[] = [];
  let skipped = 0;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    if (line === '') continue;
    const event = decodeLine(line);
    if (event === 'obsolete') continue;
    if (event) events.push(event);
    else skipped++;
  }
  // A last line without its newline is one a writer is still appending, or one torn by a killed writer.
  if (end < buf.length) skipped++;
  return { events, skipped, end };
}

/**
 * Appends events with one write(2) each, so every event is in the kernel's page cache as soon as
 * `append` returns and survives the writer being killed. Epoch ends, checkpoints and the end of a
 * run are also fsynced (`sync`), which bounds what a power cut can lose to the current epoch's steps.
 */
export class MetricsWriter {
  private fd: number | null;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
    this.repairTornTail();
  }

  append(event: TrainerEvent): void {
    if (this.fd === null) throw new Error(`The metrics log ${this.file} is closed.`);
    fs.writeSync(this.fd, encodeMetricsLine(event));
  }

  sync(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === null) return;
    try { fs.fsyncSync(this.fd); } finally {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  /**
   * A writer killed mid-line leaves a line without its newline; appending straight after it would
   * glue the next (good) event onto the torn one and lose both. Start on a fresh line instead.
   */
  private repairTornTail(): void {
    const size = fs.fstatSync(this.fd!).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    const rfd = fs.openSync(this.file, 'r');
    try {
      fs.readSync(rfd, last, 0, 1, size - 1);
    } finally {
      fs.closeSync(rfd);
    }
    if (last[0] !== 0x0a) fs.writeSync(this.fd!, '\n');
  }
}
