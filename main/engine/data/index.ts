import { createHash } from 'node:crypto';
import path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';
import { DatasetSpecSchema, type DatasetSpec } from '../../../shared/training';
import { BUILTIN_CLASSES, builtinSample, readBuiltin, selectBuiltin } from './builtin';
import { collectFiles, type Collected } from './collect';
import { checkInputShape, decodeImage, DEFAULT_MAX_PIXELS, ImageProblem, type InputShape } from './decode';
import { examineFiles, readImageFile, type Examined } from './examine';
import { assignSplits, buildReport, reportErrorMessage } from './report';
import { DEFAULT_MEMORY_BUDGET, makeSplit, SampleStore } from './store';
import type { LoadedDataset, ScanReport } from './types';

/**
 * Datasets: the public API the trainer and the server use.
 * - loadDataset: file list → full decode (every file opened once, unusable ones reported) → splits.
 * - scanDataset: the report alone. It decodes every image as loadDataset does, so the picker in the
 *   UI, `scan` and training accept the same files; `quick` reads headers only, and says so.
 */

export type { DataSplit, LoadedDataset, ScanReport } from './types';
export { createRng, deriveSeed, permutation, shuffleInPlace, type Rng, type RngState } from './rng';
export { decodeImage, IMAGE_EXTENSIONS, type InputShape } from './decode';
export { BUILTIN_CLASSES } from './builtin';
export { augmentBatch, type AugmentOptions, type AugmentDraws } from './augment';
export { applyNormalization, computeNormalization, type Normalization } from './normalize';
export { batchCount, iterateBatches, type Batch, type BatchOptions } from './batches';
export { skippedSummary } from './report';
export { sortSizes } from './examine';

