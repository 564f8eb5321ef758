import type { DenseNetConfig } from '../../../shared/config';

/**
 * Where the inspectors look, by Keras layer name (main/engine/model/densenet.ts pins the names):
 *   - the stem's output (`conv1_conv` for the CIFAR stem, `pool1` for the ImageNet one);
 *   - every dense layer's k new feature maps: the output of its last conv, `conv{b+1}_block{i}_2_conv`
 *     (the builder keeps `_2_conv` for the 3×3 conv with or without a bottleneck);
 *   - every transition's output, `pool{b+1}_pool`;
 *   - the classifier input, the global pool `avg_pool`.
 * Porting note: dropout after a conv is the identity at inference, so the conv's output is what the
 * block concatenates when a probe runs.
 */
export type ProbeKind = 'stem' | 'dense' | 'transition' | 'classifier';

export interface ProbePoint {
  layer: string;
  kind: ProbeKind;
  /** 1-based dense block; 0 for the stem, blocks.length + 1 for the classifier input. */
  block: number;
  /** 1-based layer within the block, for dense layers. */
  index?: number;
}

/** Name of the conv that produces dense layer `index` of block `block` (both 1-based). */
export function denseOutputLayer(block: number, index: number): string {
  return `conv${block + 1}_block${index}_2_conv`;
}

/** Name of dense layer `index`'s first conv: the 1×1 bottleneck with B, else the 3×3 conv. */
export function denseFirstConv(block: number, index: number, bottleneck: boolean): string {
  return `conv${block + 1}_block${index}_${bottleneck ? 1 : 2}_conv`;
}

export function transitionConv(block: number): string {
  return `pool${block + 1}_conv`;
}

export const CLASSIFIER_LAYER = 'predictions';

/** Every probe point of a config, in forward order. */
export function probePoints(config: Pick<DenseNetConfig, 'blocks' | 'stem'>): ProbePoint[] {
  const points: ProbePoint[] = [{ layer: config.stem === 'cifar' ? 'conv1_conv' : 'pool1', kind: 'stem', block: 0 }];
  config.blocks.forEach((layers, b) => {
    const block = b + 1;
    for (let i = 1; i <= layers; i++) points.push({ layer: denseOutputLayer(block, i), kind: 'dense', block, index: i });
    if (block < config.blocks.length) points.push({ layer: `pool${block + 1}_pool`, kind: 'transition', block });
  });
  points.push({ layer: 'avg_pool', kind: 'classifier', block: config.blocks.length + 1 });
  return points;
}
