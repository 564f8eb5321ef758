import { z } from 'zod';

/**
 * Training settings. Defaults are the paper's recipe (§4.2): SGD, Nesterov momentum 0.9,
 * weight decay 1e-4, lr 0.1 divided by 10 at 50% and 75% of the epochs.
 */
export const DatasetSpecSchema = z.union([
  z.object({ kind: z.literal('builtin'), name: z.enum(['mnist', 'fashion-mnist']), limit: z.number().int().positive().optional() }),
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
  z.object({ kind: z.literal('csv'), path: z.string().min(1) }),
]);
export type DatasetSpec = z.infer<typeof DatasetSpecSchema>;

export const OptimizerSchema = z.enum(['sgd', 'adam', 'adamw']);
export const ScheduleSchema = z.enum(['multistep', 'step', 'cosine', 'onecycle', 'constant']);
/** A TF.js backend (`auto`: the best that starts): what eval, predict and bench --backend take. */
export const BackendNameSchema = z.enum(['auto', 'tensorflow', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendNameSchema>;
/**
 * What trains a run: a TF.js backend, or `pytorch`, the PyTorch engine (a Python trainer). `auto`
 * takes PyTorch when it finds a usable GPU, else the best TF.js backend.
 */
export const TrainBackendSchema = z.enum([...BackendNameSchema.options, 'pytorch']);
export type TrainBackendName = z.infer<typeof TrainBackendSchema>;
/** The PyTorch engine's device: `auto` is a GPU when PyTorch has a usable one, else the CPU. */
export const DeviceSchema = z.enum(['auto', 'cuda', 'mps', 'cpu']);
export type DeviceName = z.infer<typeof DeviceSchema>;
/** Mixed precision of the PyTorch engine on a GPU (torch.autocast; fp16 with a gradient scaler). */
export const PrecisionSchema = z.enum(['fp32', 'bf16', 'fp16']);

/**
 * Transfer learning as two phases of one run (the recipe of Keras' and PyTorch's fine-tuning
 * guides): for the first `headEpochs` epochs only the classifier trains, the pretrained features
 * frozen, their batch norms normalizing with their stored statistics and leaving them alone; then
 * every layer trains, at the learning rate × `lrFactor`, with the run's schedule over the
 * remaining epochs. In phase 2 the batch norms train as usual (PyTorch's way), or, with
 * `freezeBatchNorm`, keep normalizing with the stored statistics while their γ and β train
 * (Keras' advice for small datasets close to the pretraining data; with a large domain shift
 * those statistics no longer fit and training can stall).
 */
export const FineTuneSchema = z.object({
  headEpochs: z.number().int().min(0).max(100_000).default(3),
  lrFactor: z.number().gt(0).max(1).default(0.1),
  freezeBatchNorm: z.boolean().default(false),
});
export type FineTune = z.infer<typeof FineTuneSchema>;

export const TrainSettingsSchema = z.object({
  epochs: z.number().int().min(1).max(100_000).default(10),
  batchSize: z.number().int().min(1).max(4096).default(64),
  optimizer: OptimizerSchema.default('sgd'),
  lr: z.number().positive().max(10).default(0.1),
  momentum: z.number().min(0).max(0.9999).default(0.9),
  nesterov: z.boolean().default(true),
  weightDecay: z.number().min(0).max(1).default(1e-4),
  schedule: ScheduleSchema.default('multistep'),
  /** Epoch fractions at which multistep divides the lr by `gamma`. */
  milestones: z.array(z.number().gt(0).lt(1)).default([0.5, 0.75]),
  gamma: z.number().gt(0).max(1).default(0.1),
  /** For `step`: divide the lr by `gamma` every `stepEpochs` epochs. */
  stepEpochs: z.number().int().min(1).default(30),
  warmupEpochs: z.number().min(0).default(0),
  labelSmoothing: z.number().min(0).lt(1).default(0),
  earlyStopping: z
    .object({ metric: z.enum(['valLoss', 'valAccuracy']), patience: z.number().int().min(1), minDelta: z.number().min(0).default(0) })
    .nullable()
    .default(null),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
  augment: z.object({ padCrop: z.boolean().default(true), flip: z.boolean().default(true) }).default({ padCrop: true, flip: true }),
  normalize: z.boolean().default(true),
  valFraction: z.number().min(0).lt(1).default(0.1),
  backend: TrainBackendSchema.default('auto'),
  /** PyTorch engine only (the TF.js engine ignores them): device, mixed precision, channels_last memory format. */
  device: DeviceSchema.default('auto'),
  precision: PrecisionSchema.default('fp32'),
  channelsLast: z.boolean().default(false),
  /** PyTorch engine under torchrun: batch-norm statistics over every process's share of the batch (CUDA only). */
  syncBatchNorm: z.boolean().default(false),
  /**
   * PyTorch engine: the Python interpreter to run it with; absent, one is found (README, "The
   * PyTorch engine"). A run copied to a machine without this path finds one there instead.
   */
  python: z.string().min(1).max(1000).optional(),
  /** Two-phase fine-tuning of pretrained weights; null: every layer trains from the first step. */
  fineTune: FineTuneSchema.nullable().default(null),
  /**
   * Memory-efficient dense layers (Pleiss et al. 2017): each dense layer's concatenation and
   * BN-ReLU are recomputed in the backward pass instead of stored, so memory grows linearly with
   * depth. Same gradients. `auto`: on where the plain layers would not fit the wasm heap.
   */
  memoryEfficient: z.enum(['auto', 'on', 'off']).default('auto'),
  /**
   * At most N images a forward/backward pass, their gradients summed before one update (batch norm
   * then sees each micro-batch's own statistics). 0: only where nothing else fits the wasm heap.
   */
  microBatch: z.number().int().min(0).max(4096).default(0),
  /** Checkpoint every N steps (and at every epoch end); keep the last `keepCheckpoints` plus the best. */
  checkpointEvery: z.number().int().min(1).default(200),
  keepCheckpoints: z.number().int().min(1).default(3),
  /** Inspection cadence: layer stats every N steps, gradient flow every K steps (0 = epoch ends only). */
  statsEvery: z.number().int().min(0).default(100),
  gradientsEvery: z.number().int().min(0).default(50),
});
export type TrainSettings = z.infer<typeof TrainSettingsSchema>;

export function defaultTrainSettings(): TrainSettings {
  return TrainSettingsSchema.parse({});
}