export interface LoadOptions {
  /** [H, W, C]: every sample is resized to H×W and converted to grayscale (C=1) or RGB (C=3). */
  inputShape: InputShape;
  /** Fraction of the training data held out for validation when there is no val split; default 0.1. */
  valFraction?: number;
  /** Seed of the stratified split; default 42. */
  seed?: number;
  /** Decoded samples are kept in memory up to this many bytes (uint8); default 1 GiB. */
  memoryBudgetBytes?: number;
  /** Images whose header claims more pixels are refused without decoding; default 8192². */
  maxPixels?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ScanOptions extends Partial<Omit<LoadOptions, 'memoryBudgetBytes'>> {
  /**
   * Read image headers only: fast, but a truncated file passes (its header is intact), so the
   * report's `verified` is false. Default false: every image is decoded at `inputShape`.
   */
  quick?: boolean;
}

/** Thrown when a dataset's report has errors; the report rides along for the UI. */
export class DatasetError extends WorkbenchError {
  constructor(readonly report: ScanReport) {
    super(reportErrorMessage(report), { user: true });
    this.name = 'DatasetError';
  }
}

/** How many sample paths per class the report carries for thumbnails. */
const SAMPLES_PER_CLASS = 3;

function parseSpec(spec: DatasetSpec): DatasetSpec {
  const parsed = DatasetSpecSchema.safeParse(spec);
  if (!parsed.success) {
    throw new WorkbenchError(`A dataset must be {kind: "builtin", name: "mnist" | "fashion-mnist"}, {kind: "folder", path} or {kind: "csv", path}; got ${JSON.stringify(spec)}.`);
  }
  return parsed.data;
}

function checkOptions(opts: Partial<LoadOptions>): { valFraction: number; seed: number } {
  const valFraction = opts.valFraction ?? 0.1;
  const seed = opts.seed ?? 42;
  if (!(valFraction >= 0 && valFraction < 1)) throw new WorkbenchError(`valFraction must be in [0, 1); got ${valFraction}.`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new WorkbenchError(`seed must be an integer in [0, 4294967295]; got ${seed}.`);
  return { valFraction, seed };
}

function shapeOrThrow(shape: unknown): InputShape {
  try {
    return checkInputShape(shape);
  } catch (err) {
    throw new WorkbenchError((err as Error).message);
  }
}

/** A built-in's fingerprint: its package version and the limit, which fix the samples. */
function builtinFingerprint(name: string, version: string, limit: number | undefined): string {
  return `sha256:${createHash('sha256').update(`builtin:${name}@${version}:limit=${limit ?? 'all'}`).digest('hex')}`;
}

/**
 * The fingerprint a load of `spec` records in a run, without decoding any image: for a folder or
 * CSV, of its file list (paths, classes, sizes, times); for a built-in, of its version and limit.
 */
export async function datasetFingerprint(spec: DatasetSpec): Promise<string> {
  if (spec.kind === 'builtin') return builtinFingerprint(spec.name, (await readBuiltin(spec.name)).version, spec.limit);
  return (await collectFiles(spec)).fingerprint;
}

export async function loadDataset(spec: DatasetSpec, opts: LoadOptions): Promise<LoadedDataset> {
  const s = parseSpec(spec);
  const inputShape = shapeOrThrow(opts.inputShape);
  const { valFraction, seed } = checkOptions(opts);
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  if (!(budget >= 0)) throw new WorkbenchError(`memoryBudgetBytes must be a non-negative number; got ${budget}.`);
  const sampleBytes = inputShape[0] * inputShape[1] * inputShape[2];

  if (s.kind === 'builtin') {
    const data = await readBuiltin(s.name, opts.signal);
    const picked = selectBuiltin(data, s.limit);
    const labels = Int32Array.from(picked, (p) => p.cls);
    const store = new SampleStore(picked.length, sampleBytes, (i) => builtinSample(data, picked[i].cls, picked[i].index, inputShape), budget);
    const assigned = assignSplits(labels, null, 10, valFraction, seed);
    const report = buildReport({
      kind: 'builtin',
      root: `builtin:${s.name}`,
      classes: BUILTIN_CLASSES[s.name],
      labels,
      assigned,
      sizes: { '28x28': picked.length },
      modes: { gray: picked.length, color: 0 },
      skipped: data.skipped,
      errors: [],
      verified: true,
    });
    const fingerprint = builtinFingerprint(s.name, data.version, s.limit);
    const nameOf = (i: number) => `${s.name} ${BUILTIN_CLASSES[s.name][picked[i].cls]} #${picked[i].index}`;
    return {
      name: s.name,
      classes: report.classes,
      inputShape,
      train: makeSplit(store, assigned.train, labels, inputShape, nameOf),
      val: makeSplit(store, assigned.val, labels, inputShape, nameOf),
      test: null,
      report,
      fingerprint,
      cached: store.cached,
    };
  }

  const collected = await collectFiles(s, opts.signal);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  // Streaming re-decodes from disk; a file changed since the load is named, not left anonymous.
  const reload = async (i: number): Promise<Uint8Array> => {
    const file = collected.candidates[i];
    try {
      return await decodeImage(await readImageFile(file.path), inputShape, maxPixels);
    } catch (err) {
      if (!(err instanceof ImageProblem)) throw err;
      throw new WorkbenchError(`Image ${file.rel} ${err.message}; it was readable when the dataset was loaded, so it changed since.`);
    }
  };
  const store = new SampleStore(collected.candidates.length, sampleBytes, reload, budget);
  const examined = await examineFiles(collected.candidates, {
    inputShape,
    maxPixels,
    signal: opts.signal,
    onProgress: opts.onProgress,
    onDecoded: (i, px) => store.put(i, px),
  });
  const { report, labels, assigned } = judge(collected, examined, valFraction, seed, true);
  if (report.errors.length > 0) throw new DatasetError(report);
  const nameOf = (i: number) => collected.candidates[i].rel;
  return {
    name: path.basename(collected.root),
    classes: report.classes,
    inputShape,
    train: makeSplit(store, assigned.train, labels, inputShape, nameOf),
    val: makeSplit(store, assigned.val, labels, inputShape, nameOf),
    test: assigned.test ? makeSplit(store, assigned.test, labels, inputShape, nameOf) : null,
    report,
    fingerprint: collected.fingerprint,
    cached: store.cached,
  };
}

function judge(collected: Collected, examined: Examined, valFraction: number, seed: number, verified: boolean) {
  const classIndex = new Map(collected.classes.map((c, i) => [c, i]));
  const labels = Int32Array.from(collected.candidates, (c, i) => (examined.ok[i] ? classIndex.get(c.cls)! : -1));
  const skippedPerClass = new Array<number>(collected.classes.length).fill(0);
  collected.candidates.forEach((c, i) => {
    if (!examined.ok[i]) skippedPerClass[classIndex.get(c.cls)!]++;
  });
  const samples: Record<string, string[]> = {};
  collected.candidates.forEach((c, i) => {
    if (!examined.ok[i]) return;
    const list = (samples[c.cls] ??= []);
    if (list.length < SAMPLES_PER_CLASS) list.push(c.path);
  });
  const explicit = collected.explicitSplits.size > 0 ? collected.candidates.map((c) => c.split) : null;
  const assigned = assignSplits(labels, explicit, collected.classes.length, valFraction, seed);
  const report = buildReport({
    kind: collected.kind,
    root: collected.root,
    classes: collected.classes,
    labels,
    assigned,
    sizes: examined.sizes,
    modes: examined.modes,
    skipped: [...collected.skipped, ...examined.skipped],
    errors: collected.errors,
    verified,
    skippedPerClass,
    samples,
  });
  return { report, labels, assigned };
}

/** The scan report alone. Never throws for a bad dataset: problems are in `errors`. */
export async function scanDataset(spec: DatasetSpec, opts: ScanOptions = {}): Promise<ScanReport> {
  const s = parseSpec(spec);
  const { valFraction, seed } = checkOptions(opts);
  if (s.kind === 'builtin') {
    const ds = await loadDataset(s, { inputShape: [28, 28, 1], valFraction, seed, memoryBudgetBytes: 0 });
    return ds.report;
  }
  const collected = await collectFiles(s, opts.signal);
  const inputShape = opts.quick ? undefined : shapeOrThrow(opts.inputShape ?? [32, 32, 3]);
  const examined = await examineFiles(collected.candidates, {
    inputShape,
    maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return judge(collected, examined, valFraction, seed, !opts.quick).report;
}
