import type { BackendInfo, ExportResult, RunInfo, ScanResult } from '../../shared/api';
import type { DenseNetConfig } from '../../shared/config';
import type { TrainerCommand, TrainerEvent } from '../../shared/protocol';
import type { DatasetSpec, TrainSettings } from '../../shared/training';

/**
 * What the WorkbenchService needs from the engine, as small interfaces ("ports"). The real
 * implementations (main/host/engine-ports.ts) wrap the trainer host, the run store, the data module
 * and the exporters; tests pass fakes. Keeping the service on ports lets serve, Electron and tests
 * share it without importing tfjs into the host process.
 */

/** One trainer process. Events are already validated by the implementation. */
export interface TrainerPort {
  send(command: TrainerCommand): void;
  onEvent(listener: (event: TrainerEvent) => void): void;
  /** Called once when the process is gone, whatever the reason. */
  onExit(listener: (exit: { code: number | null; signal: string | null }) => void): void;
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
  /** Creates runs/<id>/ with its config; returns the id and folder. */
  create(request: { name?: string; model: DenseNetConfig; settings: TrainSettings; dataset: DatasetSpec }): Promise<{ id: string; dir: string }>;
  list(): Promise<RunInfo[]>;
  /** Throws a user WorkbenchError when the run does not exist. */
  open(id: string): Promise<StoredRun>;
  /** Every valid event of metrics.jsonl, in order (a torn last line is skipped). */
  events(id: string): Promise<TrainerEvent[]>;
  rename(id: string, name: string): Promise<RunInfo>;
  remove(id: string): Promise<void>;
  /** Marks a run failed or interrupted when its trainer died without saying so. */
  markEnded(id: string, status: 'failed' | 'interrupted', reason: string): Promise<void>;
}

export interface EnginePorts {
  spawnTrainer(): TrainerPort;
  runs: RunStorePort;
  /** The scan report plus thumbnails; folder paths are already checked against the roots. */
  scan(dataset: DatasetSpec, inputShape: [number, number, number] | undefined, thumbnailsPerClass: number): Promise<ScanResult>;
  backendInfo(): Promise<BackendInfo>;
  exportRun(request: {
    runDir: string;
    format: 'tfjs' | 'onnx' | 'report' | 'csv';
    checkpoint: 'latest' | 'best';
    foldBn: boolean;
    outDir: string;
  }): Promise<ExportResult>;
}
