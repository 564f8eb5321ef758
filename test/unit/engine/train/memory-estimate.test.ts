import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../../shared/config';
import { stepMemory } from '../../../../shared/architecture/memory';
import { initBackend } from '../../../../main/engine/backend/index';
import { heapGuard } from '../../../../main/engine/backend/wasm/heap-guard';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { trainingForward } from '../../../../main/engine/model/memory-efficient/forward';
import { stepEstimate } from '../../../../shared/memory-plan';
import { trainVariables } from '../../../../main/engine/train/model-weights';
import { Optimizer } from '../../../../main/engine/train/optimizers';
import { trainStep } from '../../../../main/engine/train/step';
import { tinyConfig } from '../../../support/tiny-models';

// The planner's estimates against what a training step really allocates on the wasm heap (the heap
// guard counts every tensor): never under it (the plan must not let a step run out), and not so far
// over that batches which would fit get refused.
const BATCH = 8;

function measuredPeak(config: DenseNetConfig, efficient: boolean): number {
  const model = buildDenseNet(config);
  const variables = trainVariables(model);
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, variables);
  const [h, w, c] = config.inputShape;
  const batch = { x: new Float32Array(BATCH * h * w * c).map((_, i) => Math.sin(i)), y: Int32Array.from({ length: BATCH }, (_, i) => i % config.classes), n: BATCH };
  const step = { model, variables, optimizer, classes: config.classes, labelSmoothing: 0, seed: 1, forward: trainingForward(model, config, efficient) };
  trainStep(step, batch, 0, 0.01);
  const guard = heapGuard()!;
  guard.resetPeak();
  const before = guard.liveBytes();
  trainStep(step, batch, 1, 0.01);
  const peak = guard.peakBytes() - before;
  optimizer.dispose();
  model.dispose();
  return peak;
}

const CASES: [string, Partial<DenseNetConfig>][] = [
  ['DenseNet-BC, cifar stem', { blocks: [4, 4], growthRate: 8, inputShape: [16, 16, 3] }],
  ['DenseNet-BC, ImageNet stem', { blocks: [3, 3], growthRate: 8, stem: 'imagenet', inputShape: [32, 32, 3], initFeatures: 16 }],
  ['DenseNet without bottleneck', { blocks: [4, 4], bottleneck: false, compression: 1, inputShape: [16, 16, 3] }],
  ['dropout 0.2', { blocks: [3, 3], dropRate: 0.2, inputShape: [16, 16, 3] }],
];

describe('the step memory estimate matches the wasm heap', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });
  for (const [label, overrides] of CASES) {
    it(`${label}: plain and memory-efficient`, () => {
      const config = tinyConfig(overrides);
      const e = stepEstimate(config, 'sgd');
      // Beyond the weights and slots already held before the step: activations and gradients.
      const extra = (efficient: boolean) => e.peak(efficient, BATCH) - 4 * stepMemory(config).weightFloats * 2;
      for (const efficient of [false, true]) {
        const measured = measuredPeak(config, efficient);
        expect(extra(efficient), `${efficient ? 'efficient' : 'plain'} estimate ${extra(efficient)} vs ${measured}`).toBeGreaterThanOrEqual(measured);
        expect(extra(efficient)).toBeLessThanOrEqual(1.6 * measured);
      }
    });
  }
});
