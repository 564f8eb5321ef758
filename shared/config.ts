/**
 * The architecture of one DenseNet (Huang et al., "Densely Connected Convolutional Networks").
 * Plain data: it crosses process boundaries and is stored in a run's config.json.
 */
export interface DenseNetConfig {
  /** Preset name (e.g. `densenet121`) or `custom`. */
  variant: string;
  /** Layers per dense block, e.g. [6, 12, 24, 16] for DenseNet-121. */
  blocks: number[];
  /** Growth rate k: new feature maps each dense layer adds (paper §3). */
  growthRate: number;
  /** B: each dense layer starts with a 1×1 conv to 4k channels (paper §3, "Bottleneck layers"). */
  bottleneck: boolean;
  /** Compression θ in (0, 1]: a transition outputs ⌊θ·m⌋ of its m input channels (paper §3). */
  compression: number;
  /** Channels out of the stem (2k in the paper for DenseNet-BC; 64 for DenseNet-121). */
  initFeatures: number;
  /** `imagenet`: 7×7/2 conv + 3×3/2 max-pool. `cifar`: one 3×3 conv. */
  stem: 'imagenet' | 'cifar';
  /** Dropout after each conv of a dense layer (paper: 0.2 on CIFAR without augmentation). Default 0. */
  dropRate: number;
  /** [H, W, C] of the input images. */
  inputShape: [number, number, number];
  /** Number of output classes (≥ 2). */
  classes: number;
}

/** One problem with a config: which field, the value found, and what is accepted. */
export interface ConfigProblem {
  field: string;
  value: unknown;
  message: string;
}
