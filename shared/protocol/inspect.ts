import { z } from 'zod';

/**
 * Inspection events (main/engine/inspect). Plain numbers only; images travel as base64 PNG.
 * Versioned with the rest of the protocol (PROTOCOL_VERSION in ./trainer, sent in `ready`).
 *
 * Keys, for the renderer: layerStats, activations and ablation are keyed by connectivity-graph node
 * id (shared/architecture/graph.ts: `conv1`, `conv2_block3`, `pool2`, `predictions`), so a click on
 * a graph node finds its results directly. Gradients are per weight layer (`conv2_block3_1_conv`,
 * `predictions`); a node's `layers` lists them. Contribution matrices use node ids for rows/columns.
 *
 * Cadence (TrainSettings): layerStats every `statsEvery` steps and at every epoch end (epochEnd:
 * true); gradients every `gradientsEvery` steps; contributions at every epoch end; all of them, and
 * activations, ablation and evaluation, also on demand (the `inspect` command). The UI throttle
 * (main/host/throttle.ts) keeps the latest intermediate layerStats/gradients per window and never
 * drops epoch-end layerStats nor the types in NEVER_DROPPED.
 */
const finite = z.number().finite();
/**
 * The checkpoint an on-demand result was computed from (`step-000000090`), when it came from a
 * saved checkpoint rather than the live weights between training steps.
 */
const checkpoint = z.string().min(1).max(200).optional();

export const LayerStatSchema = z.object({
  /**
   * Graph node id. The stem, dense layers and transitions are probed at their output (a dense
   * layer's k new maps); `predictions` at its input features (the global pool). Computed on a fixed
   * probe batch of validation samples, in inference mode.
   */
  layer: z.string(),
  mean: finite,
  std: finite,
  meanAbs: finite,
  min: finite,
  max: finite,
  /**
   * Fraction of values ≤ 0: what a ReLU applied to these maps zeroes. (In BN-ReLU-conv order each
   * consumer normalizes first, so this is the raw sign pattern, before any consumer's BN.)
   */
  zeroFraction: finite,
  /** 32 equal bins over [histMin, histMax] (= [min, max]); the last bin includes max. */
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
  checkpoint,
  time: finite,
});

export const GradientStatSchema = z.object({
  /** Conv or Dense layer name (Keras), e.g. `conv2_block1_1_conv`; a Dense layer's bias counts with its kernel. */
  layer: z.string(),
  /** L2 norm of the weight gradients of this layer. */
  gradNorm: finite,
  /**
   * ‖Δw‖ / ‖w‖ of this step's update as applied (momentum and weight decay included); ‖w‖ before
   * it. Null for gradients computed on request from a checkpoint, where no update was applied.
   */
  updateRatio: finite.nullable(),
  weightNorm: finite,
});
export const GradientsEventSchema = z.object({
  type: z.literal('gradients'),
  runId: z.string(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  layers: z.array(GradientStatSchema),
  checkpoint,
  time: finite,
});

/** The paper's Figure 5: one matrix per dense block. */
export const ContributionMatrixSchema = z.object({
  block: z.number().int().min(1),
  /** Row labels: sources (block input, then layers 1..L). */
  sources: z.array(z.string()),
  /** Column labels: target layers 1..L, then the transition or classifier. */
  targets: z.array(z.string()),
  /**
   * values[target][source]: mean |w| of the target's first conv (1×1 bottleneck with B, else the
   * 3×3; the transition's 1×1 conv; the classifier's Dense kernel) over the input channels coming
   * from the source. null where the source does not feed the target (source after target).
   */
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
  /** Graph node id (spatial nodes only: the classifier's pooled input has no map). */
  layer: z.string(),
  /** The top-N channels by mean activation, highest first. Each PNG is scaled to its own min..max. */
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
  /** Index of the validation sample. */
  sample: z.number().int().min(0),
  label: z.string().optional(),
  layers: z.array(ActivationMapSchema),
  checkpoint,
  time: finite,
});

export const AblationEventSchema = z.object({
  type: z.literal('ablation'),
  runId: z.string(),
  step: z.number().int().min(0),
  /** Validation accuracy of the intact model. */
  baselineAccuracy: finite,
  /** Per dense layer (graph node id): accuracy with its k new maps zeroed; drop = baseline − accuracy. */
  layers: z.array(z.object({ layer: z.string(), accuracy: finite, drop: finite })),
  checkpoint,
  /** Validation samples every accuracy is over. */
  samples: z.number().int().min(0).optional(),
  /** Wall time the whole ablation took. */
  seconds: finite.optional(),
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
  /** Per class: precision and recall (0 where undefined), one-vs-rest accuracy, number of samples. */
  perClass: z.array(z.object({ precision: finite, recall: finite, accuracy: finite, support: z.number().int().min(0) })),
  /** The most confidently wrong samples, most confident first; `index` is the sample's in the split. */
  misclassified: z.array(z.object({
    index: z.number().int().min(0),
    actual: z.number().int(),
    predicted: z.number().int(),
    confidence: finite,
    /** Where the image came from: its path relative to the dataset folder, or a built-in image's class and number. */
    file: z.string().max(1000).optional(),
    /** The image as the model saw it (resized, before normalization), as a small base64 PNG. */
    thumbnail: z.string().max(64 * 1024).optional(),
  })),
  checkpoint,
  /** What was evaluated: `validation split`, `test split`, `all of mnist`, …; the validation split when absent. */
  split: z.string().max(200).optional(),
  /** Mean cross-entropy over the samples, when computed. */
  loss: finite.optional(),
  time: finite,
});

export const InspectWhatSchema = z.enum(['stats', 'gradients', 'contributions', 'activations', 'ablation', 'evaluation']);
export type InspectWhat = z.infer<typeof InspectWhatSchema>;

/**
 * How far an on-demand inspection is (ablation and evaluation take a while): `done` of `total`
 * units of work, with a sentence. `requestId` echoes the request's.
 */
export const InspectProgressEventSchema = z.object({
  type: z.literal('inspectProgress'),
  runId: z.string(),
  requestId: z.string().max(100).optional(),
  what: InspectWhatSchema,
  done: z.number().min(0),
  total: z.number().min(0),
  message: z.string().max(500).optional(),
  time: finite,
});

/**
 * An on-demand inspection is over: its result event came before this one (`ok`), or it failed or
 * was cancelled, and `error` says why. Every request ends with exactly one of these.
 */
export const InspectDoneEventSchema = z.object({
  type: z.literal('inspectDone'),
  runId: z.string(),
  requestId: z.string().max(100).optional(),
  what: InspectWhatSchema,
  ok: z.boolean(),
  cancelled: z.boolean().optional(),
  error: z.object({ name: z.string(), message: z.string(), user: z.boolean().optional() }).optional(),
  seconds: finite.optional(),
  time: finite,
});

export const InspectEventSchemas = [
  LayerStatsEventSchema,
  GradientsEventSchema,
  ContributionsEventSchema,
  ActivationsEventSchema,
  AblationEventSchema,
  EvaluationEventSchema,
  InspectProgressEventSchema,
  InspectDoneEventSchema,
] as const;
