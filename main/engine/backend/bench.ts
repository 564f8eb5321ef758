import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { TrainSettingsSchema, type BackendName, type TrainSettings } from '../../../shared/training';
import { buildDenseNet } from '../model/densenet';
import { foldedInferenceFor } from '../model/folded-inference';
import { trainingForward } from '../model/memory-efficient/forward';
import { TrainControl } from '../train/control';
import type { Batch } from '../data/batches';
import { runTrainingLoop, type TrainData } from '../train/loop';
import { explainHeapExhausted, planTrainingMemory, type MemoryEfficientSetting, type MemoryPlan, type MemoryPlanRequest } from '../../../shared/memory-plan';
import { initBackend, type BackendReport } from './index';
import { profileTrainingStep, type KernelProfile } from './profile';
import { HeapExhaustedError, heapGuard } from './wasm/heap-guard';

/**
 * Training and inference throughput of one DenseNet on synthetic data, measured the way
 * test/bench/pytorch_reference.py measures PyTorch, so the two can be compared line by line.
 * Training runs the product's own loop (engine/train: the step, the optimizer, the schedule), on
 * the paper's recipe (§4.2): softmax cross-entropy, SGD with Nesterov momentum 0.9 and weight decay
 * 1e-4 added to the gradient, as PyTorch's SGD(weight_decay=...) does, at a constant lr of 0.1.
 */
export interface BenchOptions {
  config: DenseNetConfig;
  batch: number;
  steps: number;
  warmup: number;
  backend: BackendName;
  threads?: number;
  /** Memory-efficient dense layers: 'auto' (where the plain path would not fit), 'on' or 'off'. */
  memoryEfficient?: MemoryEfficientSetting;
  /** Images a forward/backward pass at most (0: only when nothing else fits). */
  microBatch?: number;
  /** Also time every kernel of one more training step (tf.profile). */
  profile?: boolean;
  /** Called after every timed or warm-up step. */
  onStep?: (phase: 'warmup' | 'train' | 'forward', index: number, ms: number) => void;
}

export const BENCH_RECIPE = { optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 } as const;

export interface BenchResult {
  engine: 'tfjs';
  backend: BackendReport;
  variant: string;
  config: DenseNetConfig;
  batch: number;
  steps: number;
  warmup: number;
  parameters: number;
  trainImagesPerSec: number;
  trainStepMs: number;
  forwardImagesPerSec: number;
  /** Largest process.memoryUsage().rss seen between kernels' host calls (sampled). */
  peakRssBytes: number;
  /** The kernel's own high-water mark of resident memory (Linux /proc/self/status VmHWM). */
  vmHwmBytes: number | null;
  finalLoss: number;
  recipe: typeof BENCH_RECIPE;
  memory: BenchMemory;
  /** Per-kernel times of one training step, longest first (with `profile`). */
  profile?: KernelProfile;
}

export interface BenchMemory {
  memoryEfficient: boolean;
  microBatch: number;
  /** The planner's estimate of the step's peak heap, and the plain path's at the full batch. */
  estimatedPeakBytes: number;
  plainEstimatedPeakBytes: number;
  /** wasm: the most heap the tensors held during the timed steps (the heap guard's count). */
  heapPeakBytes: number | null;
  heapLimitBytes: number | null;
  notes: string[];
}

export function readVmHwm(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The bench recipe as run settings: one epoch of warm-up + timed steps, no probes or checkpoints. */
export function benchSettings(batch: number, steps: number): TrainSettings {
  return TrainSettingsSchema.parse({
    ...BENCH_RECIPE, epochs: 1, batchSize: batch, schedule: 'constant', backend: 'auto',
    statsEvery: 0, gradientsEvery: 0, checkpointEvery: steps + 1, augment: { padCrop: false, flip: false }, normalize: false,
  });
}

/** `steps` copies of one synthetic batch (seeded, so both engines of bench:compare see the same kind of data). */
export function syntheticData(config: DenseNetConfig, batch: number, steps: number): TrainData {
  const [h, w, c] = config.inputShape;
  const x = tf.tidy(() => tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 1).dataSync() as Float32Array);
  const y = tf.tidy(() => tf.randomUniform([batch], 0, config.classes, 'int32', 2).dataSync() as Int32Array);
  const one: Batch = { x, y, n: batch };
  return {
    classes: config.classes,
    stepsPerEpoch: steps,
    rngState: () => null,
    setRngState: () => {},
    async *trainBatches(_epoch, skip) {
      for (let i = skip; i < steps; i++) yield one;
    },
    valBatches: () => null,
  };
}

