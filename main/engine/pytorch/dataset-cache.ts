import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';
import type { DataSplit, LoadedDataset } from '../data/types';
import { writeFileAtomic } from '../runs/atomic-fs';

/**
 * The dataset cache a run folder carries for the PyTorch engine: the dataset decoded and resized
 * once, here, with sharp (main/engine/data), so both engines train on identical pixels.
 *
 *   dataset/pixels.u8    every sample as H×W×C uint8 (NHWC), train split first, then val, then
 *                        test, each in split order: the Python side memory-maps it
 *   dataset/labels.i32   the samples' class indices, int32 little-endian, in the same order
 *   dataset/index.json   shape, classes, fingerprint, where each split starts, the files' sha256
 *
 * Written in chunks, so a dataset larger than memory streams through: the data module re-decodes
 * what its memory budget does not hold, and only one chunk is in memory here. index.json is
 * written last, atomically: a cache without it is incomplete and is written again.
 */
export const CACHE_DIR = 'dataset';
export const CACHE_INDEX = 'index.json';
export const CACHE_FORMAT = 1;
const CHUNK = 256;

export interface DatasetCacheIndex {
  format: 1;
  inputShape: [number, number, number];
  layout: 'NHWC';
  dtype: 'uint8';
  classes: string[];
  fingerprint: string;
  samples: number;
  pixels: string;
  labels: string;
  splits: Record<'train' | 'val' | 'test', { offset: number; count: number } | null>;
  sha256: { pixels: string; labels: string };
}

export interface CacheProgress {
  (done: number, total: number): void;
}

/** Writes `<runDir>/dataset/` for `dataset`; returns its index. */
export async function writeDatasetCache(runDir: string, dataset: LoadedDataset, onProgress?: CacheProgress, signal?: AbortSignal): Promise<DatasetCacheIndex> {
  const dir = path.join(runDir, CACHE_DIR);
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, CACHE_INDEX), { force: true });
  const [h, w, c] = dataset.inputShape;
  const sampleBytes = h * w * c;
  const splits: [keyof DatasetCacheIndex['splits'], DataSplit | null][] = [['train', dataset.train], ['val', dataset.val], ['test', dataset.test]];
  const total = splits.reduce((n, [, s]) => n + (s?.size ?? 0), 0);
  const pixelsFile = path.join(dir, 'pixels.u8');
  const labelsFile = path.join(dir, 'labels.i32');
  const pixelHash = createHash('sha256');
  const labelHash = createHash('sha256');
  const pfd = fs.openSync(pixelsFile, 'w');
  const lfd = fs.openSync(labelsFile, 'w');
  const index: DatasetCacheIndex['splits'] = { train: null, val: null, test: null };
  let offset = 0;
  try {
    for (const [name, split] of splits) {
      if (!split) continue;
      index[name] = { offset, count: split.size };
      for (let start = 0; start < split.size; start += CHUNK) {
        signal?.throwIfAborted();
        const which = Array.from({ length: Math.min(CHUNK, split.size - start) }, (_, k) => start + k);
        const x = await split.read(which);
        if (x.length !== which.length * sampleBytes) {
          throw new WorkbenchError(`Dataset ${dataset.name} delivered ${x.length} values for ${which.length} samples of ${h}×${w}×${c}.`, { user: false });
        }
        // The data module hands out v/255 as float32; rounding recovers each byte exactly.
        const bytes = new Uint8Array(x.length);
        for (let i = 0; i < x.length; i++) bytes[i] = Math.round(x[i] * 255);
        const labels = new Int32Array(which.map((i) => split.labels[i]));
        const lbytes = new Uint8Array(labels.buffer);
        fs.writeSync(pfd, bytes);
        fs.writeSync(lfd, lbytes);
        pixelHash.update(bytes);
        labelHash.update(lbytes);
        offset += which.length;
        onProgress?.(offset, total);
      }
    }
    fs.fsyncSync(pfd);
    fs.fsyncSync(lfd);
  } finally {
    fs.closeSync(pfd);
    fs.closeSync(lfd);
  }
  const result: DatasetCacheIndex = {
    format: CACHE_FORMAT, inputShape: [h, w, c], layout: 'NHWC', dtype: 'uint8', classes: [...dataset.classes],
    fingerprint: dataset.fingerprint, samples: offset, pixels: 'pixels.u8', labels: 'labels.i32', splits: index,
    sha256: { pixels: pixelHash.digest('hex'), labels: labelHash.digest('hex') },
  };
  writeFileAtomic(path.join(dir, CACHE_INDEX), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The cache's index, or null when the run has no complete cache. */
export function readDatasetCacheIndex(runDir: string): DatasetCacheIndex | null {
  try {
    const index = JSON.parse(fs.readFileSync(path.join(runDir, CACHE_DIR, CACHE_INDEX), 'utf8')) as DatasetCacheIndex;
    return index.format === CACHE_FORMAT ? index : null;
  } catch {
    return null;
  }
}
