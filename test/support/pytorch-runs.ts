import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRng, loadDataset } from '../../main/engine/data';
import { buildDenseNet } from '../../main/engine/model/densenet';
import { prepareRun } from '../../main/engine/pytorch/prepare';
import { loadCheckpoint, writeCheckpoint } from '../../main/engine/runs/checkpoint';
import { readMetrics } from '../../main/engine/runs/run-store';
import { TrainControl } from '../../main/engine/train/control';
import { datasetSource } from '../../main/engine/train/dataset-source';
import { runTrainingLoop } from '../../main/engine/train/loop';
import { getModelWeights, setModelWeights, trainVariables } from '../../main/engine/train/model-weights';
import { SeedPurpose, streamSeed, withSeededRandom } from '../../main/engine/train/seeded';
import type { DenseNetConfig } from '../../shared/config';
import type { TrainerEvent } from '../../shared/protocol';
import { TrainSettingsSchema, type TrainSettings } from '../../shared/training';
import { PYTORCH_PACKAGE_ROOT, pythonEnv, TORCH } from './python';
import { tinyConfig } from './tiny-models';

/**
 * Tiny PyTorch-engine runs for the tests: an 8×8×1 DenseNet-BC (k=4, two blocks of two layers) on
 * the first N MNIST digits, prepared the way a host prepares one (main/engine/pytorch/prepare.ts).
 */
export const PT_MODEL: DenseNetConfig = tinyConfig({ variant: 'pt-tiny', inputShape: [8, 8, 1], classes: 10 });

export function ptSettings(overrides: Record<string, unknown> = {}): TrainSettings {
  return TrainSettingsSchema.parse({
    epochs: 2, batchSize: 8, statsEvery: 0, gradientsEvery: 0, checkpointEvery: 1000, backend: 'pytorch', device: 'cpu', ...overrides,
  });
}

export function tempRoot(prefix = 'dw-pt-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function preparePtRun(runDir: string, opts: { settings?: TrainSettings; model?: DenseNetConfig; limit?: number } = {}) {
  return prepareRun({
    runDir, model: opts.model ?? PT_MODEL, settings: opts.settings ?? ptSettings(),
    dataset: { kind: 'builtin', name: 'mnist', limit: opts.limit ?? 48 }, backend: { name: 'pytorch' },
  });
}

/**
 * Gives a prepared run the TF.js engine's initial weights as a step-0 checkpoint (as `import`
 * does), so both engines start from the same weights. Returns the checkpoint's data RNG state.
 */
export async function writeTfjsInitialCheckpoint(runDir: string, model: DenseNetConfig, settings: TrainSettings): Promise<void> {
  await tf.setBackend('cpu');
  const m = withSeededRandom(streamSeed(settings.seed, SeedPurpose.init), () => buildDenseNet(model));
  try {
    const slotNames = settings.optimizer === 'sgd' ? ['momentum'] : ['m', 'v'];
    const slots = trainVariables(m).flatMap((v) => slotNames.map((s) => ({ name: `${v.name}/${s}`, shape: v.variable.shape.slice(), data: new Float32Array(v.variable.size) })));
    const rng = createRng(streamSeed(settings.seed, SeedPurpose.data)).getState().map((v) => v >>> 0);
    writeCheckpoint(runDir, {
      step: 0, epoch: 0, epochStep: 0, stepsPerEpoch: 1, lr: 0, reason: 'snapshot',
      metrics: { loss: null, accuracy: null, valLoss: null, valAccuracy: null }, best: null, rng,
      earlyStopping: { best: null, badEpochs: 0 }, optimizer: { name: settings.optimizer, iterations: 0 },
      weights: getModelWeights(m), slots,
    }, { keep: 3 });
  } finally {
    m.dispose();
  }
}

