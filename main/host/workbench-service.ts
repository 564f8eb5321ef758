import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  API_METHODS,
  API_VERSION,
  METHOD_BY_CHANNEL,
  type ActiveRun,
  type ApiMethodName,
  type ApiReply,
  type HostEvent,
} from '../../shared/api';
import { WorkbenchError, toErrorData } from '../../shared/errors';
import type { TrainerEvent } from '../../shared/protocol';
import { EventThrottle, type Clock } from './throttle';
import { assertValidConfig } from '../../shared/validation';
import { InspectJobs, newRequestId } from './inspect-jobs';
import type { EnginePorts, TrainerPort } from './ports';
import type { Roots } from './roots';

/**
 * The WorkbenchApi implemented once on the Node side, free of any transport. Serve's WebSocket
 * endpoint and Electron's IPC router both hand it `(channel, payload)` and send back the `ApiReply`;
 * both subscribe to its event batches. Every payload is validated here with the API table's schemas,
 * so a transport cannot forget to (issue 9 item 4).
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

interface Active {
  trainer: TrainerPort;
  runId: string | null;
  state: ActiveRun['state'];
  /** True once the run said `finished`: its trainer's exit is then expected. */
  ended: boolean;
}

const LIVE_STATES = new Set<ActiveRun['state']>(['loading', 'running', 'paused', 'stopping']);

