import type { BackendInfo, DownloadedWeights, ExportResult, PretrainedCatalog, RunInfo, ScanResult } from '../../shared/api';
import type { PretrainedName, StartFrom, WeightsSourceInfo } from '../../shared/start-from';
import type { DenseNetConfig } from '../../shared/config';
import type { TrainerCommand, TrainerEvent } from '../../shared/protocol';
import type { DatasetSpec, TrainSettings } from '../../shared/training';

/**
 * What the WorkbenchService needs from the engine, as small interfaces ("ports"). The real
 * implementations (main/host/engine-ports.ts) wrap the trainer host, the run store, the data module
 * and the exporters; tests pass fakes. Keeping the service on ports lets serve, Electron and tests
 * share it without importing tfjs into the host process.
 */

/**
 * One trainer process (main/trainer/host.ts's TrainerHost in production). Events are already
 * validated by the implementation. `start` picks the run's folder (the trainer creates it), so the
 * port knows which run to record as failed or interrupted if the process dies.
 */
export interface TrainerPort {
  start(request: { name?: string; model: DenseNetConfig; settings: TrainSettings; dataset: DatasetSpec; startFrom?: StartFrom }): { runId: string; runDir: string };
  /** Continues a stopped, interrupted or failed run from its latest checkpoint. */
  resumeRun(runDir: string): { runId: string; runDir: string };
  /** pause, resume, stop, snapshot, inspect. */
  send(command: Exclude<TrainerCommand, { type: 'start' | 'resumeRun' }>): void;
  onEvent(listener: (event: TrainerEvent) => void): void;
  /** Called once when the process is gone, whatever the reason; `message` says what it meant for the run. */
  onExit(listener: (exit: { code: number | null; signal: string | null; message?: string }) => void): void;
  /**
   * Ends the process gracefully: a run still in progress stops at the next step with a checkpoint,
   * then the process exits; after `graceMs` it is killed. Optional: without it the service sends
   * `stop`, waits for the exit, then kills.
   */
  close?(graceMs: number): Promise<void>;
  kill(): void;
}

export interface StoredRun {
  info: RunInfo;
  dir: string;
  model: DenseNetConfig;
  settings: TrainSettings;
  dataset: DatasetSpec;
  classes: string[];
}

export interface RunStorePort {
  list(): Promise<RunInfo[]>;
  /** Throws a user WorkbenchError when the run does not exist. */
  open(id: string): Promise<StoredRun>;
  /** Every valid event of metrics.jsonl, in order (a torn last line is skipped). */
  events(id: string): Promise<TrainerEvent[]>;
  /**
   * The run's events so far, and every event appended after them, as another process trains it
   * (a trainer this host did not start: another machine sharing the folder, a standalone Python
   * trainer), until `stop`. Optional: a store that cannot follow shows such runs as they were.
   */
  follow?(id: string, onEvents: (events: TrainerEvent[]) => void): Promise<{ events: TrainerEvent[]; stop(): void }>;
  rename(id: string, name: string): Promise<RunInfo>;
  remove(id: string): Promise<void>;
}

/** Pretrained weights: torchvision's ImageNet DenseNets in the torch hub cache, and what a source holds. */
export interface WeightsPort {
  catalog(): Promise<PretrainedCatalog>;
  /** Downloads (or finds in the cache) and verifies; `onProgress` is called as bytes arrive. */
  download(name: PretrainedName, onProgress: (received: number, total: number | null) => void): Promise<DownloadedWeights>;
  /** A weights file, or a run folder and its checkpoint (paths already checked). */
  describe(source: Exclude<StartFrom, { kind: 'scratch' }>): Promise<WeightsSourceInfo>;
}

export interface EnginePorts {
  /**
   * A trainer process for a run with these settings (they say which engine); without settings, the
   * built-in TF.js trainer (inspection workers: it reads a run folder whichever engine wrote it).
   */
  spawnTrainer(settings?: TrainSettings): TrainerPort;
  runs: RunStorePort;
  /** The scan report plus thumbnails; folder paths are already checked against the roots. */
  scan(dataset: DatasetSpec, inputShape: [number, number, number] | undefined, thumbnailsPerClass: number): Promise<ScanResult>;
  backendInfo(): Promise<BackendInfo>;
  weights: WeightsPort;
  exportRun(request: {
    runDir: string;
    format: 'tfjs' | 'onnx' | 'torchvision' | 'report' | 'csv';
    checkpoint: 'latest' | 'best';
    foldBn: boolean;
    outDir: string;
  }): Promise<ExportResult>;
}
