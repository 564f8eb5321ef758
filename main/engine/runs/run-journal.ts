import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainerEvent, TrainerEventOf } from '../../../shared/protocol';
import { isLive, shownEpoch } from '../../../shared/run/lifecycle';
import { initialRunState, reduceRun, type RunState } from '../../../shared/run/state';
import { writeCheckpoint, type CheckpointManifest, type CheckpointState } from './checkpoint';
import { METRICS_FILE, MetricsWriter } from './metrics-log';
import { LOCK_FILE, type RunConfigFile, type RunSummaryFile } from './run-files';
import { acquireRunLock, releaseRunLock } from './run-lock';
import {
  createRunAt, readRunConfig, readRunStatus, stateOfStatusFile, writeRunStatus,
  writeRunSummary, type NewRunConfig,
} from './run-store';

/**
 * The run folder as one trainer session writes it. Every event goes through `record`: appended to
 * metrics.jsonl, reduced into the run's state (shared/run/state.ts), and status.json rewritten
 * when the state says something new, all before the caller sends the event on, so whoever reacts to
 * an event finds the folder current and status.json says what the events say.
 *
 * Only a trainer writes a run folder this way. The one exception is `recordTrainerDeath`: a host
 * whose trainer died writes what the trainer no longer can.
 */
export class RunJournal {
  private readonly metrics: MetricsWriter;
  private current: RunState;
  private lastWritten = '';
  private closed = false;

  /** Creates the run folder (config.json), takes its lock and starts the session's record. */
  static create(dir: string, config: NewRunConfig, now = new Date()): RunJournal {
    const ref = createRunAt(dir, config, now);
    acquireRunLock(ref.dir);
    return new RunJournal(ref.dir, ref.config, initialRunState(ref.id, ref.config.settings.epochs));
  }

  /** Takes an existing run's lock and starts a new session of it (status `created`, its progress kept). */
  static reopen(dir: string): RunJournal {
    const config = readRunConfig(dir);
    acquireRunLock(dir);
    const stored = stateOfStatusFile(config.id, readRunStatus(dir), config.settings.epochs);
    // With the lock ours, a status still saying live was left by a trainer that died.
    return new RunJournal(path.resolve(dir), config, isLive(stored.status) ? { ...stored, status: 'interrupted' } : stored);
  }

  private constructor(readonly dir: string, readonly config: RunConfigFile, state: RunState) {
    try {
      this.metrics = new MetricsWriter(path.join(dir, METRICS_FILE));
    } catch (err) {
      releaseRunLock(dir);
      throw err;
    }
    this.current = state;
    // The session's first line: a replay of metrics.jsonl sees where each session begins.
    this.record({ type: 'state', state: 'created', runId: config.id });
  }

  get runId(): string {
    return this.config.id;
  }

  get state(): RunState {
    return this.current;
  }

  /** Appends the event, updates the run's state and, when that changed what status.json says, rewrites it. */
  record(event: TrainerEvent): void {
    try {
      this.metrics.append(event);
    } catch {
      // A full disk must not stop the events reaching the host; checkpoints report their own failures.
    }
    this.current = reduceRun(this.current, event);
    const s = this.current;
    // What the Runs list shows: status, reason and epoch; an epoch end also moves best and accuracy.
    const key = `${s.status}/${s.reason}/${shownEpoch(s)}/${event.type === 'epoch' ? s.step : ''}`;
    if (key !== this.lastWritten || event.type === 'finished') this.writeStatus(key);
  }

  /** Writes a checkpoint atomically (throws as writeCheckpoint does), then makes the log and status durable. */
  checkpoint(state: CheckpointState): CheckpointManifest {
    const manifest = writeCheckpoint(this.dir, state, { keep: this.config.settings.keepCheckpoints });
    this.metrics.sync();
    this.writeStatus(this.lastWritten);
    return manifest;
  }

  /** summary.json, written before the `finished` event is recorded. */
  writeSummary(summary: Omit<RunSummaryFile, 'id' | 'finished'>): void {
    writeRunSummary(this.dir, { id: this.runId, finished: new Date().toISOString(), ...summary });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.metrics.close();
    } finally {
      releaseRunLock(this.dir);
    }
  }

  private writeStatus(key: string): void {
    writeRunStatus(this.dir, this.current, { pid: isLive(this.current.status) ? process.pid : null, epochs: this.config.settings.epochs });
    this.lastWritten = key;
  }
}

/**
 * A host's record of its trainer's death during a run: what the trainer would have written, had it
 * lived. A run the dead trainer left live becomes `interrupted` (killed by a signal) or `failed`
 * (crashed): a fatal `error` and a `finished` event are appended to metrics.jsonl, status.json
 * follows from them, and the stale lock goes. Returns the `finished` event, for the host to pass
 * on; null when there was nothing to record (no run created yet, or it had ended).
 */
export function recordTrainerDeath(runDir: string, end: 'interrupted' | 'failed', message: string, pid?: number): TrainerEventOf<'finished'> | null {
  // A trainer killed while resuming holds the lock before it rewrites status.json; that lock is
  // stale now, and a later process reusing its pid would otherwise look like a live owner.
  if (pid !== undefined) releaseRunLock(runDir, pid);
  const status = readRunStatus(runDir);
  if (status === null || !isLive(status.status)) return null;
  const config = readRunConfig(runDir);
  let state = stateOfStatusFile(config.id, status, config.settings.epochs);
  const time = Date.now();
  const finished: TrainerEventOf<'finished'> = {
    type: 'finished', runId: config.id, reason: end, step: state.step, epoch: state.epoch,
    bestValAccuracy: state.best?.valAccuracy ?? null, message, time,
  };
  const events: TrainerEvent[] = [
    { type: 'error', runId: config.id, error: { name: 'TrainerExit', message, user: false }, fatal: true, time },
    finished,
  ];
  const writer = new MetricsWriter(path.join(runDir, METRICS_FILE));
  try {
    for (const e of events) {
      writer.append(e);
      state = reduceRun(state, e);
    }
  } finally {
    writer.close();
  }
  writeRunStatus(runDir, state, { pid: null, epochs: config.settings.epochs });
  fs.rmSync(path.join(runDir, LOCK_FILE), { force: true });
  return finished;
}
