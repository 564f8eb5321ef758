import { z } from 'zod';
import { CoreEventSchemas, ErrorDataSchema, InspectCommandSchema, InspectEventSchemas, type TrainerEvent } from './protocol';
import { RunFieldsSchema, RunStateSchema } from './run/state';
import { ValidDenseNetConfigSchema } from './validation';
import { DatasetSpecSchema, TrainSettingsSchema } from './training';

/**
 * WorkbenchApi: the only thing the renderer talks to (the idea of Netron's small "Host" interface,
 * which its desktop, browser and test builds each implement).
 *
 * Implementations:
 * - renderer/src/api/ws.ts: browser mode, over one WebSocket to `densenet-workbench serve`;
 * - the Electron preload bridge (main/electron): one named function per method, over ipcRenderer.invoke;
 * - test fakes.
 * The host side is implemented once, transport-free, in main/host/workbench-service.ts; serve and
 * Electron only move `{channel, payload}` in and `ApiReply` out.
 *
 * Every method takes at most one plain-data request and resolves to plain data. `API_METHODS` maps
 * each method to its `domain:verb` channel and the zod schemas of its request and response, so a
 * transport validates on arrival without knowing the methods.
 * Errors cross as data (`ErrorData`); clients rethrow them as `ApiError`.
 */
export const API_VERSION = 1;

const path = z.string().min(1).max(4096);
const runId = z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, 'Run ids use letters, digits, ".", "_" and "-" only.');
const finite = z.number().finite();

// ---- requests --------------------------------------------------------------------------------
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
export const InspectTicketSchema = z.object({ requestId: z.string() });
export type InspectTicket = z.infer<typeof InspectTicketSchema>;
export const CancelInspectRequestSchema = z.object({ requestId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/) });
export type CancelInspectRequest = z.input<typeof CancelInspectRequestSchema>;

export const ExportFormatSchema = z.enum(['tfjs', 'onnx', 'report', 'csv']);
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

