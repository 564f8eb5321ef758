import * as path from 'node:path';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import type { DatasetSpec, TrainSettings } from '../../../shared/training';
import { computeNormalization, loadDataset, type LoadOptions } from '../data';
import { createRunAt, readRunConfig } from '../runs/run-store';
import type { RunConfigFile } from '../runs/run-files';
import { readDatasetCacheIndex, writeDatasetCache, type DatasetCacheIndex } from './dataset-cache';

/**
 * Prepares a run folder for the PyTorch engine: what the TF.js trainer does when it starts a run
 * (load and split the dataset, compute the training split's normalization, write config.json),
 * plus the dataset cache (./dataset-cache) the Python trainer reads. The folder is then complete:
 * a host's Python trainer starts it, or `python3 -m densenet_torch --run RUN` trains it on a
 * machine without Node (`train --prepare-only`).
 */
export interface PrepareOptions {
  runDir: string;
  name?: string;
  model: DenseNetConfig;
  settings: TrainSettings;
  dataset: DatasetSpec;
  /** The backend report of the interpreter that will train it (the Python trainer rewrites it with its own at the first step). */
  backend: { name: string } & Record<string, unknown>;
  onProgress?: Progress;
  signal?: AbortSignal;
}

export type Progress = (what: 'decode' | 'cache', done: number, total: number) => void;

export interface PreparedRun {
  config: RunConfigFile;
  cache: DatasetCacheIndex;
}

/** How a run's dataset is loaded: the TF.js engine's `runDatasetOptions` (main/engine/run/ports.ts), read without loading tfjs. */
async function datasetOptions(settings: TrainSettings, inputShape: [number, number, number]): Promise<LoadOptions> {
  const { runDatasetOptions } = await import('../run/ports');
  return runDatasetOptions(settings, inputShape);
}

export async function prepareRun(options: PrepareOptions): Promise<PreparedRun> {
  const { model, settings, dataset: spec } = options;
  const dataset = await loadDataset(spec, {
    ...(await datasetOptions(settings, model.inputShape)), signal: options.signal,
    onProgress: (done, total) => options.onProgress?.('decode', done, total),
  });
  if (dataset.classes.length !== model.classes) {
    throw new WorkbenchError(`The model has ${model.classes} classes but dataset ${dataset.name} has ${dataset.classes.length} (${dataset.classes.slice(0, 5).join(', ')}${dataset.classes.length > 5 ? ', ...' : ''}); set classes to ${dataset.classes.length}.`);
  }
  const normalization = settings.normalize ? await computeNormalization(dataset.train) : null;
  const ref = createRunAt(options.runDir, {
    ...(options.name ? { name: options.name } : {}),
    engine: 'pytorch',
    model, settings, seed: settings.seed, normalization, backend: options.backend,
    dataset: {
      spec, name: dataset.name, fingerprint: dataset.fingerprint, classes: dataset.classes, inputShape: dataset.inputShape,
      trainSize: dataset.train.size, valSize: dataset.val.size,
    },
  });
  const cache = await writeDatasetCache(ref.dir, dataset, (done, total) => options.onProgress?.('cache', done, total), options.signal);
  return { config: readRunConfig(ref.dir), cache };
}

/**
 * Gives an existing run the dataset cache the Python trainer needs, when it has none: a TF.js run
 * the PyTorch engine is to continue, or a run whose cache was deleted to save space. The data is
 * loaded from config.json's spec exactly as the run was trained; a changed dataset is said, not hidden.
 */
export async function ensureDatasetCache(runDir: string, onProgress?: Progress, signal?: AbortSignal): Promise<{ cache: DatasetCacheIndex; written: boolean; warnings: string[] }> {
  const existing = readDatasetCacheIndex(runDir);
  if (existing) return { cache: existing, written: false, warnings: [] };
  const config = readRunConfig(runDir);
  const dataset = await loadDataset(config.dataset.spec, {
    ...(await datasetOptions(config.settings, config.dataset.inputShape)), signal, onProgress: (done, total) => onProgress?.('decode', done, total),
  });
  const warnings: string[] = [];
  if (dataset.fingerprint !== config.dataset.fingerprint) {
    warnings.push(`The dataset ${config.dataset.name} has changed since run ${config.id} was made (its fingerprint differs); the current files are used.`);
  }
  if (dataset.classes.join('\n') !== config.dataset.classes.join('\n')) {
    throw new WorkbenchError(`The dataset of run ${config.id} now has the classes ${dataset.classes.join(', ')}; the run was made with ${config.dataset.classes.join(', ')}. Restore the dataset at ${path.resolve(config.dataset.spec.kind === 'builtin' ? config.dataset.spec.name : config.dataset.spec.path)} to continue it.`);
  }
  const cache = await writeDatasetCache(runDir, dataset, (done, total) => onProgress?.('cache', done, total), signal);
  return { cache, written: true, warnings };
}
