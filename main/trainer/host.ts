import * as path from 'node:path';
import type { DenseNetConfig } from '../../shared/config';
import {
  TrainerCommandSchema, TrainerEventSchema,
  type TrainerCommand, type TrainerEvent, type TrainerEventOf,
} from '../../shared/protocol';
import type { StartFrom } from '../../shared/start-from';
import type { DatasetSpec, TrainSettings } from '../../shared/training';
import { WorkbenchError } from '../../shared/errors';
import { isLive } from '../../shared/run/lifecycle';
import { initialRunState, reduceRun, type RunState } from '../../shared/run/state';
import { takeFatalNote } from '../engine/backend/wasm/fatal-note';
import { recordTrainerDeath } from '../engine/runs/run-journal';
import { allocateRunDir } from '../engine/runs/run-store';
import type { TrainerChannel, TrainerExit } from './channel';
import { EventOrder } from './event-order';
import { forkTrainer, type ForkOptions } from './fork';

/**
 * The host side of one trainer process: typed commands out, validated events in, and a crash of
 * the process reported (and recorded in the run store) instead of taking the host down.
 *
 * Usage (CLI, serve; Electron passes its utilityProcess channel instead of forkTrainer()):
 *
 *   const host = new TrainerHost(forkTrainer());
 *   host.on('event', (e) => { if (e.type === 'step') draw(e.loss); });      // every validated event
 *   host.on('exit', (x) => { if (!x.finished) warn(x.message); });          // crash, SIGKILL, OOM
 *   await host.ready;                                                       // the trainer said `ready`
 *   const { runId, runDir } = host.start({ runsDir: 'runs', model, settings, dataset });
 *   host.pause(); host.resume(); host.snapshot(); host.inspect('evaluation');
 *   host.stop();                                                            // checkpoint, then `finished`
 *   const end = await host.finished();                                      // finished event or exit
 *   await host.close();                                                     // disconnect; the process exits
 *
 *   host.resumeRun(runDir);  // continue a stopped/interrupted run from its latest checkpoint
 *
 * The host picks the new run's folder; the trainer creates and writes it, appending every event to
 * its metrics.jsonl itself, so nothing is lost if the host dies. When the trainer dies instead, the
 * host records what the trainer no longer can: the run ends `interrupted` (killed by a signal) or
 * `failed` (exited with a code), with an `error` and a `finished` event in its metrics.jsonl, and
 * that `finished` event is passed to the listeners too, so every view of the run sees the same end.
 */
export interface HostExit extends TrainerExit {
  runId: string | null;
  runDir: string | null;
  /** True when the run had finished (or none was started): an orderly exit. */
  finished: boolean;
  /** A sentence for the user. */
  message: string;
}

export interface TrainerHostEvents {
  ready: TrainerEventOf<'ready'>;
  /** Every validated event, `ready` included, and the `finished` the host records when its trainer dies. */
  event: TrainerEvent;
  /** A message from the trainer that failed validation (dropped). */
  invalid: { message: unknown; reason: string };
  exit: HostExit;
}

type Listener<K extends keyof TrainerHostEvents> = (payload: TrainerHostEvents[K]) => void;

export interface StartOptions {
  /** Root of the run store; the run gets a new folder under it. */
  runsDir: string;
  name?: string;
  model: DenseNetConfig;
  settings: TrainSettings;
  dataset: DatasetSpec;
  /** Pretrained weights to start from (shared/start-from.ts); default scratch. */
  startFrom?: StartFrom;
}

export class TrainerHost {
  /** Resolves with the trainer's `ready` event; rejects if the process exits first. */
  readonly ready: Promise<TrainerEventOf<'ready'>>;
  private readonly listeners: { [K in keyof TrainerHostEvents]: Listener<K>[] } = { ready: [], event: [], invalid: [], exit: [] };
  private runDir: string | null = null;
  /** The current run as its events leave it (shared/run/state.ts). */
  private run: RunState | null = null;
  private lastFinished: TrainerEventOf<'finished'> | null = null;
  private exitInfo: HostExit | null = null;
  private finishWaiters: ((r: TrainerEventOf<'finished'> | HostExit) => void)[] = [];
  /** Events valid one by one may still not follow the ones before (./event-order): refused too. */
  private readonly order = new EventOrder();

