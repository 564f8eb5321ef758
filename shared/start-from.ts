import { z } from 'zod';

/**
 * Where a new run's weights come from:
 * - `scratch`: freshly initialized (the default);
 * - `weights`: a torchvision DenseNet state dict on disk (.pth or .safetensors), such as
 *   torchvision's ImageNet weights once downloaded;
 * - `run`: a checkpoint of another run of the same architecture.
 * The classifier is replaced when the new run has another number of classes; everything else
 * must fit the new run's architecture.
 */
export const PRETRAINED_NAMES = ['densenet121', 'densenet169', 'densenet201', 'densenet161'] as const;
export type PretrainedName = (typeof PRETRAINED_NAMES)[number];

export const StartFromSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('scratch') }),
  z.object({ kind: z.literal('weights'), file: z.string().min(1) }),
  z.object({ kind: z.literal('run'), run: z.string().min(1), checkpoint: z.string().min(1).default('best') }),
]);
export type StartFrom = z.infer<typeof StartFromSchema>;

/**
 * What a weights source says about the run it should start: the architecture it holds, the input
 * it was trained at and the normalization it expects, for a New run form to adopt.
 */
export const WeightsSourceInfoSchema = z.object({
  /** The preset the weights are, or `custom`. */
  variant: z.string(),
  architecture: z.object({
    blocks: z.array(z.number().int().min(1)),
    growthRate: z.number().int().min(1),
    bottleneck: z.boolean(),
    compression: z.number(),
    initFeatures: z.number().int().min(1),
    stem: z.enum(['imagenet', 'cifar']),
  }),
  /** [H, W, C] the weights were trained at (ImageNet weights: 224×224×3). */
  inputShape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  /** Classes of the file's classifier; null when it has none. */
  classes: z.number().int().nullable(),
  /** Their names, when the source records them (a run, a workbench export); null otherwise. */
  classNames: z.array(z.string()).nullable(),
  /** The per-channel normalization the weights expect (ImageNet's for torchvision weights), or null. */
  normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
  /** One sentence: what the file is, for the form. */
  description: z.string(),
});
export type WeightsSourceInfo = z.infer<typeof WeightsSourceInfoSchema>;
