/**
 * Spatial and channel arithmetic of a DenseNet, shared by validation, the architecture summary
 * and the connectivity graph. Pure functions of the config, so the renderer can use them live.
 */
import type { DenseNetConfig } from '../config';

/** Output size of a 'valid' window op (conv or pool) along one axis, as Keras and TF.js compute it. */
export function validWindowOut(size: number, window: number, stride: number, pad = 0): number {
  return Math.floor((size + 2 * pad - window) / stride) + 1;
}

/**
 * Side length after the stem. ImageNet stem (paper Table 1): 7×7/2 conv on a 3-pixel zero pad,
 * then 3×3/2 max-pool on a 1-pixel zero pad, i.e. ⌈⌈H/2⌉/2⌉. CIFAR stem (paper §3,
 * "Implementation Details"): one 3×3 'same' conv, size unchanged.
 */
export function stemOutSize(size: number, stem: DenseNetConfig['stem']): number {
  if (stem === 'cifar') return size;
  const conv = validWindowOut(size, 7, 2, 3);
  return validWindowOut(conv, 3, 2, 1);
}

/** Side length after a transition's 2×2/2 average pool (paper §3, "Transition layers"). */
export function transitionOutSize(size: number): number {
  return validWindowOut(size, 2, 2);
}

/** Side lengths after the stem and after each dense block (blocks keep the size). */
export function blockSizes(size: number, stem: DenseNetConfig['stem'], blockCount: number): number[] {
  const sizes = [stemOutSize(size, stem)];
  for (let b = 1; b < blockCount; b++) sizes.push(transitionOutSize(sizes[b - 1]));
  return sizes;
}

/** Smallest input side for which every block still has at least one pixel. */
export function minInputSize(stem: DenseNetConfig['stem'], blockCount: number): number {
  // Every step is monotone in the input size, so the first size that survives is the minimum.
  let size = 1;
  while (blockSizes(size, stem, blockCount).some((s) => s < 1)) size++;
  return size;
}

/**
 * Channels out of a transition with m input channels: ⌊θ·m⌋ (paper §3, "Compression").
 * Porting note: plain floating-point floor, exactly Keras' `int(m * reduction)`.
 */
export function transitionChannels(m: number, compression: number): number {
  return Math.floor(m * compression);
}

/** Channels a dense block hands on: k0 + k·ℓ (paper §3, "Growth rate"). */
export function blockOutChannels(channelsIn: number, layers: number, growthRate: number): number {
  return channelsIn + layers * growthRate;
}

/** Channels entering each dense block, and the channels leaving the last one. */
export function blockChannels(config: Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'compression' | 'initFeatures'>): {
  channelsIn: number[];
  channelsOut: number[];
} {
  const channelsIn: number[] = [];
  const channelsOut: number[] = [];
  let c = config.initFeatures;
  config.blocks.forEach((layers, b) => {
    channelsIn.push(c);
    c = blockOutChannels(c, layers, config.growthRate);
    channelsOut.push(c);
    if (b < config.blocks.length - 1) c = transitionChannels(c, config.compression);
  });
  return { channelsIn, channelsOut };
}
