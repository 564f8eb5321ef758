import { z } from 'zod';
import { RunFieldsSchema, RunStateSchema } from '../run/state';
import { DatasetSpecSchema, TrainSettingsSchema } from '../training';
import { ValidDenseNetConfigSchema } from '../validation';
import { HostEventSchema } from './events';
import { runId } from './fields';

/** The responses of the WorkbenchApi's methods (./methods). */

/** An inspection's answer: the id its progress and result events carry. */
export const InspectTicketSchema = z.object({ requestId: z.string() });
export type InspectTicket = z.infer<typeof InspectTicketSchema>;

export const AppInfoSchema = z.object({
  apiVersion: z.number().int(),
  version: z.string(),
  mode: z.enum(['browser', 'electron', 'test']),
  /** Dataset roots the host lets the UI browse (browser mode: --root; Electron: chosen folders). */
  roots: z.array(z.string()),
  runsDir: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

/** What the host found of the PyTorch engine: the interpreter it would use, and why (main/engine/pytorch/detect.ts). */
export const PyTorchInfoSchema = z.object({
  /** The interpreter that runs the engine, or null when none can. */
  python: z.string().nullable(),
  torch: z.string().optional(),
  /** The GPU (or the CPU) it would train on, and its memory. */
  device: z.string().optional(),
  memoryBytes: z.number().nullable().optional(),
  /** True when its torch has a usable GPU: then `auto` trains with PyTorch. */
  gpu: z.boolean(),
  why: z.string(),
  passedOver: z.array(z.object({ python: z.string(), reason: z.string() })),
});
export type PyTorchInfo = z.infer<typeof PyTorchInfoSchema>;

export const BackendInfoSchema = z.object({
  name: z.string(),
  flavour: z.string(),
  version: z.string(),
  device: z.string(),
  threads: z.number().int(),
  simd: z.boolean().optional(),
  skipped: z.array(z.object({ backend: z.string(), reason: z.string() })),
  /** The PyTorch engine, when the host looked for it. */
  pytorch: PyTorchInfoSchema.optional(),
});
export type BackendInfo = z.infer<typeof BackendInfoSchema>;

/** main/engine/data's ScanReport plus thumbnails, as data URLs, for the picker. */
export const ScanResultSchema = z.object({
  root: z.string(),
  classes: z.array(z.string()),
  counts: z.array(z.number().int().min(0)),
  splits: z.object({ train: z.array(z.number().int()), val: z.array(z.number().int()), test: z.array(z.number().int()) }),
  /** Source sizes "WxH" → count, the most common first. */
  sizes: z.record(z.string(), z.number().int()),
  /** Accepted images whose header says grayscale, and those in colour: they choose the input channels. */
  modes: z.object({ gray: z.number().int().min(0), color: z.number().int().min(0) }).optional(),
  /** False when only headers were read, so truncated files may still be counted as good. */
  verified: z.boolean().optional(),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  errors: z.array(z.string()),
  warnings: z.array(z.string()),
  /** class name -> `data:image/png;base64,...` thumbnails. */
  thumbnails: z.record(z.string(), z.array(z.string())),
});
export type ScanResult = z.infer<typeof ScanResultSchema>;

export const FolderListingSchema = z.object({
  /** null when listing the roots. */
  path: z.string().nullable(),
  /** null at a root or when listing the roots. */
  parent: z.string().nullable(),
  entries: z.array(z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']) })),
  truncated: z.boolean(),
});
export type FolderListing = z.infer<typeof FolderListingSchema>;

/** A run as the run list shows it: its name and origin, and its state's fields (shared/run/state.ts `runFields`). */
export const RunInfoSchema = z.object({
  id: runId,
  name: z.string(),
  /** ISO 8601. */
  created: z.string(),
  variant: z.string(),
  /** Human label of the dataset, e.g. `fashion-mnist` or a folder name. */
  dataset: z.string(),
}).extend(RunFieldsSchema.shape);
export type RunInfo = z.infer<typeof RunInfoSchema>;

/** The host's trainer's run as its events leave it (shared/run/state.ts); null when none was started. */
export const ActiveRunSchema = RunStateSchema.nullable();
export type ActiveRun = z.infer<typeof ActiveRunSchema>;

export const ExportResultSchema = z.object({
  outDir: z.string(),
  files: z.array(z.string()),
  /**
   * When the export lies inside the run's folder: its folder and files relative to the run folder,
   * with `/`. Browser mode serves them as downloads (`/download/<run id>/<path>`, a folder with `?zip=1`).
   */
  inRun: z.object({ dir: z.string(), files: z.array(z.string()) }).optional(),
});
export type ExportResult = z.infer<typeof ExportResultSchema>;

export const OpenedRunSchema = z.object({
  info: RunInfoSchema,
  model: ValidDenseNetConfigSchema,
  settings: TrainSettingsSchema,
  dataset: DatasetSpecSchema,
  classes: z.array(z.string()),
  /** Every recorded event from metrics.jsonl, in order: replaying them redraws the run exactly. */
  events: z.array(HostEventSchema),
});
export type OpenedRun = z.infer<typeof OpenedRunSchema>;
