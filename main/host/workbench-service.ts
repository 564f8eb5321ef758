import path from 'node:path';
import type { z } from 'zod';
import {
  API_METHODS,
  API_VERSION,
  METHOD_BY_CHANNEL,
  type ApiMethodName,
  type ApiReply,
  type HostEvent,
  type RunInfo,
} from '../../shared/api';
import type { TrainerEvent } from '../../shared/protocol';
import { WorkbenchError, toErrorData } from '../../shared/errors';
import { isLive, statusLabel, type LiveStatus } from '../../shared/run/lifecycle';
import { ActiveRun, runLabel } from './active-run';
import { PathPolicy, inRun } from './paths';
import type { EnginePorts } from './ports';
import { InspectRouter, type LiveRun } from './inspect-router';
import type { Roots } from './roots';
import { EventThrottle, type Clock } from './throttle';
import { WeightsRequests } from './weights-requests';

/**
 * The WorkbenchApi implemented once on the Node side, free of any transport. Serve's WebSocket
 * endpoint and Electron's IPC router both hand it `(channel, payload)` and send back the `ApiReply`;
 * both subscribe to its event batches. Every payload is validated here with the API table's schemas,
 * so a transport cannot forget to.
 *
 * Usage:
 *   const service = new WorkbenchService({ ports, roots, runsDir, mode: 'browser', version });
 *   const off = service.subscribe((batch) => socket.send(JSON.stringify({ kind: 'events', events: batch })));
 *   const reply = await service.call('run:list', undefined);   // { ok: true, value: [...] }
 */
export interface WorkbenchServiceOptions {
  ports: EnginePorts;
  /** Folders the UI may browse (fs:list). */
  roots: Roots;
  runsDir: string;
  mode: 'browser' | 'electron' | 'test';
  version: string;
  /**
   * Browser mode: dataset folders and export folders must lie under the roots (or, for exports,
   * the run store). Electron passes false: its paths come from native dialogs the user drove.
   */
  restrictPaths: boolean;
  /** Events per second to subscribers, at most (default 20). */
  maxEventsPerSecond?: number;
  clock?: Clock;
}

type Handler<K extends ApiMethodName> = (request: z.output<(typeof API_METHODS)[K]['request']>) => Promise<z.output<(typeof API_METHODS)[K]['response']>>;

export class WorkbenchService {
  private readonly subscribers = new Set<(batch: HostEvent[]) => void>();
  private readonly throttle: EventThrottle<HostEvent>;
  private active: ActiveRun | null = null;
  /** The run followed as another process trains it (eventsOf). */
  private following: { stop(): void } | null = null;
  private disposed = false;
  private readonly paths: PathPolicy;
  private readonly inspections: InspectRouter;
  private readonly handlers: { [K in ApiMethodName]: Handler<K> };
  private readonly weights: WeightsRequests;