  constructor(private readonly channel: TrainerChannel) {
    this.ready = new Promise((resolve, reject) => {
      this.on('ready', resolve);
      this.on('exit', (x) => reject(new WorkbenchError(`The trainer process ended before it was ready: ${x.message}`, { user: false })));
    });
    this.ready.catch(() => undefined);
    channel.onMessage((message) => this.receive(message));
    channel.onExit((exit) => this.exited(exit));
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof TrainerHostEvents>(name: K, listener: Listener<K>): () => void {
    const list = this.listeners[name] as Listener<K>[];
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  get pid(): number | undefined {
    return this.channel.pid;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  get currentRun(): { runId: string; runDir: string } | null {
    return this.run?.runId && this.runDir ? { runId: this.run.runId, runDir: this.runDir } : null;
  }

  /** The current run's state, null before the first start. */
  get runState(): RunState | null {
    return this.run;
  }

  /** Sends a command after validating it (a bug on the host side fails here, not in the trainer). */
  send(command: TrainerCommand): void {
    const parsed = TrainerCommandSchema.safeParse(command);
    if (!parsed.success) throw new WorkbenchError(`Refusing to send an invalid ${String((command as { type?: unknown }).type)} command: ${parsed.error.issues[0]?.message}.`, { user: false });
    this.sendRaw(parsed.data);
  }

  /** Sends anything, unvalidated: for tests of the trainer's own validation. */
  sendRaw(message: unknown): void {
    if (this.exitInfo) throw new WorkbenchError(`The trainer process has exited (${this.exitInfo.message}); start a new one.`, { user: false });
    this.channel.send(message);
  }

  /**
   * Starts a new run in a fresh folder under `runsDir`, which the trainer creates once the data has
   * loaded; returns its id and folder at once.
   */
  start(options: StartOptions): { runId: string; runDir: string } {
    const dir = allocateRunDir(options.runsDir, options.model.variant);
    this.track(dir, options.settings.epochs);
    this.send({
      type: 'start', runDir: dir, ...(options.name !== undefined ? { name: options.name } : {}), model: options.model, settings: options.settings, dataset: options.dataset,
      ...(options.startFrom && options.startFrom.kind !== 'scratch' ? { startFrom: options.startFrom } : {}),
    });
    return { runId: path.basename(dir), runDir: dir };
  }

  /** Continues a stopped, interrupted or failed run from its latest good checkpoint. */
  resumeRun(runDir: string): { runId: string; runDir: string } {
    const dir = path.resolve(runDir);
    this.track(dir, null);
    this.send({ type: 'resumeRun', runDir: dir });
    return { runId: path.basename(dir), runDir: dir };
  }

  pause(): void { this.send({ type: 'pause' }); }
  resume(): void { this.send({ type: 'resume' }); }
  stop(): void { this.send({ type: 'stop' }); }
  snapshot(): void { this.send({ type: 'snapshot' }); }
  inspect(what: Extract<TrainerCommand, { type: 'inspect' }>['what'], sample?: number): void {
    this.send({ type: 'inspect', what, ...(sample !== undefined ? { sample } : {}) });
  }

  /** Resolves with the current run's `finished` event, or with the exit if the process dies first. */
  finished(): Promise<TrainerEventOf<'finished'> | HostExit> {
    if (this.lastFinished) return Promise.resolve(this.lastFinished);
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    return new Promise((resolve) => this.finishWaiters.push(resolve));
  }

  /**
   * Ends the trainer: closes the channel so it exits (after checkpointing a run still in progress),
   * and SIGKILLs it if it has not exited within `graceMs`.
   */
  async close(graceMs = 30_000): Promise<HostExit> {
    if (this.exitInfo) return this.exitInfo;
    const exited = new Promise<HostExit>((resolve) => this.on('exit', resolve));
    if (this.channel.disconnect) this.channel.disconnect();
    else this.channel.kill('SIGTERM');
    const timer = setTimeout(() => this.channel.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.channel.kill(signal);
  }

  private track(runDir: string, epochs: number | null): void {
    this.order.track(path.basename(runDir));
    this.runDir = runDir;
    this.run = initialRunState(path.basename(runDir), epochs);
    this.lastFinished = null;
  }

  private emit<K extends keyof TrainerHostEvents>(name: K, payload: TrainerHostEvents[K]): void {
    for (const l of [...(this.listeners[name] as Listener<K>[])]) {
      try {
        l(payload);
      } catch (err) {
        // A listener's bug must not stop the others or the host.
        queueMicrotask(() => { throw err; });
      }
    }
  }

  private receive(message: unknown): void {
    if (typeof message === 'string') {
      // A trainer speaking JSON lines (the Python one) passes on a line that is not JSON as text.
      this.emit('invalid', { message, reason: `not a JSON event: ${JSON.stringify(message.slice(0, 120))}` });
      return;
    }
    const parsed = TrainerEventSchema.safeParse(message);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.emit('invalid', { message, reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` });
      return;
    }
    const event = parsed.data;
    const outOfOrder = this.order.check(event);
    if (outOfOrder) {
      this.emit('invalid', { message, reason: outOfOrder });
      return;
    }
    if (event.type === 'ready') this.emit('ready', event);
    if (this.run) this.run = reduceRun(this.run, event);
    if (event.type === 'finished' && (this.run === null || event.runId === this.run.runId)) this.lastFinished = event;
    this.emit('event', event);
    if (event.type === 'finished') this.flushWaiters(event);
  }

  private flushWaiters(result: TrainerEventOf<'finished'> | HostExit): void {
    const waiters = this.finishWaiters;
    this.finishWaiters = [];
    for (const w of waiters) w(result);
  }

  private exited(exit: TrainerExit): void {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const run = this.run;
    const live = run !== null && isLive(run.status) && this.runDir !== null;
    // A trainer that ended itself because a worker thread faulted (engine/backend/wasm) says why.
    const note = this.channel.pid ? takeFatalNote(this.channel.pid) : null;
    let message = `The trainer process ${how}${note ? `: ${note}` : '.'}`;
    if (live) {
      const end = exit.signal && !note ? 'interrupted' : 'failed';
      message = `The trainer process ${how} during run ${run.runId}${note ? `: ${note}` : ''}; the run is marked ${end} and can be resumed from its last checkpoint.`;
      this.recordDeath(this.runDir!, end, message);
    }
    this.exitInfo = { ...exit, runId: run?.runId ?? null, runDir: this.runDir, finished: !live, message };
    this.emit('exit', this.exitInfo);
    this.flushWaiters(this.exitInfo);
  }

  /** The trainer is dead, so the host may write its run: the end it recorded goes to the listeners too. */
  private recordDeath(runDir: string, end: 'interrupted' | 'failed', message: string): void {
    let finished: TrainerEventOf<'finished'> | null = null;
    try {
      finished = recordTrainerDeath(runDir, end, message, this.channel.pid);
    } catch {
      // The run folder is unreadable or gone; the exit event still tells the user.
    }
    const event = finished ?? { type: 'finished', runId: this.run!.runId!, reason: end, step: this.run!.step, epoch: this.run!.epoch, bestValAccuracy: this.run!.best?.valAccuracy ?? null, message, time: Date.now() };
    this.run = reduceRun(this.run!, event);
    this.emit('event', event);
  }
}

/** A TrainerHost over a freshly forked trainer process. */
export function forkTrainerHost(options: ForkOptions = {}): TrainerHost {
  return new TrainerHost(forkTrainer(options));
}
