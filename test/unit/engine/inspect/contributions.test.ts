import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { contributionMatrices, kernelFromModel, type ContributionBlockSpec } from '../../../../main/engine/inspect/contributions';
import { contributionSpecs } from '../../../../main/engine/inspect/probe-points';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { connectivityGraph } from '../../../../shared/architecture';
import type { DenseNetConfig } from '../../../../shared/config';
import { ContributionMatrixSchema } from '../../../../shared/protocol/inspect';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A [kh, kw, in, out] kernel whose input channel c has |w| = magnitudes[c] everywhere, signs alternating. */
function kernelWith(magnitudes: number[], kh: number, out: number): tf.Tensor4D {
  const values: number[] = [];
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kh; x++)
      for (let c = 0; c < magnitudes.length; c++) for (let o = 0; o < out; o++) values.push(((y + x + o) % 2 ? -1 : 1) * magnitudes[c]);
  return tf.tensor4d(values, [kh, kh, magnitudes.length, out]);
}

describe('contribution matrices (paper Fig. 5)', () => {
  it('equal the expected matrix for hand-set weights', async () => {
    // A block with input of 2 channels, k = 1, two layers, then a transition:
    //   layer 1 reads [in0 in1]; layer 2 reads [in0 in1 | l1]; the transition reads [in0 in1 | l1 | l2].
    const spec: ContributionBlockSpec = {
      block: 1,
      sources: ['input', 'l1', 'l2'],
      targets: [
        { label: 'l1', weightLayer: 'k1', ranges: [{ source: 0, start: 0, end: 2 }] },
        { label: 'l2', weightLayer: 'k2', ranges: [{ source: 0, start: 0, end: 2 }, { source: 1, start: 2, end: 3 }] },
        { label: 'transition', weightLayer: 'kt', ranges: [{ source: 0, start: 0, end: 2 }, { source: 1, start: 2, end: 3 }, { source: 2, start: 3, end: 4 }] },
      ],
    };
    const kernels: Record<string, tf.Tensor> = {
      k1: kernelWith([1, 3], 1, 4), // bottleneck 1×1 conv to 4k
      k2: kernelWith([0.5, 1.5, 4], 1, 4),
      kt: kernelWith([2, 2, 0, 8], 1, 3),
      // A Dense classifier kernel [in, out] is read along its first axis.
    };
    const [m] = await contributionMatrices([spec], (name) => kernels[name]);
    expect(m).toEqual({
      block: 1,
      sources: ['input', 'l1', 'l2'],
      targets: ['l1', 'l2', 'transition'],
      values: [
        [2, null, null], // (1 + 3) / 2 channels
        [1, 4, null], // (0.5 + 1.5) / 2, then 4 / 1
        [2, 0, 8],
      ],
    });
    expect(ContributionMatrixSchema.safeParse(m).success).toBe(true);

    // 3×3 kernels (no bottleneck) and Dense kernels give the same per-channel means.
    const dense = tf.tensor2d([[1, -1], [-3, 3], [5, -5]]); // [in 3, out 2]
    const conv3 = kernelWith([1, 3, 5], 3, 2);
    const classifier: ContributionBlockSpec = {
      block: 2,
      sources: ['input', 'l1'],
      targets: [
        { label: 'a', weightLayer: 'dense', ranges: [{ source: 0, start: 0, end: 2 }, { source: 1, start: 2, end: 3 }] },
        { label: 'b', weightLayer: 'conv3', ranges: [{ source: 0, start: 0, end: 2 }, { source: 1, start: 2, end: 3 }] },
      ],
    };
    const [c] = await contributionMatrices([classifier], (name) => (name === 'dense' ? dense : conv3));
    expect(c.values).toEqual([[2, 5], [2, 5]]);
    for (const t of [...Object.values(kernels), dense, conv3]) t.dispose();
  });

  it('read a real model through the connectivity graph: hand-set weights give the hand-computed matrices', async () => {
    // Block 1: stem 8 ch, k = 4, two layers, transition to ⌊16·0.5⌋ = 8 ch; block 2: three layers, classifier.
    const config: DenseNetConfig = {
      variant: 'tiny', blocks: [2, 3], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8,
      stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 3,
    };
    const model = buildDenseNet(config);
    const graph = connectivityGraph(config);
    // Every consumer's first weight layer gets |w| = c + 1 on input channel c, so a source covering
    // channels [a, b) has the cell (a + 1 + b) / 2.
    for (const node of graph.nodes.filter((n) => n.kind !== 'stem')) {
      const layer = model.getLayer(node.weightLayer);
      const [kernel, ...rest] = layer.getWeights();
      const magnitudes = Array.from({ length: node.inputChannels }, (_, c) => c + 1);
      const shaped = tf.tidy(() => {
        const m = tf.tensor1d(magnitudes).reshape(kernel.rank === 4 ? [1, 1, -1, 1] : [-1, 1]);
        return tf.randomUniform(kernel.shape).less(0.5).toFloat().mul(2).sub(1).mul(m); // random signs, set magnitudes
      });
      layer.setWeights([shaped, ...rest]);
      shaped.dispose();
    }
    const before = tf.memory().numTensors;
    const matrices = await contributionMatrices(contributionSpecs(graph), kernelFromModel(model));
    expect(tf.memory().numTensors).toBe(before);
    expect(matrices.map((m) => [m.sources, m.targets])).toEqual([
      [['conv1', 'conv2_block1', 'conv2_block2'], ['conv2_block1', 'conv2_block2', 'pool2']],
      [['pool2', 'conv3_block1', 'conv3_block2', 'conv3_block3'], ['conv3_block1', 'conv3_block2', 'conv3_block3', 'predictions']],
    ]);
    const close = (got: (number | null)[][], want: (number | null)[][]) =>
      got.forEach((row, t) => row.forEach((v, s) => (want[t][s] === null ? expect(v).toBeNull() : expect(v).toBeCloseTo(want[t][s] as number, 5))));
    close(matrices[0].values, [
      [4.5, null, null],
      [4.5, 10.5, null],
      [4.5, 10.5, 14.5],
    ]);
    close(matrices[1].values, [
      [4.5, null, null, null],
      [4.5, 10.5, null, null],
      [4.5, 10.5, 14.5, null],
      [4.5, 10.5, 14.5, 18.5],
    ]);
    model.dispose();
  });

  it('names the target and kernel when a channel range does not fit', async () => {
    const k = tf.zeros([1, 1, 3, 2]);
    const spec: ContributionBlockSpec = { block: 1, sources: ['input'], targets: [{ label: 'l1', weightLayer: 'w', ranges: [{ source: 0, start: 0, end: 4 }] }] };
    await expect(contributionMatrices([spec], () => k)).rejects.toThrow(
      'Channel range [0, 4) of l1 does not fit the 3 input channels of w (kernel [1, 1, 3, 2]).',
    );
    k.dispose();
  });
});