  constructor(private readonly options: WorkbenchServiceOptions) {
    this.throttle = new EventThrottle<HostEvent>({
      deliver: (batch) => {
        for (const s of this.subscribers) s(batch);
      },
      maxPerSecond: options.maxEventsPerSecond ?? 20,
      // Steps coalesce per type; layer stats and gradients too, so the newest always wins.
      clock: options.clock,
    });
    const { ports } = options;
    this.paths = new PathPolicy(options.roots, options.runsDir, options.restrictPaths);
    // Inspection workers are the built-in trainer, whatever engine trained the run: it reads any run folder.
    this.inspections = new InspectRouter({
      spawn: () => ports.spawnTrainer(),
      emit: (e) => this.emit(e),
      runDir: async (id) => (await ports.runs.open(id)).dir,
    });
    this.weights = new WeightsRequests(ports, this.paths, (e) => this.emit(e));
    this.handlers = {
      appInfo: async () => ({ apiVersion: API_VERSION, version: options.version, mode: options.mode, roots: [...options.roots.real], runsDir: options.runsDir }),
      backendInfo: () => ports.backendInfo(),
      scanDataset: async (r) => {
        const dataset = r.dataset.kind === 'builtin' ? r.dataset : { ...r.dataset, path: await this.paths.readable(r.dataset.path) };
        return ports.scan(dataset, r.inputShape, r.thumbnailsPerClass);
      },
      listFolder: (r) => options.roots.list(r.path),
      startRun: (r) => this.start(r),
      pauseRun: async () => this.command('pause', ['running']),
      resumeRun: async () => this.command('resume', ['paused']),
      stopRun: async () => this.command('stop', ['running', 'paused', 'created']),
      snapshotRun: async () => this.command('snapshot', ['running', 'paused']),
      continueRun: (r) => this.continueRun(r.runId),
      activeRun: async () => this.active?.state ?? null,
      listRuns: () => this.listRuns(),
      openRun: async (r) => {
        const stored = await ports.runs.open(r.runId);
        const events = await this.eventsOf(stored.info);
        return { info: stored.info, model: stored.model, settings: stored.settings, dataset: stored.dataset, classes: stored.classes, events };
      },
      renameRun: async (r) => {
        const info = await ports.runs.rename(r.runId, r.name);
        this.emit({ type: 'runsChanged', time: Date.now() });
        return info;
      },
      deleteRun: async (r) => {
        if (this.active && this.active.runId === r.runId && this.active.live) {
          throw new WorkbenchError(`Run ${r.runId} is still training; stop it before deleting it.`);
        }
        await ports.runs.remove(r.runId);
        this.emit({ type: 'runsChanged', time: Date.now() });
        return null;
      },
      inspect: (r) => this.inspections.inspect(r, this.liveRun()),
      cancelInspect: async (r) => {
        this.inspections.cancel(r.requestId, this.liveRun());
        return null;
      },
      exportRun: async (r) => {
        const stored = await ports.runs.open(r.runId);
        const outDir = await this.paths.writable(r.outDir ?? path.join(stored.dir, 'exports', r.format));
        const result = await ports.exportRun({ runDir: stored.dir, format: r.format, checkpoint: r.checkpoint, foldBn: r.foldBn, outDir });
        return { ...result, ...inRun(stored.dir, result.outDir, result.files) };
      },
      listPretrained: () => this.weights.catalog(),
      downloadPretrained: (r) => this.weights.download(r.name),
      describeWeights: (r) => this.weights.describe(r),
    };
  }

  /**
   * A reopened run's events. A run that is live without this host's trainer (trained on another
   * machine that shares the run folder, or by a standalone Python trainer) is followed: what its
   * trainer appends reaches the UI as live events, until it finishes or another run is opened.
   */
  private async eventsOf(info: RunInfo): Promise<TrainerEvent[]> {
    this.following?.stop();
    this.following = null;
    const ours = this.active !== null && this.active.runId === info.id;
    const follow = this.options.ports.runs.follow;
    if (ours || !isLive(info.status) || !follow) return this.options.ports.runs.events(info.id);
    const followed = await follow.call(this.options.ports.runs, info.id, (events) => {
      for (const e of events) {
        this.emit(e);
        if (e.type === 'finished') {
          followed.stop();
          this.emit({ type: 'runsChanged', time: Date.now() });
        }
      }
    });
    this.following = followed;
    return followed.events;
  }

  /** Receives event batches, at most `maxEventsPerSecond` a second. Returns the unsubscribe function. */
  subscribe(listener: (batch: HostEvent[]) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /**
   * Runs one API call. Never throws: an unknown channel, an invalid payload or a failing handler
   * all come back as `{ ok: false, error }` with a sentence saying what was wrong.
   */
  async call(channel: string, payload: unknown): Promise<ApiReply> {
    try {
      const method = METHOD_BY_CHANNEL.get(channel);
      if (method === undefined) {
        throw new WorkbenchError(`Unknown channel ${JSON.stringify(String(channel).slice(0, 64))}; expected one of ${[...METHOD_BY_CHANNEL.keys()].join(', ')}.`);
      }
      const parsed = API_METHODS[method].request.safeParse(payload);
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
        throw new WorkbenchError(`Invalid request for ${channel}: ${issues.join('; ')}.`);
      }
      const handler = this.handlers[method] as (r: unknown) => Promise<unknown>;
      const value = await handler(parsed.data);
      return { ok: true, value: value ?? null };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    }
  }

  /** Ends the trainer: a live run stops with a checkpoint; the process is killed after `graceMs`. */
  async dispose(graceMs = 10_000): Promise<void> {
    const a = this.active;
    if (a) {
      const live = a.live;
      // Its exit is expected now: not a crash to report.
      a.released = true;
      await this.closeTrainer(a, live, graceMs);
    }
    this.inspections.dispose();
    this.following?.stop();
    this.disposed = true;
    this.throttle.close();
    this.subscribers.clear();
  }