export class WorkbenchService {
  private readonly subscribers = new Set<(batch: HostEvent[]) => void>();
  private readonly throttle: EventThrottle<HostEvent>;
  private active: Active | null = null;
  private disposed = false;
  private readonly jobs: InspectJobs;
  /** Requests the live trainer is answering, until their inspectDone. */
  private readonly liveRequests = new Set<string>();
  private readonly handlers: { [K in ApiMethodName]: Handler<K> };

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
    this.jobs = new InspectJobs({ spawn: () => ports.spawnTrainer(), emit: (e) => this.emit(e) });
    this.handlers = {
      appInfo: async () => ({ apiVersion: API_VERSION, version: options.version, mode: options.mode, roots: [...options.roots.real], runsDir: options.runsDir }),
      backendInfo: () => ports.backendInfo(),
      scanDataset: async (r) => {
        const dataset = r.dataset.kind === 'builtin' ? r.dataset : { ...r.dataset, path: await this.checkedPath(r.dataset.path) };
        return ports.scan(dataset, r.inputShape, r.thumbnailsPerClass);
      },
      listFolder: (r) => options.roots.list(r.path),
      startRun: (r) => this.start(r),
      pauseRun: async () => this.command('pause', ['running']),
      resumeRun: async () => this.command('resume', ['paused']),
      stopRun: async () => this.command('stop', ['running', 'paused', 'loading']),
      snapshotRun: async () => this.command('snapshot', ['running', 'paused']),
      continueRun: (r) => this.continueRun(r.runId),
      activeRun: async () => ({ runId: this.active?.runId ?? null, state: this.active?.state ?? 'idle' }),
      listRuns: () => ports.runs.list(),
      openRun: async (r) => {
        const stored = await ports.runs.open(r.runId);
        const events = await ports.runs.events(r.runId);
        return { info: stored.info, model: stored.model, settings: stored.settings, dataset: stored.dataset, classes: stored.classes, events };
      },
      renameRun: async (r) => {
        const info = await ports.runs.rename(r.runId, r.name);
        this.emit({ type: 'runsChanged', time: Date.now() });
        return info;
      },
      deleteRun: async (r) => {
        if (this.active && this.active.runId === r.runId && LIVE_STATES.has(this.active.state)) {
          throw new WorkbenchError(`Run ${r.runId} is still training; stop it before deleting it.`);
        }
        await ports.runs.remove(r.runId);
        this.emit({ type: 'runsChanged', time: Date.now() });
        return null;
      },
      inspect: (r) => this.inspect(r),
      cancelInspect: async (r) => {
        if (this.jobs.cancel(r.requestId)) return null;
        const a = this.active;
        if (a && !a.ended && LIVE_STATES.has(a.state) && this.liveRequests.has(r.requestId)) {
          a.trainer.send({ type: 'cancelInspect', requestId: r.requestId });
          return null;
        }
        throw new WorkbenchError(`No inspection ${r.requestId} is in progress; it may have finished already.`);
      },
      exportRun: async (r) => {
        const stored = await ports.runs.open(r.runId);
        const outDir = await this.checkedOutDir(r.outDir ?? path.join(stored.dir, 'exports', r.format));
        const result = await ports.exportRun({ runDir: stored.dir, format: r.format, checkpoint: r.checkpoint, foldBn: r.foldBn, outDir });
        return { ...result, ...inRun(stored.dir, result.outDir, result.files) };
      },
    };
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
      const live = !a.ended && LIVE_STATES.has(a.state);
      // Its exit is expected now: not a crash to report.
      a.ended = true;
      await this.closeTrainer(a, live, graceMs);
    }
    this.jobs.dispose();
    this.disposed = true;
    this.throttle.close();
    this.subscribers.clear();
  }

  private async closeTrainer(a: Active, live: boolean, graceMs: number): Promise<void> {
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

  private async checkedPath(p: string): Promise<string> {
    return this.options.restrictPaths ? this.options.roots.resolve(p) : p;
  }

  private async checkedOutDir(p: string): Promise<string> {
    if (!this.options.restrictPaths) return p;
    const runsReal = path.resolve(this.options.runsDir);
    const resolved = path.resolve(p);
    if (resolved === runsReal || resolved.startsWith(runsReal + path.sep)) {
      if (p.split(/[\\/]/).includes('..')) throw new WorkbenchError(`Output path ${JSON.stringify(p)} may not contain "..".`);
      // A symlink inside the store (runs/<id>/exports -> /elsewhere) must not carry a write out of it.
      const [realStore, real] = await Promise.all([fs.realpath(runsReal), realpathOfNearest(resolved)]);
      if (real !== realStore && !real.startsWith(realStore + path.sep)) {
        throw new WorkbenchError(`Output path ${JSON.stringify(p)} leads outside the run store through a symbolic link (to ${real}).`);
      }
      return resolved;
    }
    return this.options.roots.resolveForWrite(p);
  }

  private requireLive(states: ActiveRun['state'][]): Active {
    const a = this.active;
    if (!a || !states.includes(a.state)) {
      const now = a ? `the run is ${a.state}` : 'no run is training';
      throw new WorkbenchError(`That needs a run that is ${states.join(' or ')}, but ${now}; start or continue one first.`);
    }
    return a;
  }

  /** The live run goes to its trainer; any other run to a worker, from a checkpoint (./inspect-jobs). */
  private async inspect(r: z.output<typeof API_METHODS.inspect.request>): Promise<{ requestId: string }> {
    const a = this.active;
    const live = a && !a.ended && LIVE_STATES.has(a.state) ? a : null;
    const runId = r.runId ?? live?.runId ?? null;
    if (!runId) throw new WorkbenchError('Say which run to inspect: no run is training.');
    const sample = r.sample !== undefined ? { sample: r.sample } : {};
    if (live && live.runId === runId) {
      if (live.state !== 'running' && live.state !== 'paused') {
        throw new WorkbenchError(`Run ${runId} is ${live.state}; ask again once it is running or paused.`);
      }
      const requestId = newRequestId();
      this.liveRequests.add(requestId);
      live.trainer.send({ type: 'inspect', what: r.what, ...sample, requestId });
      return { requestId };
    }
    const stored = await this.options.ports.runs.open(runId);
    const requestId = this.jobs.start({ runId, runDir: stored.dir, what: r.what, checkpoint: r.checkpoint ?? 'best', ...sample });
    return { requestId };
  }

  private command(type: 'pause' | 'resume' | 'stop' | 'snapshot', states: ActiveRun['state'][]): null {
    this.requireLive(states).trainer.send({ type });
    return null;
  }

  private ensureIdle(): void {
    const a = this.active;
    if (a && !a.ended && LIVE_STATES.has(a.state)) {
      throw new WorkbenchError(`Run ${a.runId ?? '(starting)'} is ${a.state}; stop it before starting another.`);
    }
    // The previous run is over; its process may linger idle.
    if (a) void this.closeTrainer(a, false, 2000);
    this.active = null;
  }

  private async start(r: z.output<typeof API_METHODS.startRun.request>): Promise<{ runId: string }> {
    this.ensureIdle();
    const model = assertValidConfig(r.model);
    const dataset = r.dataset.kind === 'builtin' ? r.dataset : { ...r.dataset, path: await this.checkedPath(r.dataset.path) };
    const active = this.attach();
    const run = active.trainer.start({ name: r.name, model, settings: r.settings, dataset });
    active.runId = run.runId;
    this.emit({ type: 'runsChanged', time: Date.now() });
    return { runId: run.runId };
  }

  private async continueRun(runId: string): Promise<{ runId: string }> {
    this.ensureIdle();
    const stored = await this.options.ports.runs.open(runId);
    const active = this.attach();
    active.runId = active.trainer.resumeRun(stored.dir).runId;
    this.emit({ type: 'runsChanged', time: Date.now() });
    return { runId };
  }

  private attach(): Active {
    const trainer = this.options.ports.spawnTrainer();
    const active: Active = { trainer, runId: null, state: 'loading', ended: false };
    this.active = active;
    trainer.onEvent((event) => this.onTrainerEvent(active, event));
    trainer.onExit(({ code, signal, message }) => {
      const wasLive = !active.ended;
      active.ended = true;
      if (!wasLive) return;
      active.state = 'failed';
      // The port has marked the run in the store (interrupted when killed, failed otherwise).
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const text = message ?? `The trainer process ${how} during run ${active.runId}; the run can be resumed from its last checkpoint.`;
      this.emit({ type: 'trainerExit', runId: active.runId ?? undefined, code, signal, message: `${text} Continue it from Runs.`, time: Date.now() });
      this.emit({ type: 'runsChanged', time: Date.now() });
    });
    return active;
  }

  private onTrainerEvent(active: Active, event: TrainerEvent): void {
    if (event.type === 'state') {
      active.state = event.state;
      if (event.runId) active.runId = event.runId;
      if (event.state === 'finished' || event.state === 'failed') active.ended = true;
      this.emit({ type: 'runsChanged', time: Date.now() });
    } else if (event.type === 'finished') {
      active.state = event.reason === 'failed' ? 'failed' : 'finished';
      active.ended = true;
    } else if (event.type === 'error' && event.fatal) {
      active.state = 'failed';
    } else if (event.type === 'inspectDone' && event.requestId) {
      this.liveRequests.delete(event.requestId);
    }
    this.emit(event);
  }
}

/** An export's folder and files relative to its run folder, with `/`, when they all lie inside it. */
function inRun(runDir: string, outDir: string, files: string[]): { inRun?: { dir: string; files: string[] } } {
  const rel = (p: string) => {
    const r = path.relative(runDir, path.resolve(p));
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r.split(path.sep).join('/') : null;
  };
  const dir = rel(outDir);
  const inside = files.map(rel);
  if (dir === null || inside.some((f) => f === null)) return {};
  return { inRun: { dir, files: inside as string[] } };
}

/** realpath of `p`, or of its nearest existing ancestor with the rest appended (for folders yet to be made). */
async function realpathOfNearest(p: string): Promise<string> {
  const rest: string[] = [];
  let at = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(at), ...rest.reverse());
    } catch (err) {
      const parent = path.dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw err;
      rest.push(path.basename(at));
      at = parent;
    }
  }
}