/** Trains a prepared run's step-0 checkpoint with the TF.js engine on `cpu`, in this process; returns the step losses and each epoch's validation loss. */
export async function trainWithTfjs(runDir: string, config: { model: DenseNetConfig; settings: TrainSettings; dataset: { spec: Parameters<typeof loadDataset>[0] }; normalization: { mean: number[]; std: number[] } | null }): Promise<{ losses: number[]; valLosses: (number | null)[] }> {
  await tf.setBackend('cpu');
  const { model, settings } = config;
  const m = buildDenseNet(model);
  try {
    const ck = loadCheckpoint(runDir, 'latest');
    setModelWeights(m, ck.weights);
    const ds = await loadDataset(config.dataset.spec, { inputShape: model.inputShape, valFraction: settings.valFraction, seed: settings.seed });
    const losses: number[] = [];
    const valLosses: (number | null)[] = [];
    await runTrainingLoop({
      runId: path.basename(runDir), model: m, data: datasetSource(ds, settings, config.normalization), settings, control: new TrainControl(),
      resume: { step: 0, epoch: 0, epochStep: 0, rng: ck.manifest.rng, optimizer: { iterations: 0, slots: ck.slots }, earlyStopping: ck.manifest.earlyStopping, best: null },
      hooks: {
        onEvent: (e) => {
          if (e.type === 'step') losses.push(e.loss);
          if (e.type === 'epoch') valLosses.push(e.valLoss);
        },
      },
    });
    return { losses, valLosses };
  } finally {
    m.dispose();
  }
}

/** `python3 -m densenet_torch --run RUN` to the end; returns its exit status and stderr. */
export function trainStandalone(runDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
  const r = spawnSync(TORCH.python!, ['-m', 'densenet_torch', '--run', runDir, ...args], {
    cwd: PYTORCH_PACKAGE_ROOT, encoding: 'utf8', timeout: 300_000, env: pythonEnv({ WORKBENCH_TORCH_CHECK_EVENTS: '1', ...env }),
  });
  return { status: r.status, stderr: r.stderr };
}

/** A Python trainer in protocol mode, spoken to directly: commands in, parsed events out. */
export function protocolTrainer(env: NodeJS.ProcessEnv = {}): { child: ChildProcess; events: TrainerEvent[]; send(c: unknown): void; waitFor(p: (e: TrainerEvent) => boolean, ms?: number): Promise<TrainerEvent>; stderr: () => string } {
  const child = spawn(TORCH.python!, ['-m', 'densenet_torch', '--protocol'], { cwd: PYTORCH_PACKAGE_ROOT, env: pythonEnv({ WORKBENCH_TORCH_CHECK_EVENTS: '1', ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
  const events: TrainerEvent[] = [];
  const waiters: { p: (e: TrainerEvent) => boolean; resolve: (e: TrainerEvent) => void }[] = [];
  let err = '';
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const e = JSON.parse(buf.slice(0, i)) as TrainerEvent;
      buf = buf.slice(i + 1);
      events.push(e);
      for (const w of [...waiters]) if (w.p(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
    }
  });
  return {
    child, events, stderr: () => err,
    send: (c) => child.stdin!.write(`${JSON.stringify(c)}\n`),
    waitFor: (p, ms = 60_000) => {
      const seen = events.find(p);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for an event; last events: ${events.slice(-5).map((e) => JSON.stringify(e).slice(0, 150)).join(' | ')}; stderr:\n${err.slice(-3000)}`)), ms);
        waiters.push({ p, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
  };
}

export function valLosses(runDir: string): (number | null)[] {
  return readMetrics(runDir).events.flatMap((e) => (e.type === 'epoch' ? [e.valLoss] : []));
}

export function stepLosses(runDir: string): number[] {
  return readMetrics(runDir).events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
}

/** `python3 -m densenet_torch.torchrun --standalone --nproc_per_node=N -m densenet_torch --run RUN`. */
export function torchrun(runDir: string, nproc = 2) {
  return spawn(TORCH.python!, ['-m', 'densenet_torch.torchrun', '--standalone', `--nproc_per_node=${nproc}`, '-m', 'densenet_torch', '--run', runDir], {
    cwd: PYTORCH_PACKAGE_ROOT, env: pythonEnv({ WORKBENCH_TORCH_CHECK_EVENTS: '1' }), stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