  private async closeTrainer(a: ActiveRun, live: boolean, graceMs: number): Promise<void> {
    if (a.trainer.close) {
      await a.trainer.close(graceMs).catch(() => a.trainer.kill());
      return;
    }
    if (live) {
      const exited = new Promise<void>((resolve) => a.trainer.onExit(() => resolve()));
      a.trainer.send({ type: 'stop' });
      await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
    }
    a.trainer.kill();
  }

  private emit(event: HostEvent): void {
    if (!this.disposed) this.throttle.push(event);
  }

  /** The stored runs, with the active run's live state (and the new run before its folder exists). */
  private async listRuns() {
    const stored = await this.options.ports.runs.list();
    const a = this.active;
    if (!a) return stored;
    const i = stored.findIndex((r) => r.id === a.runId);
    const live = a.info(i >= 0 ? stored[i] : undefined);
    if (!live) return stored;
    return i >= 0 ? stored.map((r, k) => (k === i ? live : r)) : a.live ? [live, ...stored] : stored;
  }

  private requireLive(states: LiveStatus[]): ActiveRun {
    const a = this.active;
    if (!a || a.released || !(states as string[]).includes(a.state.status)) {
      const now = a ? `the run is ${statusLabel(a.state.status, a.state.reason)}` : 'no run is training';
      throw new WorkbenchError(`That needs a run that is ${states.map((st) => statusLabel(st, null)).join(' or ')}, but ${now}; start or continue one first.`);
    }
    return a;
  }

  /** The host's live run, as the inspection router needs it; null when none is live. */
  private liveRun(): LiveRun | null {
    const a = this.active;
    return a && a.live && a.runId ? { runId: a.runId, status: a.state.status, reason: a.state.reason, trainer: a.trainer } : null;
  }

  private command(type: 'pause' | 'resume' | 'stop' | 'snapshot', states: LiveStatus[]): null {
    this.requireLive(states).trainer.send({ type });
    return null;
  }

  private ensureIdle(): void {
    const a = this.active;
    if (a && a.live) throw new WorkbenchError(`Run ${a.runId} is ${statusLabel(a.state.status, a.state.reason)}; stop it before starting another.`);
    // The previous run is over; its process may linger idle.
    if (a) {
      a.released = true;
      void this.closeTrainer(a, false, 2000);
    }
    this.active = null;
  }

  private async start(r: z.output<typeof API_METHODS.startRun.request>): Promise<{ runId: string }> {
    this.ensureIdle();
    // r.model arrived through ValidDenseNetConfigSchema: validated, once, on arrival.
    const dataset = r.dataset.kind === 'builtin' ? r.dataset : { ...r.dataset, path: await this.paths.readable(r.dataset.path) };
    const startFrom = r.startFrom && r.startFrom.kind !== 'scratch' ? await this.weights.source(r.startFrom) : undefined;
    const trainer = this.options.ports.spawnTrainer(r.settings);
    const run = trainer.start({ name: r.name, model: r.model, settings: r.settings, dataset, ...(startFrom ? { startFrom } : {}) });
    this.attach(new ActiveRun(trainer, run.runId, r.settings.epochs, runLabel(r.name, r.model.variant, dataset)));
    return { runId: run.runId };
  }

  private async continueRun(runId: string): Promise<{ runId: string }> {
    this.ensureIdle();
    const stored = await this.options.ports.runs.open(runId);
    const trainer = this.options.ports.spawnTrainer(stored.settings);
    const run = trainer.resumeRun(stored.dir);
    this.attach(new ActiveRun(trainer, run.runId, stored.settings.epochs, null, stored.info));
    return { runId };
  }

  private attach(active: ActiveRun): void {
    this.active = active;
    this.emit({ type: 'runsChanged', time: Date.now() });
    active.trainer.onEvent((event) => {
      if (active.ingest(event)) this.emit({ type: 'runsChanged', time: Date.now() });
      this.inspections.observe(event);
      this.emit(event);
    });
    active.trainer.onExit((exit) => {
      const text = active.exited(exit);
      if (text === null) return;
      this.emit({ type: 'trainerExit', runId: active.runId, code: exit.code, signal: exit.signal, message: `${text} Continue it from Runs.`, time: Date.now() });
      this.emit({ type: 'runsChanged', time: Date.now() });
    });
  }
}
