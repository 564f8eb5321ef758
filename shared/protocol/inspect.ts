import { z } from 'zod';

/** Inspection events (main/engine/inspect). Plain numbers only; images travel as base64 PNG. */
const finite = z.number().finite();

export const LayerStatSchema = z.object({
  /** Keras-style layer name, matching the architecture graph's node ids. */
  layer: z.string(),
  mean: finite,
  std: finite,
  meanAbs: finite,
  min: finite,
  max: finite,
  /** Fraction of activations the next ReLU zeroes (x ≤ 0). */
  zeroFraction: finite,
  /** 32-bin histogram over [histMin, histMax]. */
  histMin: finite,
  histMax: finite,
  histogram: z.array(z.number().int().min(0)).length(32),
});
export type LayerStat = z.infer<typeof LayerStatSchema>;

export const LayerStatsEventSchema = z.object({
  type: z.literal('layerStats'),
  runId: z.string(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  /** True when computed at an epoch end (never dropped by the throttle). */
  epochEnd: z.boolean(),
  layers: z.array(LayerStatSchema),
  time: finite,
});

export const GradientStatSchema = z.object({
  layer: z.string(),
  /** L2 norm of the weight gradients of this layer. */
  gradNorm: finite,
  /** ‖Δw‖ / ‖w‖ of the last update. */
  updateRatio: finite,
  weightNorm: finite,
});
export const GradientsEventSchema = z.object({
  type: z.literal('gradients'),
  runId: z.string(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  layers: z.array(GradientStatSchema),
  time: finite,
});

/** The paper's Figure 5: one matrix per dense block. */
export const ContributionMatrixSchema = z.object({
  block: z.number().int().min(1),
  /** Row labels: sources (block input, then layers 1..L). */
  sources: z.array(z.string()),
  /** Column labels: target layers 1..L, then the transition or classifier. */
  targets: z.array(z.string()),
  /** values[target][source]; null where the source does not feed the target. */
  values: z.array(z.array(finite.nullable())),
});
export type ContributionMatrix = z.infer<typeof ContributionMatrixSchema>;
export const ContributionsEventSchema = z.object({
  type: z.literal('contributions'),
  runId: z.string(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  blocks: z.array(ContributionMatrixSchema),
  time: finite,
});

export const ActivationMapSchema = z.object({
  layer: z.string(),
  channels: z.array(z.number().int().min(0)),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  /** One base64 8-bit grayscale PNG per channel. */
  pngs: z.array(z.string()),
});
export const ActivationsEventSchema = z.object({
  type: z.literal('activations'),
  runId: z.string(),
  step: z.number().int().min(0),
  sample: z.number().int().min(0),
  label: z.string().optional(),
  layers: z.array(ActivationMapSchema),
  time: finite,
});

export const AblationEventSchema = z.object({
  type: z.literal('ablation'),
  runId: z.string(),
  step: z.number().int().min(0),
  baselineAccuracy: finite,
  layers: z.array(z.object({ layer: z.string(), accuracy: finite, drop: finite })),
  time: finite,
});

export const EvaluationEventSchema = z.object({
  type: z.literal('evaluation'),
  runId: z.string(),
  step: z.number().int().min(0),
  classes: z.array(z.string()),
  accuracy: finite,
  /** confusion[actual][predicted] counts. */
  confusion: z.array(z.array(z.number().int().min(0))),
  perClass: z.array(z.object({ precision: finite, recall: finite, accuracy: finite, support: z.number().int().min(0) })),
  misclassified: z.array(z.object({ index: z.number().int().min(0), actual: z.number().int(), predicted: z.number().int(), confidence: finite })),
  time: finite,
});

export const InspectEventSchemas = [
  LayerStatsEventSchema,
  GradientsEventSchema,
  ContributionsEventSchema,
  ActivationsEventSchema,
  AblationEventSchema,
  EvaluationEventSchema,
] as const;
