import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../../shared/config';
import { connectivityGraph } from '../../../../shared/architecture';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { withSeededRandom } from '../../../../main/engine/train/seeded';
import { createRng } from '../../../../main/engine/data/rng';
import { ablateLayers } from '../../../../main/engine/inspect/ablation';
import { ablationOverview, InspectionCancelled } from '../../../../main/engine/inspect/ablation-overview';
import { memoryBatches } from '../../../../main/engine/inspect/evaluation';
import { accuracyOf, predictAll } from '../../../../main/engine/train/evaluate';
import { LayerGraph } from '../../../../main/engine/inspect/layer-graph';
import { ablationTargets } from '../../../../main/engine/inspect/probe-points';

/**
 * The ablation overview (all layers in one pass, rerunning only what is downstream of each zeroed
 * layer) against the plain method (zero the kernel, evaluate the whole split again per layer).
 */
const config: DenseNetConfig = {
  variant: 'tiny', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8,
  stem: 'cifar', dropRate: 0.2, inputShape: [8, 8, 1], classes: 3,
};

let model: tf.LayersModel;
let images: Float32Array;
let labels: Int32Array;
const n = 40;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = withSeededRandom(7, () => buildDenseNet(config)); // a fixed init: the checks below see the same net every time
  images = new Float32Array(n * 64);
  labels = new Int32Array(n);
  const rng = createRng(3);
  for (let i = 0; i < n; i++) {
    // Noise of a different brightness and contrast per image, so an untrained net's predictions vary.
    const [lo, span] = [rng.next() * 2 - 1, rng.next() * 3];
    for (let p = 0; p < 64; p++) images[i * 64 + p] = lo + span * rng.next();
  }
  // Labels are the intact net's own predictions (baseline 100%), with every third one wrong, so
  // zeroing a layer of this untrained net visibly moves the accuracy both ways.
  const p = await predictAll(model, memoryBatches(images, labels, 16)());
  labels = Int32Array.from(p.predicted, (c, i) => (i % 3 === 0 ? (c + 1) % 3 : c));
});
afterAll(() => model.dispose());

const targets = () => ablationTargets(connectivityGraph(config)).map((t) => t.conv);

describe('layer graph', () => {
  it('runs the model piecewise to the same logits as predict', () => {
    const graph = new LayerGraph(model);
    const x = tf.tensor4d(images.subarray(0, 8 * 64), [8, 8, 8, 1]);
    const out = graph.run(graph.order, new Map([[graph.input, x as tf.Tensor]]), new Set(), graph.output);
    const expected = model.predict(x) as tf.Tensor;
    const got = out.get(graph.output)!;
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(out.size).toBe(1);
    for (const t of [x, expected, got]) t.dispose();
  });

  it('finds what lies downstream of a dense layer: the rest of its block and everything after', () => {
    const graph = new LayerGraph(model);
    const down = graph.downstream('conv3_block2_2_conv');
    expect(down[0]).toBe('conv3_block2_2_drop');
    expect(down).toContain('conv3_block3_1_conv');
    expect(down.at(-1)).toBe('predictions');
    expect(down).not.toContain('conv3_block1_2_conv');
    expect(down).not.toContain('pool2_conv');
  });
});

describe('ablation overview', () => {
  it('agrees with the plain method, layer by layer, with any chunk size', async () => {
    const plain = await ablateLayers(model, targets(), async () => {
      const p = await predictAll(model, memoryBatches(images, labels, 16)());
      return accuracyOf(p.labels, p.predicted);
    });
    expect(plain.layers.some((l) => l.drop !== 0)).toBe(true); // the comparison means something
    for (const budgetBytes of [undefined, 1]) {
      const fast = await ablationOverview(model, targets(), memoryBatches(images, labels, 16)(), { samples: n, budgetBytes });
      expect(fast.baselineAccuracy).toBe(plain.baselineAccuracy);
      expect(fast.layers).toEqual(plain.layers);
    }
  });

  it('reports progress to the end, leaves the weights and the tensor count as they were', async () => {
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    await ablationOverview(model, targets(), memoryBatches(images, labels, 16)(), { samples: n }); // warm-up
    const tensors = tf.memory().numTensors;
    const seen: number[] = [];
    await ablationOverview(model, targets(), memoryBatches(images, labels, 16)(), { samples: n, onProgress: (p) => seen.push(p.done / p.total) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(seen.length).toBe(3 * targets().length); // 3 batches × 5 layers
    expect(seen.at(-1)).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
  });

  it('stops when cancelled and frees what it held', async () => {
    const tensors = tf.memory().numTensors;
    const abort = new AbortController();
    const run = ablationOverview(model, targets(), memoryBatches(images, labels, 16)(), {
      samples: n, signal: abort.signal, onProgress: (p) => p.done > n && abort.abort(),
    });
    await expect(run).rejects.toBeInstanceOf(InspectionCancelled);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('names a layer the model lacks', async () => {
    await expect(ablationOverview(model, ['conv9_block1_2_conv'], memoryBatches(images, labels)(), { samples: n })).rejects.toThrow(/no layer named conv9_block1_2_conv/);
  });
});
