/**
 * The contract between datasets (main/engine/data) and the trainer (main/engine/train).
 * Images are float32 in [0, 1], NHWC, already resized to the model's input and in its colour mode.
 */
export interface ScanReport {
  root: string;
  classes: string[];
  /** Images accepted per class, in `classes` order. */
  counts: number[];
  /** Per split, in `classes` order. */
  splits: { train: number[]; val: number[]; test: number[] };
  /** Histogram of source image sizes ("WxH"), the most common first, e.g. { "28x28": 6000 }. */
  sizes: Record<string, number>;
  /** Accepted images whose header says grayscale, and those in colour: what decides the input channels. */
  modes?: { gray: number; color: number };
  /** Every file left out, with a sentence saying why. */
  skipped: { path: string; reason: string }[];
  /** Problems that stop training (fewer than 2 classes, an empty class, ...). Empty when usable. */
  errors: string[];
  /** Problems worth a look that don't stop training (a class with one image, ...). */
  warnings: string[];
  /** Where the data came from. */
  kind?: 'builtin' | 'folder' | 'csv';
  /**
   * True when every accepted image was fully decoded (loadDataset, scanDataset, `scan`); false when
   * only headers were read (`quick`, e.g. `scan --quick`), so truncated files may still hide.
   */
  verified?: boolean;
  /** A few absolute file paths per class, for thumbnails (folder and CSV datasets only). */
  samples?: Record<string, string[]>;
}

export interface DataSplit {
  readonly size: number;
  /** Class index of each sample. */
  readonly labels: Int32Array;
  /** [H, W, C] of one sample (the dataset's inputShape); lets helpers find the channel count. */
  readonly sampleShape?: [number, number, number];
  /** Reads samples `indices` into one N×H×W×C float32 array in [0, 1]. */
  read(indices: readonly number[]): Promise<Float32Array>;
  /**
   * Where sample `i` came from, for people: its file path relative to the dataset root, or a
   * built-in image's class and index. Absent for in-memory splits.
   */
  name?(i: number): string;
}

export interface LoadedDataset {
  name: string;
  classes: string[];
  /** [H, W, C] every sample is delivered at. */
  inputShape: [number, number, number];
  train: DataSplit;
  val: DataSplit;
  test: DataSplit | null;
  report: ScanReport;
  /** Stable hash of the file list (paths, sizes, mtimes) or of the built-in data. */
  fingerprint: string;
  /** True when every decoded sample is held in memory; false when samples stream from disk. */
  cached?: boolean;
}
