import { z } from 'zod';
import { InspectCommandSchema } from '../protocol';
import { StartFromSchema } from '../start-from';
import { DatasetSpecSchema, TrainSettingsSchema } from '../training';
import { ValidDenseNetConfigSchema } from '../validation';
import { path, runId } from './fields';

/** The requests of the WorkbenchApi's methods (./methods). */
/** Methods without arguments: nothing, or an empty object (JSON transports may send `{}`). */
export const NoRequestSchema = z.union([z.undefined(), z.null(), z.object({}).strict()]).transform(() => undefined);

export const ScanRequestSchema = z.object({
  dataset: DatasetSpecSchema,
  /** The size images will be resized to; thumbnails keep their source aspect. */
  inputShape: z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096), z.number().int().min(1).max(4)]).optional(),
  /** Thumbnails per class, 0 to skip decoding. */
  thumbnailsPerClass: z.number().int().min(0).max(16).default(4),
});
export type ScanRequest = z.input<typeof ScanRequestSchema>;

/** No `path` lists the roots themselves. Paths outside the roots are refused. */
export const ListFolderRequestSchema = z.object({ path: path.optional() });
export type ListFolderRequest = z.input<typeof ListFolderRequestSchema>;

export const StartRunRequestSchema = z.object({
  name: z.string().max(200).optional(),
  model: ValidDenseNetConfigSchema,
  settings: TrainSettingsSchema,
  dataset: DatasetSpecSchema,
  /** Pretrained weights to start from; a `run` is a run id of the store. Default scratch. */
  startFrom: StartFromSchema.optional(),
});
export type StartRunRequest = z.input<typeof StartRunRequestSchema>;

export const RunRefSchema = z.object({ runId });
export type RunRef = z.infer<typeof RunRefSchema>;

export const RenameRunRequestSchema = z.object({ runId, name: z.string().trim().min(1).max(200) });
export type RenameRunRequest = z.input<typeof RenameRunRequestSchema>;

/**
 * Inspect a run. The live run (running or paused) is inspected by its trainer, on its current
 * weights. Any other run is inspected from a checkpoint (`best` by default, as `eval` and export
 * do) by a short-lived worker process; its evaluations and ablations are recorded in the run.
 * Progress and the result arrive as events with the answer's `requestId`, then `inspectDone`.
 */
export const InspectRequestSchema = InspectCommandSchema.omit({ type: true, requestId: true }).extend({
  /** The run to inspect; default the live run. */
  runId: runId.optional(),
  /** `latest`, `best` or a checkpoint name, for a run that is not training. */
  checkpoint: z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, 'Checkpoint names use letters, digits, ".", "_" and "-" only.').optional(),
});
export type InspectRequest = z.input<typeof InspectRequestSchema>;
export const CancelInspectRequestSchema = z.object({ requestId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/) });
export type CancelInspectRequest = z.input<typeof CancelInspectRequestSchema>;

export const ExportFormatSchema = z.enum(['tfjs', 'onnx', 'torchvision', 'report', 'csv']);
export const ExportRequestSchema = z.object({
  runId,
  format: ExportFormatSchema,
  checkpoint: z.enum(['latest', 'best']).default('best'),
  /** ONNX only: fold batch norms into the preceding convs where the graph allows it. */
  foldBn: z.boolean().default(false),
  /** Where to write; default `<run>/exports/<format>`. Browser mode accepts only folders under its roots or the run store. */
  outDir: path.optional(),
});
export type ExportRequest = z.input<typeof ExportRequestSchema>;

/** Desktop app only: which native folder picker to show. */
export const ChooseFolderRequestSchema = z.object({ purpose: z.enum(['dataset', 'export']), defaultPath: path.optional() });
export type ChooseFolderRequest = z.input<typeof ChooseFolderRequestSchema>;