export async function runBenchmark(opts: BenchOptions): Promise<BenchResult> {
  const backend = await initBackend(opts.backend, opts.threads ? { threads: opts.threads } : {});
  let peak = process.memoryUsage().rss;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  // Steps run synchronously, so this only fires between them; VmHWM catches the true peak.
  const timer = setInterval(sample, 20);
  try {
    const request: MemoryPlanRequest = {
      config: opts.config, batch: opts.batch, optimizer: 'sgd', heapLimitBytes: backend.name === 'wasm' ? (backend.heapLimitBytes ?? null) : null,
      heapBaseBytes: backend.heapBaseBytes ?? 0,
      memoryEfficient: opts.memoryEfficient ?? 'auto', microBatch: opts.microBatch ?? 0,
    };
    // Before anything is allocated: a step that cannot fit is refused here, with the numbers.
    const plan = planTrainingMemory(request);
    const model = buildDenseNet(opts.config);
    const total = opts.warmup + opts.steps;
    const data = syntheticData(opts.config, opts.batch, total);
    const forward = trainingForward(model, opts.config, plan.memoryEfficient);
    const guard = backend.name === 'wasm' ? heapGuard() : null;
    let loss = NaN;
    let trainMs = 0;
    let index = 0;
    let last = performance.now();
    const loop = runTrainingLoop({
      runId: 'bench', model, data, settings: benchSettings(opts.batch, total), control: new TrainControl(),
      forward, microBatch: plan.microBatch,
      hooks: {
        onEvent: (event) => {
          if (event.type !== 'step') return;
          const now = performance.now();
          const ms = now - last;
          last = now;
          sample();
          loss = event.loss;
          const warm = index < opts.warmup;
          if (!warm) trainMs += ms;
          if (index === opts.warmup - 1) guard?.resetPeak();
          opts.onStep?.(warm ? 'warmup' : 'train', warm ? index : index - opts.warmup, ms);
          index++;
        },
      },
    });
    await loop.catch((err) => {
      throw err instanceof HeapExhaustedError ? explainHeapExhausted(err, request, plan) : err;
    });
    const heapPeakBytes = guard ? guard.peakBytes() : null;
    const profile = opts.profile ? await profileTrainingStep(model, await firstBatch(data), forward, plan.microBatch) : undefined;
    const [h, w, c] = opts.config.inputShape;
    const x = tf.tensor4d((await firstBatch(data)).x, [opts.batch, h, w, c]);
    // Forward only as evaluation runs it: the folded-BN inference pass.
    const folded = foldedInferenceFor(model);
    const inference = () => tf.tidy(() => (folded ? folded.logits(x as tf.Tensor4D) : (model.apply(x, { training: false }) as tf.Tensor)).dataSync());
    for (let i = 0; i < Math.max(1, opts.warmup); i++) inference();
    let fwdMs = 0;
    for (let i = 0; i < opts.steps; i++) {
      const t0 = performance.now();
      inference();
      const ms = performance.now() - t0;
      fwdMs += ms;
      sample();
      opts.onStep?.('forward', i, ms);
    }
    const parameters = model.trainableWeights.reduce((n, v) => n + tf.util.sizeFromShape(v.shape as number[]), 0);
    folded?.dispose();
    x.dispose();
    model.dispose();
    return {
      engine: 'tfjs',
      backend,
      variant: opts.config.variant,
      config: opts.config,
      batch: opts.batch,
      steps: opts.steps,
      warmup: opts.warmup,
      parameters,
      trainImagesPerSec: (opts.batch * opts.steps) / (trainMs / 1000),
      trainStepMs: trainMs / opts.steps,
      forwardImagesPerSec: (opts.batch * opts.steps) / (fwdMs / 1000),
      peakRssBytes: peak,
      vmHwmBytes: readVmHwm(),
      finalLoss: loss,
      recipe: BENCH_RECIPE,
      memory: {
        memoryEfficient: plan.memoryEfficient, microBatch: plan.microBatch, estimatedPeakBytes: plan.peakBytes,
        plainEstimatedPeakBytes: plan.plainPeakBytes, heapPeakBytes, heapLimitBytes: plan.heapLimitBytes, notes: plan.notes,
      },
      ...(profile ? { profile } : {}),
    };
  } finally {
    clearInterval(timer);
  }
}

export type { MemoryPlan };

async function firstBatch(data: TrainData): Promise<Batch> {
  for await (const b of data.trainBatches(0, 0)) return b;
  throw new Error('The synthetic data has no batch.');
}
