import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { contributionMatrices, type ContributionBlockSpec } from '../../main/engine/inspect/contributions';
import { ContributionMatrixSchema } from '../../shared/protocol/inspect';

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

  it('names the target and kernel when a channel range does not fit', async () => {
    const k = tf.zeros([1, 1, 3, 2]);
    const spec: ContributionBlockSpec = { block: 1, sources: ['input'], targets: [{ label: 'l1', weightLayer: 'w', ranges: [{ source: 0, start: 0, end: 4 }] }] };
    await expect(contributionMatrices([spec], () => k)).rejects.toThrow(
      'Channel range [0, 4) of l1 does not fit the 3 input channels of w (kernel [1, 1, 3, 2]).',
    );
    k.dispose();
  });
});
