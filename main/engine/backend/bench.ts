import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import type { BackendName } from '../../../shared/training';
import { buildDenseNet } from '../model/densenet';
import { initBackend, type BackendReport } from './index';
import { makeTrainer, PAPER_RECIPE } from './train-step';

/**
 * Training and inference throughput of one DenseNet on synthetic data, measured the way
 * test/bench/pytorch_reference.py measures PyTorch, so the two can be compared line by line.
 */
export interface BenchOptions {
  config: DenseNetConfig;
  batch: number;
  steps: number;
  warmup: number;
  backend: BackendName;
  threads?: number;
  /** Called after every timed or warm-up step. */
  onStep?: (phase: 'warmup' | 'train' | 'forward', index: number, ms: number) => void;
}

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
  recipe: typeof PAPER_RECIPE;
}

export function readVmHwm(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
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
    const model = buildDenseNet(opts.config);
    const trainer = makeTrainer(model, PAPER_RECIPE);
    const [h, w, c] = opts.config.inputShape;
    const x = tf.randomNormal([opts.batch, h, w, c], 0, 1, 'float32', 1);
    const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([opts.batch], 0, opts.config.classes, 'int32', 2), opts.config.classes));
    let loss = NaN;
    const timed = (phase: 'warmup' | 'train' | 'forward', i: number, fn: () => void) => {
      const t0 = performance.now();
      fn();
      const ms = performance.now() - t0;
      sample();
      opts.onStep?.(phase, i, ms);
      return ms;
    };
    for (let i = 0; i < opts.warmup; i++) timed('warmup', i, () => (loss = trainer.step(x, labels)));
    let trainMs = 0;
    for (let i = 0; i < opts.steps; i++) trainMs += timed('train', i, () => (loss = trainer.step(x, labels)));
    const forward = () => tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
    for (let i = 0; i < Math.max(1, opts.warmup); i++) forward();
    let fwdMs = 0;
    for (let i = 0; i < opts.steps; i++) fwdMs += timed('forward', i, forward);
    const parameters = model.trainableWeights.reduce((n, v) => n + tf.util.sizeFromShape(v.shape as number[]), 0);
    trainer.dispose();
    tf.dispose([x, labels]);
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
      recipe: PAPER_RECIPE,
    };
  } finally {
    clearInterval(timer);
  }
}
