/**
 * How much memory one training step of a DenseNet holds, per image and fixed, worked out from the
 * config alone (pure arithmetic, so the New run form can show it live). The engine's memory planner
 * compares these with the wasm heap; test/unit/shared/architecture/memory.test.ts checks them
 * against the bytes the wasm backend really allocates.
 *
 * Plain path (tfjs-layers' model.apply): every layer's output lives until the step's forward pass
 * ends, so the peak is the sum of all layer outputs. A dropout layer holds five maps of its size
 * (the uniform draws, two steps of the keep mask, the mask, the output).
 *
 * Memory-efficient path (main/engine/model/memory-efficient), as the wasm backend runs it: what the
 * backward pass needs, and no more: per dense block its shared feature buffer (its input and every
 * layer's new maps, which is also its output) and each bottleneck's 4k-map output, plus the stem's
 * and transitions' saved maps. The peak is either the end of the forward pass (all of that) or the
 * backward pass of a block's widest layer: everything saved up to the block, the gradient of its
 * buffer, and that layer's recomputed BN-ReLU, its gradient and the bottleneck's recomputed maps
 * and gradients (later blocks have been released by then). Other backends, which concatenate
 * instead of sharing a buffer, hold a little more; they have no heap limit to plan for.
 */
import type { DenseNetConfig } from '../config';
import { blockChannels, transitionChannels, validWindowOut } from './shapes';

export const FLOAT_BYTES = 4;

export interface StepMemory {
  /** Bytes per image at the peak of a plain training step. */
  plainPerImage: number;
  /** Bytes per image at the peak of a memory-efficient training step. */
  efficientPerImage: number;
  /** Trainable parameters plus batch-norm moving statistics (floats). */
  weightFloats: number;
}

interface Walk {
  plain: number;
  saved: number;
  /** The largest backward-pass peak of a block seen so far. */
  backwardPeak: number;
  weights: number;
}

const DROPOUT_MAPS = 5;

export function stepMemory(config: DenseNetConfig): StepMemory {
  const [H, W, C] = config.inputShape;
  const k = config.growthRate;
  const drop = config.dropRate > 0;
  const w: Walk = { plain: H * W * C, saved: H * W * C, backwardPeak: 0, weights: 0 };
  const bnWeights = (c: number) => 4 * c;

  let h = H;
  let wd = W;
  const F = config.initFeatures;
  if (config.stem === 'imagenet') {
    const ho = validWindowOut(H, 7, 2, 3);
    const wo = validWindowOut(W, 7, 2, 3);
    const pooledH = validWindowOut(ho, 3, 2, 1);
    const pooledW = validWindowOut(wo, 3, 2, 1);
    const padded = (H + 6) * (W + 6) * C;
    const conv = ho * wo * F;
    const padded2 = (ho + 2) * (wo + 2) * F;
    const pooled = pooledH * pooledW * F;
    w.plain += padded + 3 * conv + padded2 + pooled;
    // Saved: the padded input (conv), conv output (BN), ReLU output, padded ReLU output and the
    // pooled maps (max pool); the BN output is not needed once the ReLU has run.
    w.saved += padded + 2 * conv + padded2 + pooled;
    w.weights += 49 * C * F + bnWeights(F);
    h = pooledH;
    wd = pooledW;
  } else {
    w.plain += H * W * F;
    w.saved += H * W * F;
    w.weights += 9 * C * F;
  }

  const { channelsIn } = blockChannels(config);
  config.blocks.forEach((layers, b) => {
    const S = h * wd;
    const c0 = channelsIn[b];
    const bottleneckMaps = config.bottleneck ? 4 * k : 0;
    const cOut = c0 + layers * k;
    // The shared buffer and the bottleneck outputs.
    const own = S * (cOut + layers * bottleneckMaps);
    for (let i = 0; i < layers; i++) {
      const cin = c0 + i * k;
      // _0_bn, _0_relu, [_1_conv, (_1_drop), _1_bn, _1_relu,] _2_conv, (_2_drop), _concat
      w.plain += S * (2 * cin + (config.bottleneck ? 3 * bottleneckMaps + (drop ? DROPOUT_MAPS * bottleneckMaps : 0) : 0) + k + (drop ? DROPOUT_MAPS * k : 0) + cin + k);
      w.weights += bnWeights(cin) + (config.bottleneck ? cin * bottleneckMaps + bnWeights(bottleneckMaps) + 9 * bottleneckMaps * k : 9 * cin * k);
      // This layer's backward: its recomputed BN-ReLU and that ReLU's gradient, the bottleneck's
      // recomputed maps and gradients, its new maps' gradient, beside the buffer's gradient. With
      // dropout, the regenerated masks (and their draws) of both convs join them.
      const masks = drop ? DROPOUT_MAPS * (bottleneckMaps + k) : 0;
      w.backwardPeak = Math.max(w.backwardPeak, w.saved + own + S * (2 * cin + 5 * bottleneckMaps + 2 * k + cOut + masks));
    }
    w.saved += own;
    if (b < config.blocks.length - 1) {
      const c = transitionChannels(cOut, config.compression);
      const ph = validWindowOut(h, 2, 2);
      const pw = validWindowOut(wd, 2, 2);
      // _bn, _relu, _conv, (_drop), _pool. Saved: the ReLU's and the conv's outputs (the BN's
      // input is the block's buffer); the pooled maps are copied into the next block's buffer.
      w.plain += S * (2 * cOut + c + (drop ? DROPOUT_MAPS * c : 0)) + ph * pw * c;
      w.saved += S * (cOut + c + (drop ? 2 * c : 0));
      w.weights += bnWeights(cOut) + cOut * c;
      h = ph;
      wd = pw;
    } else {
      // bn, relu, avg_pool, predictions (the BN's input is the last block's buffer)
      w.plain += S * 2 * cOut + cOut + config.classes;
      w.saved += S * cOut + cOut + config.classes;
      w.weights += bnWeights(cOut) + cOut * config.classes + config.classes;
    }
  });
  return {
    plainPerImage: FLOAT_BYTES * w.plain,
    efficientPerImage: FLOAT_BYTES * Math.max(w.saved, w.backwardPeak),
    weightFloats: w.weights,
  };
}
