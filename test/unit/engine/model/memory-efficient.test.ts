import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../../shared/config';
import { initBackend } from '../../../../main/engine/backend/index';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { memoryEfficientLogits } from '../../../../main/engine/model/memory-efficient/forward';
import { crossEntropy } from '../../../../main/engine/train/loss';
import { trainVariables } from '../../../../main/engine/train/model-weights';
import { withSeededRandom } from '../../../../main/engine/train/seeded';
import { relErr, seeded } from '../../../support/wasm';
import { randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';

// The memory-efficient dense blocks recompute concatenations and BN-ReLUs in the backward pass;
// the loss, every gradient and the moving statistics must be the plain path's (tfjs-layers'
// model.apply), on wasm and on the numeric reference, cpu.
const BATCH = 3;
type Backend = 'cpu' | 'wasm';

interface Outcome {
  loss: number;
  grads: Map<string, Float32Array>;
  stats: Map<string, Float32Array>;
}

async function step(backend: Backend, config: DenseNetConfig, weights: Float32Array[], efficient: boolean): Promise<Outcome> {
  await tf.setBackend(backend);
  const model = buildDenseNet(config);
  model.setWeights(weights.map((w, i) => tf.tensor(w, model.weights[i].shape as number[])));
  const [h, w, c] = config.inputShape;
  const x = tf.tensor4d(seeded(BATCH * h * w * c, 11), [BATCH, h, w, c]);
  const y = tf.tensor1d([0, 1, 2].map((v) => v % config.classes), 'int32');
  const variables = trainVariables(model);
  const out = withSeededRandom(5, () =>
    tf.variableGrads(() => {
      const logits = efficient ? memoryEfficientLogits(model, config, x) : (model.apply(x, { training: true }) as tf.Tensor);
      return crossEntropy(logits, y, config.classes);
    }, variables.map((v) => v.variable)),
  );
  const byTf = new Map(variables.map((v) => [v.variable.name, v.name]));
  const grads = new Map(Object.entries(out.grads).map(([k, g]) => [byTf.get(k)!, Float32Array.from(g.dataSync())]));
  const stats = new Map(model.nonTrainableWeights.map((v) => [v.originalName, Float32Array.from(v.read().dataSync())]));
  const loss = out.value.dataSync()[0];
  tf.dispose([x, y, out.value, ...Object.values(out.grads)]);
  model.dispose();
  return { loss, grads, stats };
}

/** Weights with non-trivial BN statistics and affine parameters, so nothing is the identity. */
async function weightsFor(config: DenseNetConfig): Promise<Float32Array[]> {
  await tf.setBackend('cpu');
  const model = buildDenseNet(config);
  randomizeBatchNorms(model);
  const weights = model.getWeights().map((t) => Float32Array.from(t.dataSync()));
  model.dispose();
  return weights;
}

function expectSameLossAndStats(plain: Outcome, efficient: Outcome): void {
  expect(Math.abs(plain.loss - efficient.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(plain.loss)));
  expect([...efficient.grads.keys()].sort()).toEqual([...plain.grads.keys()].sort());
  for (const [name, s] of plain.stats) expect(relErr(s, efficient.stats.get(name)!), name).toBeLessThanOrEqual(1e-6);
}

const CASES: [string, Partial<DenseNetConfig>][] = [
  ['DenseNet-BC, cifar stem', {}],
  ['DenseNet-BC, ImageNet stem (7x7/2 conv, max pool)', { stem: 'imagenet', inputShape: [16, 16, 3], initFeatures: 8 }],
  ['DenseNet without bottleneck or compression', { bottleneck: false, compression: 1 }],
  ['dropout 0.2 after every conv', { dropRate: 0.2 }],
];

describe('memory-efficient dense blocks give the plain path\'s gradients', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });
  for (const [label, overrides] of CASES) {
    it(`${label}: loss, moving statistics and every gradient, on wasm and cpu`, async () => {
      const config = tinyConfig({ blocks: [3, 2], ...overrides });
      const weights = await weightsFor(config);
      const wasmPlain = await step('wasm', config, weights, false);
      const wasmEfficient = await step('wasm', config, weights, true);
      const cpuPlain = await step('cpu', config, weights, false);
      const cpuEfficient = await step('cpu', config, weights, true);
      expectSameLossAndStats(wasmPlain, wasmEfficient);
      expectSameLossAndStats(cpuPlain, cpuEfficient);
      for (const [name, g] of wasmPlain.grads) expect(relErr(g, wasmEfficient.grads.get(name)!), `wasm ${name}`).toBeLessThanOrEqual(1e-5);
      // On cpu a gradient that is a heavily cancelling sum (the stem BN's gamma) moves by more than
      // 1e-5 of itself whenever additions are reordered: the plain paths of cpu and wasm already
      // disagree on it by ~2e-4. Such a gradient may differ by up to twice what the two backends'
      // plain paths do; every other one by 1e-5.
      const loose: string[] = [];
      for (const [name, g] of cpuPlain.grads) {
        const err = relErr(g, cpuEfficient.grads.get(name)!);
        if (err > 1e-5) loose.push(name);
        expect(err, `cpu ${name}`).toBeLessThanOrEqual(Math.max(1e-5, 2 * relErr(g, wasmPlain.grads.get(name)!)));
      }
      expect(loose.filter((n) => !n.startsWith('conv1_bn/')), 'cpu gradients off by more than 1e-5').toEqual([]);
    });
  }

  it('holds less than half the plain path\'s memory at the peak', async () => {
    await tf.setBackend('wasm');
    const config = tinyConfig({ blocks: [6], growthRate: 8, inputShape: [12, 12, 3] });
    const model = buildDenseNet(config);
    const peak = (efficient: boolean) => {
      const before = tf.memory().numBytes;
      let top = before;
      const x = tf.tensor4d(seeded(4 * 12 * 12 * 3, 1), [4, 12, 12, 3]);
      const y = tf.tensor1d(new Int32Array(4), 'int32');
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const logits = efficient ? memoryEfficientLogits(model, config, x) : (model.apply(x, { training: true }) as tf.Tensor);
          top = Math.max(top, tf.memory().numBytes);
          return crossEntropy(logits, y, config.classes);
        });
        tf.dispose(Object.values(grads));
      });
      tf.dispose([x, y]);
      return top - before;
    };
    const plain = peak(false);
    const efficient = peak(true);
    expect(efficient).toBeLessThan(0.5 * plain);
    model.dispose();
  });
});
