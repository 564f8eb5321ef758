import { z } from 'zod';
import { NoRequestSchema, ScanRequestSchema, ListFolderRequestSchema, StartRunRequestSchema, RunRefSchema, RenameRunRequestSchema, InspectRequestSchema, CancelInspectRequestSchema, ExportRequestSchema, ChooseFolderRequestSchema, type ScanRequest, type ListFolderRequest, type StartRunRequest, type RunRef, type RenameRunRequest, type InspectRequest, type CancelInspectRequest, type ExportRequest, type ChooseFolderRequest } from './requests';
import { ActiveRunSchema, AppInfoSchema, BackendInfoSchema, ExportResultSchema, FolderListingSchema, InspectTicketSchema, OpenedRunSchema, RunInfoSchema, ScanResultSchema, type ActiveRun, type AppInfo, type BackendInfo, type ExportResult, type FolderListing, type InspectTicket, type OpenedRun, type RunInfo, type ScanResult } from './responses';
import type { HostEvent } from './events';
import { WeightsSourceInfoSchema } from '../start-from';
import {
  ChooseFileRequestSchema, DescribeWeightsRequestSchema, DownloadedWeightsSchema, DownloadPretrainedRequestSchema, PretrainedCatalogSchema,
  type ChooseFileRequest, type DescribeWeightsRequest, type DownloadedWeights, type DownloadPretrainedRequest, type PretrainedCatalog,
} from './weights';

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
  /** torchvision's ImageNet DenseNets and which are in the torch hub cache. */
  listPretrained: { channel: 'weights:list', request: NoRequestSchema, response: PretrainedCatalogSchema },
  /** Downloads ImageNet weights into the cache (verified), with `weightsDownload` progress events. */
  downloadPretrained: { channel: 'weights:download', request: DownloadPretrainedRequestSchema, response: DownloadedWeightsSchema },
  /** What a weights file or a run's checkpoint holds, for a new run to start from it. */
  describeWeights: { channel: 'weights:describe', request: DescribeWeightsRequestSchema, response: WeightsSourceInfoSchema },
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
  chooseFile: { channel: 'dialog:chooseFile', request: ChooseFileRequestSchema, response: z.string().nullable() },
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
  listPretrained(): Promise<PretrainedCatalog>;
  downloadPretrained(request: DownloadPretrainedRequest): Promise<DownloadedWeights>;
  describeWeights(request: DescribeWeightsRequest): Promise<z.output<typeof WeightsSourceInfoSchema>>;
  onEvent(listener: (event: HostEvent) => void): () => void;
  /** Desktop app only: a native folder picker; resolves to the chosen folder, or null if cancelled. */
  chooseFolder?(request: ChooseFolderRequest): Promise<string | null>;
  /** Desktop app only: a native picker for a weights file (.pth, .safetensors); null if cancelled. */
  chooseFile?(request: ChooseFileRequest): Promise<string | null>;
}

// Compile-time check that the interface and the table agree (a mismatch fails `tsc`).
type Agrees<K extends ApiMethodName> = WorkbenchApi[K] extends (...a: infer A) => Promise<infer R>
  ? [R] extends [Res<K>] ? (A extends [] ? undefined extends Req<K> ? true : false : A extends [Req<K>] ? true : false) : false
  : false;
type AllAgree = false extends { [K in ApiMethodName]: Agrees<K> }[ApiMethodName] ? never : true;
export const API_TABLE_AGREES: AllAgree = true;
