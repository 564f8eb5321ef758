import { z } from 'zod';

/**
 * The architecture of one DenseNet (Huang et al., "Densely Connected Convolutional Networks").
 * Plain data: it crosses process boundaries and is stored in a run's config.json.
 *
 * `DenseNetConfigSchema` is its one definition: the type is inferred from it, and every field's
 * error message says what is accepted. Checks that need several fields at once (is the input big
 * enough for the downsamplings, does a transition keep a channel) are in ./validation, which also
 * gives the schema used where a config arrives from outside (`ValidDenseNetConfigSchema`).
 */
/** Renders a value for an error sentence: strings quoted, missing values named as such. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One error message for every way a field can be wrong, so the sentence always says what is accepted. */
const says = (accepted: string) => ({ error: (issue: { input?: unknown }) => `${accepted}; got ${formatValue(issue.input)}.` });

const wholeAtLeast = (what: string, min: number) =>
  z.number(says(`${what} must be a whole number ≥ ${min}`)).int(says(`${what} must be a whole number ≥ ${min}`)).min(min, says(`${what} must be a whole number ≥ ${min}`));

const blocksMessage = 'Blocks must be a non-empty list of layer counts, one per dense block (e.g. [6, 12, 24, 16])';
const inputMessage = 'Input shape must be [height, width, channels], e.g. [28, 28, 1] or [224, 224, 3]';

export const DenseNetConfigSchema = z.object(
  {
    /** Preset name (e.g. `densenet121`) or `custom`. */
    variant: z.string(says('Variant must be a preset name or "custom"')).min(1, says('Variant must be a preset name or "custom"')).max(100, says('Variant must be a preset name or "custom", at most 100 characters')),
    /** Layers per dense block, e.g. [6, 12, 24, 16] for DenseNet-121. */
    blocks: z.array(wholeAtLeast('Each dense block’s layer count', 1), says(blocksMessage)).min(1, says(blocksMessage)).max(64, says(`${blocksMessage}, at most 64 blocks`)),
    /** Growth rate k: new feature maps each dense layer adds (paper §3). */
    growthRate: wholeAtLeast('Growth rate k', 1),
    /** B: each dense layer starts with a 1×1 conv to 4k channels (paper §3, "Bottleneck layers"). */
    bottleneck: z.boolean(says('Bottleneck (B) must be true or false')),
    /** Compression θ in (0, 1]: a transition outputs ⌊θ·m⌋ of its m input channels (paper §3). */
    compression: z
      .number(says('Compression θ must be in (0, 1]'))
      .gt(0, says('Compression θ must be in (0, 1]'))
      .max(1, says('Compression θ must be in (0, 1]')),
    /** Channels out of the stem (2k in the paper for DenseNet-BC; 64 for DenseNet-121). */
    initFeatures: wholeAtLeast('Initial features (channels out of the stem)', 1),
    /** `imagenet`: 7×7/2 conv + 3×3/2 max-pool. `cifar`: one 3×3 conv. */
    stem: z.enum(['imagenet', 'cifar'], says('Stem must be "imagenet" (7×7/2 conv + 3×3/2 max-pool) or "cifar" (one 3×3 conv)')),
    /** Dropout after each conv of a dense layer (paper: 0.2 on CIFAR without augmentation). */
    dropRate: z.number(says('Drop rate must be in [0, 1)')).min(0, says('Drop rate must be in [0, 1)')).lt(1, says('Drop rate must be in [0, 1)')),
    /** [H, W, C] of the input images. */
    inputShape: z.tuple(
      [
        wholeAtLeast('Input height', 1),
        wholeAtLeast('Input width', 1),
        // A refinement rather than a union of literals, so the type stays [number, number, number].
        z.number(says('Input channels must be 1 (grayscale) or 3 (RGB)')).refine((c): boolean => c === 1 || c === 3, says('Input channels must be 1 (grayscale) or 3 (RGB)')),
      ],
      says(inputMessage),
    ),
    /** Number of output classes (≥ 2). */
    classes: wholeAtLeast('Classes', 2),
  },
  says('A DenseNet config must be an object with variant, blocks, growthRate, bottleneck, compression, initFeatures, stem, dropRate, inputShape and classes'),
);

export type DenseNetConfig = z.infer<typeof DenseNetConfigSchema>;

/** One problem with a config: which field, the value found, and what is accepted. */
export interface ConfigProblem {
  field: string;
  value: unknown;
  message: string;
}
