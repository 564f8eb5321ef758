import * as tf from '@tensorflow/tfjs';
import type { ContributionMatrix } from '../../../shared/protocol/inspect';

/**
 * Per-layer contributions, the paper's Figure 5 ("the average absolute filter weights of
 * convolutional layers in a trained DenseNet", §5 Discussion, "Feature Reuse").
 *
 * One matrix per dense block. Columns are the target layers ℓ = 1..L of the block, then the layer
 * that consumes the block's output (the transition's 1×1 conv, or the classifier's Dense after the
 * last block). Rows are the sources: the block input, then layers 1..L. A cell is the mean absolute
 * weight of the target's first weight layer over the input channels that come from the source: the
 * sum of |w| over that channel slice divided by the number of channels in it (and by the kernel's
 * other dimensions, which are the same for every source of one target, so the paper's ranking within
 * a column is unchanged). Cells where the source does not feed the target are null.
 */

/** Where a target's input channels come from: `source` is a row index into the block's sources. */
export interface SourceRange {
  source: number;
  /** Input channels [start, end) of the target's first weight layer. */
  start: number;
  end: number;
}

export interface ContributionTargetSpec {
  /** Column label (the target layer's node id in the architecture graph). */
  label: string;
  /** The layer whose kernel is read: ℓ's first conv, the transition conv, or the classifier Dense. */
  weightLayer: string;
  ranges: SourceRange[];
}

export interface ContributionBlockSpec {
  block: number;
  /** Row labels: the block input, then layers 1..L. */
  sources: string[];
  targets: ContributionTargetSpec[];
}

/**
 * Mean |w| per input channel of a kernel: the input axis is the second-to-last one both for a conv
 * kernel [kh, kw, in, out] and for a Dense kernel [in, out]. Call inside tf.tidy().
 */
export function perInputChannelMeanAbs(kernel: tf.Tensor): tf.Tensor1D {
  if (kernel.rank < 2) throw new RangeError(`Expected a conv or Dense kernel of rank ≥ 2; got shape [${kernel.shape.join(', ')}].`);
  const inAxis = kernel.rank - 2;
  const axes = kernel.shape.map((_, i) => i).filter((i) => i !== inAxis);
  return kernel.abs().mean(axes) as tf.Tensor1D;
}

/**
 * The matrices of `specs`, reading each target's kernel through `kernelOf` (not disposed here).
 * All per-channel means are computed on the backend and downloaded in one call; the slices are
 * averaged here, in float64, since the mean over a slice of per-channel means with equal counts
 * is the mean over the slice.
 */
export async function contributionMatrices(
  specs: readonly ContributionBlockSpec[],
  kernelOf: (layer: string) => tf.Tensor,
): Promise<ContributionMatrix[]> {
  const targets = specs.flatMap((b) => b.targets);
  if (targets.length === 0) return specs.map((b) => ({ block: b.block, sources: [...b.sources], targets: [], values: [] }));
  const kernels = targets.map((t) => kernelOf(t.weightLayer));
  const offsets: number[] = [];
  let total = 0;
  kernels.forEach((k, i) => {
    offsets.push(total);
    const channels = k.shape[k.rank - 2];
    for (const r of targets[i].ranges) {
      if (!(r.start >= 0 && r.start < r.end && r.end <= channels)) {
        throw new RangeError(
          `Channel range [${r.start}, ${r.end}) of ${targets[i].label} does not fit the ${channels} input channels of ${targets[i].weightLayer} (kernel [${k.shape.join(', ')}]).`,
        );
      }
    }
    total += channels;
  });
  const packed = tf.tidy(() => tf.concat(kernels.map(perInputChannelMeanAbs)));
  let data: Float32Array;
  try {
    data = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  let t = 0;
  return specs.map((b) => ({
    block: b.block,
    sources: [...b.sources],
    targets: b.targets.map((x) => x.label),
    values: b.targets.map((target) => {
      const base = offsets[t++];
      const row: (number | null)[] = b.sources.map(() => null);
      for (const r of target.ranges) {
        let sum = 0;
        for (let c = r.start; c < r.end; c++) sum += data[base + c];
        row[r.source] = sum / (r.end - r.start);
      }
      return row;
    }),
  }));
}

/** Reads a layer's kernel (its first weight) from a model, for `contributionMatrices`. */
export function kernelFromModel(model: tf.LayersModel): (layer: string) => tf.Tensor {
  return (name) => {
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(name);
    } catch {
      throw new RangeError(`The model has no layer named ${name}; contributions need the connectivity graph of this model's config.`);
    }
    const kernel = layer.getWeights()[0];
    if (!kernel) throw new RangeError(`Layer ${name} has no weights to read contributions from.`);
    return kernel;
  };
}