// ---- responses -------------------------------------------------------------------------------
export const AppInfoSchema = z.object({
  apiVersion: z.number().int(),
  version: z.string(),
  mode: z.enum(['browser', 'electron', 'test']),
  /** Dataset roots the host lets the UI browse (browser mode: --root; Electron: chosen folders). */
  roots: z.array(z.string()),
  runsDir: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const BackendInfoSchema = z.object({
  name: z.string(),
  flavour: z.string(),
  version: z.string(),
  device: z.string(),
  threads: z.number().int(),
  simd: z.boolean().optional(),
  skipped: z.array(z.object({ backend: z.string(), reason: z.string() })),
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

// ---- events ----------------------------------------------------------------------------------
/** The trainer process died without a `finished` event (crash, SIGKILL, out of memory). */
export const TrainerExitEventSchema = z.object({
  type: z.literal('trainerExit'),
  runId: z.string().optional(),
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** A sentence for the UI: what happened and what the user can do. */
  message: z.string(),
  time: finite,
});
/** The run list changed (created, renamed, deleted, status changed): refresh it. */
export const RunsChangedEventSchema = z.object({ type: z.literal('runsChanged'), time: finite });
/** Desktop app: the user picked a dataset folder natively (File ▸ Open, drag and drop): select and scan it. */
export const DatasetChosenEventSchema = z.object({ type: z.literal('datasetChosen'), path, source: z.enum(['menu', 'drop']), time: finite });
/** Desktop app: the user chose a run from File ▸ Open Recent Run: open it. */
export const OpenRunRequestEventSchema = z.object({ type: z.literal('openRunRequest'), runId, time: finite });

/** Everything `onEvent` delivers: every TrainerEvent (shared/protocol) plus host-level events. */
export const HostEventSchema = z.discriminatedUnion('type', [
  ...CoreEventSchemas,
  ...InspectEventSchemas,
  TrainerExitEventSchema,
  RunsChangedEventSchema,
  DatasetChosenEventSchema,
  OpenRunRequestEventSchema,
]);
export type HostEvent = z.infer<typeof HostEventSchema>;

const HOST_ONLY = new Set<string>([TrainerExitEventSchema, RunsChangedEventSchema, DatasetChosenEventSchema, OpenRunRequestEventSchema].map((s) => s.shape.type.value));

/** True for the events a trainer sent (shared/protocol), as opposed to the host's own. */
export function isTrainerEvent(e: HostEvent): e is TrainerEvent {
  return !HOST_ONLY.has(e.type);
}

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

// ---- the method table --------------------------------------------------------------------------
const NoResponse = z.null();

export const API_METHODS = {
  appInfo: { channel: 'app:info', request: NoRequestSchema, response: AppInfoSchema },
  backendInfo: { channel: 'backend:info', request: NoRequestSchema, response: BackendInfoSchema },
  scanDataset: { channel: 'dataset:scan', request: ScanRequestSchema, response: ScanResultSchema },
  listFolder: { channel: 'fs:list', request: ListFolderRequestSchema, response: FolderListingSchema },
  startRun: { channel: 'run:start', request: StartRunRequestSchema, response: RunRefSchema },
  pauseRun: { channel: 'run:pause', request: NoRequestSchema, response: NoResponse },
  resumeRun: { channel: 'run:resume', request: NoRequestSchema, response: NoResponse },
  stopRun: { channel: 'run:stop', request: NoRequestSchema, response: NoResponse },
  snapshotRun: { channel: 'run:snapshot', request: NoRequestSchema, response: NoResponse },
  /** Continue a stopped or interrupted run from its latest checkpoint. */
  continueRun: { channel: 'run:continue', request: RunRefSchema, response: RunRefSchema },
  activeRun: { channel: 'run:active', request: NoRequestSchema, response: ActiveRunSchema },
  listRuns: { channel: 'run:list', request: NoRequestSchema, response: z.array(RunInfoSchema) },
  openRun: { channel: 'run:open', request: RunRefSchema, response: OpenedRunSchema },
  renameRun: { channel: 'run:rename', request: RenameRunRequestSchema, response: RunInfoSchema },
  deleteRun: { channel: 'run:delete', request: RunRefSchema, response: NoResponse },
  inspect: { channel: 'inspect:request', request: InspectRequestSchema, response: InspectTicketSchema },
  /** Stops an inspection in progress; the request ends with a cancelled `inspectDone`. */
  cancelInspect: { channel: 'inspect:cancel', request: CancelInspectRequestSchema, response: NoResponse },
  exportRun: { channel: 'export:run', request: ExportRequestSchema, response: ExportResultSchema },
} as const;

export type ApiMethodName = keyof typeof API_METHODS;
export type ApiChannel = (typeof API_METHODS)[ApiMethodName]['channel'];
export const API_METHOD_NAMES = Object.keys(API_METHODS) as ApiMethodName[];
/** The channel event batches are pushed on (Electron: webContents.send(EVENT_CHANNEL, HostEvent[]); WebSocket: `{kind: 'events', events}`). */
export const EVENT_CHANNEL = 'events:push';

/**
 * Methods only the desktop app has (native dialogs). They are optional on WorkbenchApi: browser
 * mode leaves them undefined and the UI falls back to `listFolder` under the server's roots.
 */
export const DESKTOP_METHODS = {
  chooseFolder: { channel: 'dialog:chooseFolder', request: ChooseFolderRequestSchema, response: z.string().nullable() },
} as const;
export type DesktopMethodName = keyof typeof DESKTOP_METHODS;
export const DESKTOP_METHOD_NAMES = Object.keys(DESKTOP_METHODS) as DesktopMethodName[];

/** Electron's preload exposes the api as `window[PRELOAD_GLOBAL]` (contextBridge.exposeInMainWorld). */
export const PRELOAD_GLOBAL = 'workbench';

/** channel -> method name, for routers. */
export const METHOD_BY_CHANNEL: ReadonlyMap<string, ApiMethodName> = new Map(
  API_METHOD_NAMES.map((m) => [API_METHODS[m].channel, m] as const),
);

type Req<K extends ApiMethodName> = z.input<(typeof API_METHODS)[K]['request']>;
type Res<K extends ApiMethodName> = z.output<(typeof API_METHODS)[K]['response']>;

/**
 * The interface the UI depends on. Methods reject with `ApiError` on failure.
 * `onEvent` returns the function that unsubscribes the listener.
 */
export interface WorkbenchApi {
  appInfo(): Promise<AppInfo>;
  backendInfo(): Promise<BackendInfo>;
  scanDataset(request: ScanRequest): Promise<ScanResult>;
  listFolder(request: ListFolderRequest): Promise<FolderListing>;
  startRun(request: StartRunRequest): Promise<RunRef>;
  pauseRun(): Promise<null>;
  resumeRun(): Promise<null>;
  stopRun(): Promise<null>;
  snapshotRun(): Promise<null>;
  continueRun(request: RunRef): Promise<RunRef>;
  activeRun(): Promise<ActiveRun>;
  listRuns(): Promise<RunInfo[]>;
  openRun(request: RunRef): Promise<OpenedRun>;
  renameRun(request: RenameRunRequest): Promise<RunInfo>;
  deleteRun(request: RunRef): Promise<null>;
  inspect(request: InspectRequest): Promise<InspectTicket>;
  cancelInspect(request: CancelInspectRequest): Promise<null>;
  exportRun(request: ExportRequest): Promise<ExportResult>;
  onEvent(listener: (event: HostEvent) => void): () => void;
  /** Desktop app only: a native folder picker; resolves to the chosen folder, or null if cancelled. */
  chooseFolder?(request: ChooseFolderRequest): Promise<string | null>;
}

// Compile-time check that the interface and the table agree (a mismatch fails `tsc`).
type Agrees<K extends ApiMethodName> = WorkbenchApi[K] extends (...a: infer A) => Promise<infer R>
  ? [R] extends [Res<K>] ? (A extends [] ? undefined extends Req<K> ? true : false : A extends [Req<K>] ? true : false) : false
  : false;
type AllAgree = false extends { [K in ApiMethodName]: Agrees<K> }[ApiMethodName] ? never : true;
export const API_TABLE_AGREES: AllAgree = true;

// ---- the envelope every transport uses ---------------------------------------------------------
export const ApiReplySchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorDataSchema }),
]);
export type ApiReply = z.infer<typeof ApiReplySchema>;

/** An error answered by the host, rethrown on the UI side. `user` errors say what to fix. */
export class ApiError extends Error {
  readonly user: boolean;
  readonly channel: string;
  constructor(channel: string, error: z.infer<typeof ErrorDataSchema>) {
    super(error.message);
    this.name = error.name === 'Error' ? 'ApiError' : error.name;
    this.user = error.user ?? false;
    this.channel = channel;
  }
}

/** WebSocket framing for browser mode: requests carry an id; replies echo it; events have none. */
export const WsRequestSchema = z.object({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(64),
  payload: z.unknown().optional(),
});
export type WsRequest = z.infer<typeof WsRequestSchema>;
export type WsServerMessage =
  | ({ kind: 'reply'; id: number | null } & ApiReply)
  | { kind: 'events'; events: HostEvent[] };
