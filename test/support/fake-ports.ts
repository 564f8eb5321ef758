import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunInfo } from '../../shared/api';
import type { TrainerCommand, TrainerEvent } from '../../shared/protocol';
import { defaultTrainSettings } from '../../shared/training';
import type { EnginePorts, RunStorePort, TrainerPort } from '../../main/host/ports';
import { weightsPort } from '../../main/host/weights-port';

/** Fakes of the engine ports for the server and service tests: an in-memory run store and a scripted trainer. */
export class FakeTrainer implements TrainerPort {
  readonly sent: TrainerCommand[] = [];
  private events: ((e: TrainerEvent) => void)[] = [];
  private exits: ((x: { code: number | null; signal: string | null; message?: string }) => void)[] = [];
  killed = false;
  constructor(private readonly store: ReturnType<typeof fakeRunStore>, private readonly runsDir: string) {}
  start(r: Parameters<TrainerPort['start']>[0]) {
    const id = `run-${this.store.runs.size + 1}`;
    this.store.runs.set(id, { id, name: r.name ?? id, status: 'running', reason: null, created: new Date(0).toISOString(), variant: r.model.variant, dataset: 'fake', epoch: 0, epochs: r.settings.epochs, step: 0, bestValAccuracy: null, lastValAccuracy: null });
    const runDir = path.join(this.runsDir, id);
    this.sent.push({ type: 'start', runDir, model: r.model, settings: r.settings, dataset: r.dataset, ...(r.startFrom ? { startFrom: r.startFrom } : {}) });
    return { runId: id, runDir };
  }
  resumeRun(runDir: string) {
    this.sent.push({ type: 'resumeRun', runDir });
    return { runId: path.basename(runDir), runDir };
  }
  send(command: TrainerCommand) {
    this.sent.push(command);
  }
  onEvent(l: (e: TrainerEvent) => void) {
    this.events.push(l);
  }
  onExit(l: (x: { code: number | null; signal: string | null; message?: string }) => void) {
    this.exits.push(l);
  }
  async close() {
    this.killed = true;
  }
  kill() {
    this.killed = true;
  }
  emit(e: TrainerEvent) {
    for (const l of this.events) l(e);
  }
  exit(code: number | null, signal: string | null, message?: string) {
    for (const l of this.exits) l({ code, signal, message });
  }
}

export function fakeRunStore(runsDir: string): RunStorePort & { runs: Map<string, RunInfo> } {
  const runs = new Map<string, RunInfo>();
  const need = (id: string) => {
    const r = runs.get(id);
    if (!r) throw Object.assign(new Error(`No run ${id}.`), { name: 'WorkbenchError', user: true });
    return r;
  };
  return {
    runs,
    async list() {
      return [...runs.values()];
    },
    async open(id) {
      const info = need(id);
      return {
        info,
        dir: path.join(runsDir, id),
        model: { variant: 'demo-bc-tiny', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 2 },
        settings: defaultTrainSettings(),
        dataset: { kind: 'builtin', name: 'mnist', limit: 10 },
        classes: ['a', 'b'],
      };
    },
    async events() {
      return [{ type: 'log', level: 'info', message: 'hello', time: 1 }];
    },
    async rename(id, name) {
      const r = need(id);
      r.name = name;
      return r;
    },
    async remove(id) {
      need(id);
      runs.delete(id);
    },
  };
}

export function fakePorts(runsDir: string) {
  const trainers: FakeTrainer[] = [];
  const runs = fakeRunStore(runsDir);
  const ports: EnginePorts = {
    spawnTrainer: () => {
      const t = new FakeTrainer(runs, runsDir);
      trainers.push(t);
      return t;
    },
    runs,
    scan: async () => ({ root: 'x', classes: ['a', 'b'], counts: [1, 1], splits: { train: [1, 1], val: [0, 0], test: [0, 0] }, sizes: {}, skipped: [], errors: [], warnings: [], thumbnails: {} }),
    backendInfo: async () => ({ name: 'cpu', flavour: 'cpu', version: '0', device: 'test', threads: 1, skipped: [] }),
    exportRun: async (r) => ({ outDir: r.outDir, files: [] }),
    // The real weights port over a torch hub cache of the test's own, beside the run store.
    weights: weightsPort({ TORCH_HOME: path.join(path.dirname(runsDir), 'torch-home') }),
  };
  return { ports, trainers, runs };
}

/** A temp tree: root/ds/{a,b} with one file each, outside/ beside it, and a symlink root/escape -> outside. */
export function tempTree() {
  const base = mkdtempSync(path.join(tmpdir(), 'dwb-server-'));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  for (const d of [path.join(root, 'ds', 'a'), path.join(root, 'ds', 'b'), outside, path.join(base, 'static'), path.join(base, 'runs')]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(root, 'ds', 'a', '1.png'), 'x');
  writeFileSync(path.join(outside, 'secret.txt'), 'secret');
  writeFileSync(path.join(base, 'static', 'index.html'), '<!doctype html><title>wb</title>');
  writeFileSync(path.join(base, 'secret-beside-static.txt'), 'secret');
  return { base, root, outside, staticDir: path.join(base, 'static'), runsDir: path.join(base, 'runs') };
}
