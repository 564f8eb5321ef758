/**
 * Folding an inference-mode batch normalization into the convolution that feeds it.
 *
 * BN(y) = γ·(y − μ)/√(σ² + ε) + β is affine per channel, so when y = W∗x + b is a conv's output and
 * nothing else reads y, BN∘conv is one conv with W'ₒ = sₒ·Wₒ and b'ₒ = sₒ·(bₒ − μₒ) + βₒ, where
 * sₒ = γₒ/√(σ²ₒ + ε).
 *
 * What folds in a DenseNet (Huang et al., §3, composite function BN-ReLU-Conv):
 * - The stem's BN (imagenet stem: conv1 → BN → ReLU → max-pool): folds into conv1.
 * - The second BN of each bottleneck dense layer (DenseNet-B: BN-ReLU-Conv1×1-BN-ReLU-Conv3×3):
 *   it directly follows the 1×1 conv and folds into it.
 * Everything else cannot fold:
 * - the first BN of every dense layer, the transitions' BN and the final BN normalize a
 *   concatenation (the dense connectivity), which no single conv produces; a ReLU separates them
 *   from the conv that follows, and ReLU does not commute with an affine map;
 * - with the CIFAR stem, the stem conv's output is read both by the first dense layer's BN and by
 *   the block's concatenation, so folding would change what the concatenation sees.
 * The converter therefore folds exactly when a BN's only producer is a conv whose only consumer is
 * that BN (dropout in between is the identity at inference).
 */
export interface BatchNormParams {
  gamma: Float32Array | null;
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * Returns the folded OIHW weights and bias. `weightsOIHW` has `outChannels` rows of equal size.
 * Works in float64 and rounds once, so the folded model stays within float32 rounding of the original.
 */
export function foldBatchNorm(
  weightsOIHW: Float32Array,
  bias: Float32Array | null,
  bn: BatchNormParams,
  outChannels: number,
): { weights: Float32Array; bias: Float32Array } {
  if (bn.mean.length !== outChannels || bn.variance.length !== outChannels) {
    throw new Error(`Cannot fold a batch norm over ${bn.mean.length} channels into a conv with ${outChannels} output channels.`);
  }
  const perOut = weightsOIHW.length / outChannels;
  const weights = new Float32Array(weightsOIHW.length);
  const folded = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const gamma = bn.gamma ? bn.gamma[o] : 1;
    const beta = bn.beta ? bn.beta[o] : 0;
    const scale = gamma / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let j = 0; j < perOut; j++) weights[o * perOut + j] = weightsOIHW[o * perOut + j] * scale;
    folded[o] = ((bias ? bias[o] : 0) - bn.mean[o]) * scale + beta;
  }
  return { weights, bias: folded };
}
