import { z } from 'zod';
import { LiveStatusSchema, RunEndSchema } from '../run/lifecycle';
import { StartFromSchema } from '../start-from';
import { DatasetSpecSchema, TrainSettingsSchema } from '../training';
import { ValidDenseNetConfigSchema } from '../validation';
import { InspectWhatSchema } from './inspect';

/**
 * Messages between a host (CLI, serve, Electron main) and the trainer process.
 * Every message is validated on arrival, whichever side sent it; only plain numbers and arrays cross.
 */
export const PROTOCOL_VERSION = 1;

const finite = z.number().finite();

export const ErrorDataSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  user: z.boolean().optional(),
});

// ---- commands: host -> trainer -------------------------------------------------------------
export const StartCommandSchema = z.object({
  type: z.literal('start'),
  /** The run's folder, which must not exist yet: the trainer creates it. */
  runDir: z.string().min(1),
  /** Display name; default `<variant> on <dataset>`. */
  name: z.string().max(200).optional(),
  model: ValidDenseNetConfigSchema,
  settings: TrainSettingsSchema,
  dataset: DatasetSpecSchema,
  /** Where the weights come from; default scratch. A `run` is a folder path (the host resolves ids). */
  startFrom: StartFromSchema.optional(),
});
export const ResumeRunCommandSchema = z.object({ type: z.literal('resumeRun'), runDir: z.string().min(1) });
export const PauseCommandSchema = z.object({ type: z.literal('pause') });
export const ResumeCommandSchema = z.object({ type: z.literal('resume') });
export const StopCommandSchema = z.object({ type: z.literal('stop') });
export const SnapshotCommandSchema = z.object({ type: z.literal('snapshot') });
const requestId = z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/);
export const InspectCommandSchema = z.object({
  type: z.literal('inspect'),
  what: InspectWhatSchema,
  /** Index of a validation sample, for activations. */
  sample: z.number().int().min(0).optional(),
  /** Echoed in the progress and done events of this request. */
  requestId: requestId.optional(),
});
/**
 * Inspects a run that is not training, from one of its checkpoints: sent to a fresh trainer
 * process, which answers with the result event and `inspectDone`, then is closed by its host.
 */
export const InspectRunCommandSchema = z.object({
  type: z.literal('inspectRun'),
  runDir: z.string().min(1),
  /** `latest`, `best` or a checkpoint name. */
  checkpoint: z.string().min(1).max(200),
  what: InspectWhatSchema,
  sample: z.number().int().min(0).optional(),
  requestId,
});
/** Stops an on-demand inspection in progress (an ablation, an evaluation) at its next chunk. */
export const CancelInspectCommandSchema = z.object({ type: z.literal('cancelInspect'), requestId });

export const TrainerCommandSchema = z.discriminatedUnion('type', [
  StartCommandSchema,
  ResumeRunCommandSchema,
  PauseCommandSchema,
  ResumeCommandSchema,
  StopCommandSchema,
  SnapshotCommandSchema,
  InspectCommandSchema,
  InspectRunCommandSchema,
  CancelInspectCommandSchema,
]);
export type TrainerCommand = z.infer<typeof TrainerCommandSchema>;

// ---- events: trainer -> host -----------------------------------------------------------------
export const ReadyEventSchema = z.object({
  type: z.literal('ready'),
  pid: z.number().int(),
  protocol: z.literal(PROTOCOL_VERSION),
});
/** The run's status changed while its trainer works on it (shared/run/lifecycle.ts); its end is `finished`. */
export const StateEventSchema = z.object({
  type: z.literal('state'),
  state: LiveStatusSchema,
  runId: z.string().optional(),
});
export const StepEventSchema = z.object({
  type: z.literal('step'),
  runId: z.string(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  /** Steps done in this epoch, and steps per epoch, for progress and ETA. */
  epochStep: z.number().int().min(0),
  stepsPerEpoch: z.number().int().min(1),
  /** This step's batch: its mean loss and its accuracy. */
  loss: finite,
  accuracy: finite,
  lr: finite,
  imagesPerSec: finite,
  time: finite,
  /** Images in this step's batch; the last batch of an epoch may be much smaller than the others. */
  images: z.number().int().min(1).optional(),
  /**
   * Mean loss and accuracy over this epoch's images so far, weighted by batch size: at the epoch's
   * last step, what its `epoch` event reports. A tiny last batch moves them by its share only.
   */
  epochLoss: finite.optional(),
  epochAccuracy: finite.optional(),
});
export const EpochEventSchema = z.object({
  type: z.literal('epoch'),
  runId: z.string(),
  epoch: z.number().int().min(0),
  step: z.number().int().min(0),
  loss: finite,
  accuracy: finite,
  valLoss: finite.nullable(),
  valAccuracy: finite.nullable(),
  lr: finite,
  seconds: finite,
  time: finite,
});
export const LogEventSchema = z.object({
  type: z.literal('log'),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
  time: finite,
});
/**
 * The info log line a trainer writes when a checkpoint someone asked for (`snapshot`) is on disk;
 * the UI settles its "Checkpoint requested" banner on it.
 */
export function checkpointWrittenMessage(step: number, name: string): string {
  return `Checkpoint ${name} written at step ${step}, as requested.`;
}
export const CHECKPOINT_WRITTEN_PATTERN = /^Checkpoint \S+ written at step (\d+), as requested\.$/;

export const ErrorEventSchema = z.object({
  type: z.literal('error'),
  runId: z.string().optional(),
  error: ErrorDataSchema,
  /** True when the run cannot go on. */
  fatal: z.boolean(),
  time: finite,
});
/** The trainer session ended: finished with a reason, failed, or interrupted (its trainer had to go). */
export const FinishedEventSchema = z.object({
  type: z.literal('finished'),
  runId: z.string(),
  reason: RunEndSchema,
  /** Why it ended, in a sentence, when it did not simply complete. */
  message: z.string().optional(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  bestValAccuracy: finite.nullable(),
  time: finite,
});

/** Core lifecycle and metric events. Inspection events live in ./inspect and join the union there. */
export const CoreEventSchemas = [
  ReadyEventSchema,
  StateEventSchema,
  StepEventSchema,
  EpochEventSchema,
  LogEventSchema,
  ErrorEventSchema,
  FinishedEventSchema,
] as const;
