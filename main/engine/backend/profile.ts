import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batches';
import { trainVariables } from '../train/model-weights';
import { Optimizer } from '../train/optimizers';
import { trainStep } from '../train/step';

/**
 * Where a training step's time goes, per kernel, from tf.profile over one more step of the
 * product's training step. A kernel that calls another's function directly (this project's
 * Conv2DBackpropInput runs XNNPACK's Conv2D that way) counts that time as its own; composite ops
 * (customGrad scopes) are left out, so no time is counted twice.
 */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

export interface KernelProfile {
  /** Wall time of the profiled step (profiling adds some overhead). */
  stepMs: number;
  kernels: KernelTime[];
}

export async function profileTrainingStep(model: tf.LayersModel, batch: Batch, forward: (x: tf.Tensor) => tf.Tensor, microBatch: number): Promise<KernelProfile> {
  const variables = trainVariables(model);
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, variables);
  const classes = (model.outputs[0].shape[1] as number) ?? 1;
  let stepMs = 0;
  try {
    const info = await tf.profile(() => {
      const t0 = performance.now();
      trainStep({ model, variables, optimizer, classes, labelSmoothing: 0, seed: 1, forward, microBatch }, batch, 0, 0.1);
      stepMs = performance.now() - t0;
      return [];
    });
    const byName = new Map<string, KernelTime>();
    for (const k of info.kernels) {
      if (!k.name || typeof k.kernelTimeMs !== 'number' || tf.getKernel(k.name, tf.getBackend()) == null) continue;
      const entry = byName.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += k.kernelTimeMs;
      byName.set(k.name, entry);
    }
    return { stepMs, kernels: [...byName.values()].sort((a, b) => b.ms - a.ms) };
  } finally {
    optimizer.dispose();
  }
}
