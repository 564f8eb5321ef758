import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import type { DatasetSpec, TrainSettings } from '../../../shared/training';
import { computeNormalization, loadDataset } from '../data';
import { createRunAt, readRunConfig, type RunConfigFile } from '../runs/run-store';
import { writeDatasetCache, type DatasetCacheIndex } from './dataset-cache';

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
  /** The backend report of the interpreter that will train it (the Python trainer rewrites it with its own at the start). */
  backend: { name: string } & Record<string, unknown>;
  onProgress?: (what: 'decode' | 'cache', done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface PreparedRun {
  config: RunConfigFile;
  cache: DatasetCacheIndex;
}

export async function prepareRun(options: PrepareOptions): Promise<PreparedRun> {
  const { model, settings, dataset: spec } = options;
  const dataset = await loadDataset(spec, {
    inputShape: model.inputShape, valFraction: settings.valFraction, seed: settings.seed, signal: options.signal,
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
